"""Several hosts: the real `train` started N times on 127.0.0.1, one /opt/ml tree per host, joined by
XGBoost's tracker; the Adult splits; failures that must end (bounded) with a message, never a hang."""

from __future__ import annotations

import io
import json
import signal
import time
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from tests.conftest import LAB_BUILTIN_HP, MlTree, host_trees, run_hosts, start_hosts, wait_hosts

pytestmark = [pytest.mark.slow]
HP = {**LAB_BUILTIN_HP, "num_round": "300", "kfold": "3", "eval_metric": "auc"}  # as adult_model's
SHORT = {"XGB_BYOC_COLLECTIVE_TIMEOUT": "15"}


def auc_on(model_dir: Path, test: np.ndarray) -> float:
    import xgboost as xgb

    booster = xgb.Booster()
    booster.load_model(bytearray((model_dir / "xgboost-model").read_bytes()))
    return float(roc_auc_score(test[:, 0], booster.inplace_predict(test[:, 1:])))


@pytest.mark.adult
@pytest.mark.parametrize("hosts", [2, 3])
def test_hosts_train_one_model_as_good_as_one_host(
    hosts: int, tmp_path: Path, adult_dir: Path, adult_model: MlTree
) -> None:
    train = adult_dir / "adult_data_processed_train.csv"
    validation = adult_dir / "adult_data_processed_validation.csv"
    trees = host_trees(tmp_path, hosts)
    for tree in trees:
        tree.hyperparameters(HP).channel("train", [train]).channel("validation", [validation])
    results = run_hosts(trees, timeout=600)
    for tree, result in zip(trees, results, strict=True):
        assert result.returncode == 0, result.stdout[-3000:]
        assert (tree.output / "success").exists()
    master, workers = trees[0], trees[1:]
    assert sorted(p.name for p in master.model_dir.iterdir()) == ["manifest.json", "xgboost-model"]
    for worker in workers:  # SageMaker merges every host's /opt/ml/model: only the first host writes one
        assert not any(worker.model_dir.iterdir()) if worker.model_dir.exists() else True

    # rows per host: reported, disjoint slices, adding up to each channel
    metrics = json.loads((master.output / "data" / "metrics.json").read_text())
    train_rows = sum(1 for _ in train.open())
    valid_rows = sum(1 for _ in validation.open())
    per_host = metrics["rows_per_host"]
    assert list(per_host["train"]) == [f"algo-{i + 1}" for i in range(hosts)]
    assert sum(per_host["train"].values()) == train_rows
    assert sum(per_host["validation"].values()) == valid_rows
    assert max(per_host["train"].values()) - min(per_host["train"].values()) <= 1
    for result in results:
        assert "train rows per host: " + ", ".join(f"{h} {n}" for h, n in per_host["train"].items()) in result.stdout

    # the model is as good as the single-host one (same hyperparameters, same data)
    test = np.loadtxt(adult_dir / "adult_data_processed_test.csv", delimiter=",")
    single, several = auc_on(adult_model.model_dir, test), auc_on(master.model_dir, test)
    assert abs(several - single) <= 0.002, (single, several)

    # k-fold across hosts: one OOF prediction per training row, in the channel's row order
    oof = np.loadtxt(master.output / "data" / "oof_predictions.csv", delimiter=",", skiprows=1)
    labels = np.loadtxt(train, delimiter=",", usecols=0)
    assert oof.shape[0] == train_rows
    assert np.array_equal(oof[:, 0], np.arange(train_rows)) and np.array_equal(oof[:, 1], labels)
    assert sorted(np.unique(oof[:, 3])) == [0, 1, 2]
    assert abs(roc_auc_score(labels, oof[:, 4]) - metrics["cv:auc"]) < 0.01
    manifest = json.loads((master.model_dir / "manifest.json").read_text())
    assert manifest["training_rows"] == train_rows
    assert 0.3 < manifest["threshold"]["value"] < 0.8


def small_tree(tree: MlTree, rows: int = 400, sharded: bool = False) -> MlTree:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(rows, 4))
    y = (X[:, 0] + 0.3 * rng.normal(size=rows) > 0).astype(int)
    body = "\n".join(",".join([str(label), *(f"{v:.5f}" for v in row)]) for label, row in zip(y, X, strict=True))
    tree.channel("train", [("train.csv", body + "\n")])
    if sharded:
        config_file = tree.base / "input" / "config" / "inputdataconfig.json"
        config = json.loads(config_file.read_text())
        config["train"]["S3DistributionType"] = "ShardedByS3Key"
        config_file.write_text(json.dumps(config))
    return tree


def test_a_host_with_no_rows_fails_every_host_naming_it(tmp_path: Path) -> None:
    trees = host_trees(tmp_path, 3)
    for tree in trees:
        tree.hyperparameters({"objective": "binary:logistic", "num_round": "5"})
        small_tree(tree, rows=2)  # FullyReplicated: 2 rows for 3 hosts, algo-3 gets none
    started = time.monotonic()
    results = run_hosts(trees, timeout=120, env=SHORT)
    assert time.monotonic() - started < 60
    for tree, result in zip(trees, results, strict=True):
        assert result.returncode == 2, result.stdout[-2000:]
        assert tree.failure().splitlines()[0].startswith("host(s) algo-3 have no rows of the train channel (3 hosts)")


def test_tracker_that_cannot_be_reached_fails_within_the_timeout(tmp_path: Path) -> None:
    [_, second] = host_trees(tmp_path, 2)  # the first host (and its tracker) never starts
    second.hyperparameters({"objective": "binary:logistic", "num_round": "5"})
    small_tree(second)
    started = time.monotonic()
    [result] = wait_hosts(start_hosts([second], env=SHORT), timeout=240)
    elapsed = time.monotonic() - started
    assert result.returncode != 0 and elapsed < 200, (elapsed, result.stdout[-2000:])
    assert "host algo-2 cannot join the tracker at 127.0.0.1:" in second.failure().splitlines()[0]
    assert "Connection refused); is the first host (algo-1) up?" in second.failure().splitlines()[0]


def test_a_host_that_dies_fails_the_others_within_the_timeout(tmp_path: Path) -> None:
    trees = host_trees(tmp_path, 2)
    for tree in trees:
        tree.hyperparameters({"objective": "binary:logistic", "num_round": "1000000", "eval_metric": "auc"})
        small_tree(tree, rows=4000)
    hosts = start_hosts(trees, env=SHORT)
    try:
        deadline = time.monotonic() + 120
        while "[20]\t" not in hosts[1].text() and time.monotonic() < deadline:
            assert hosts[1].proc.poll() is None, hosts[1].text()[-2000:]
            time.sleep(0.2)
        assert "[20]\t" in hosts[1].text(), "training never got going"
        hosts[1].proc.send_signal(signal.SIGKILL)  # the host vanishes: no goodbye to the others
        killed = time.monotonic()
        [first, _] = wait_hosts(hosts, timeout=180)
    finally:
        for host in hosts:
            if host.proc.poll() is None:
                host.proc.kill()
                host.proc.wait()
    assert first.returncode == 3, first.stdout[-2000:]
    assert time.monotonic() - killed < 120
    headline = trees[0].failure().splitlines()[0]
    assert headline.startswith("distributed training failed on host algo-1 ("), headline
    assert "another host stopped or is unreachable (each waits 15 s; see the other hosts' logs)" in headline
    assert not (trees[0].model_dir / "xgboost-model").exists()


def test_sigterm_on_one_host_stops_all_after_the_same_round(tmp_path: Path) -> None:
    trees = host_trees(tmp_path, 2)
    for tree in trees:
        tree.hyperparameters({"objective": "binary:logistic", "num_round": "1000000", "eval_metric": "auc"})
        small_tree(tree, rows=4000)
        (tree.base / "checkpoints").mkdir()
    hosts = start_hosts(trees, env=SHORT)
    try:
        deadline = time.monotonic() + 120
        while "[20]\t" not in hosts[0].text() and time.monotonic() < deadline:
            time.sleep(0.2)
        hosts[1].proc.send_signal(signal.SIGTERM)  # SageMaker signals every host; one is enough to stop all
        results = wait_hosts(hosts, timeout=120)
    finally:
        for host in hosts:
            if host.proc.poll() is None:
                host.proc.kill()
                host.proc.wait()
    assert [r.returncode for r in results] == [143, 143], [r.stdout[-1500:] for r in results]
    rounds = {tree.failure().splitlines()[0].split(" after round ")[1].split(";")[0] for tree in trees}
    assert len(rounds) == 1, rounds  # the same round everywhere
    for tree in trees:
        assert any((tree.base / "checkpoints").iterdir())


def test_exact_tree_method_is_refused_for_several_hosts(tmp_path: Path) -> None:
    [first] = host_trees(tmp_path, 2)[:1]
    first.hyperparameters({"objective": "binary:logistic", "num_round": "5", "tree_method": "exact"})
    small_tree(first)
    [result] = run_hosts([first], timeout=60, env=SHORT)
    assert result.returncode == 2
    assert first.failure().startswith("tree_method=exact cannot train across hosts; use hist (the default) or approx")


def test_sharded_channels_use_every_row_of_each_host_once(tmp_path: Path) -> None:
    """ShardedByS3Key: each host has its own files; k-fold and the OOF file span both hosts' rows."""
    rng = np.random.default_rng(5)
    trees = host_trees(tmp_path, 2)
    shards = []
    for i, tree in enumerate(trees):
        rows = 300 + 57 * i  # unequal shards
        X = rng.normal(size=(rows, 4))
        y = (X[:, 0] + 0.5 * rng.normal(size=rows) > 0).astype(int)
        shards.append(y)
        body = "\n".join(",".join([str(v), *(f"{x:.5f}" for x in row)]) for v, row in zip(y, X, strict=True))
        tree.hyperparameters({"objective": "binary:logistic", "num_round": "20", "kfold": "2", "eval_metric": "auc"})
        tree.channel("train", [(f"shard-{i}.csv", body + "\n")])
        config_file = tree.base / "input" / "config" / "inputdataconfig.json"
        config = json.loads(config_file.read_text())
        config["train"]["S3DistributionType"] = "ShardedByS3Key"
        config_file.write_text(json.dumps(config))
    results = run_hosts(trees, timeout=300, env=SHORT)
    assert [r.returncode for r in results] == [0, 0], [r.stdout[-2000:] for r in results]
    metrics = json.loads((trees[0].output / "data" / "metrics.json").read_text())
    assert metrics["rows_per_host"]["train"] == {"algo-1": 300, "algo-2": 357}
    oof = np.loadtxt(trees[0].output / "data" / "oof_predictions.csv", delimiter=",", skiprows=1)
    assert oof.shape[0] == 657 and np.array_equal(oof[:, 0], np.arange(657))
    assert np.array_equal(oof[:, 1], np.concatenate(shards))  # the first host's rows, then the second's
    assert json.loads((trees[0].model_dir / "manifest.json").read_text())["training_rows"] == 657


@pytest.mark.parametrize("seed", [1, 2, 3, 4])  # a float64 midpoint is a float32 value half the time
def test_a_threshold_chosen_on_validation_across_hosts_is_a_float32_value(tmp_path: Path, seed: int) -> None:
    """Without k-fold the threshold comes from the gathered validation predictions, which travel as
    float64: they come back as the float32 XGBoost made, so the threshold is the one a single process
    picks from the model's own (float32) predictions, and served float32 predictions split the same."""
    import xgboost as xgb

    from xgboost_byoc.evaluation import best_threshold

    trees = host_trees(tmp_path, 2)
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(300, 4))
    y = (X[:, 0] + 0.5 * rng.normal(size=300) > 0).astype(int)
    body = "\n".join(",".join([str(label), *(f"{v:.5f}" for v in row)]) for label, row in zip(y, X, strict=True))
    for tree in trees:
        tree.hyperparameters({"objective": "binary:logistic", "num_round": "10"})
        small_tree(tree)
        tree.channel("validation", [("validation.csv", body + "\n")])
    results = run_hosts(trees, timeout=300, env=SHORT)
    assert all(r.returncode == 0 for r in results), results[0].stdout[-2000:]
    threshold = json.loads((trees[0].model_dir / "manifest.json").read_text())["threshold"]
    assert threshold["source"].startswith("validation channel")
    booster = xgb.Booster()
    booster.load_model(bytearray((trees[0].model_dir / "xgboost-model").read_bytes()))
    valid = np.loadtxt(io.StringIO(body), delimiter=",", dtype=np.float32)
    prob = booster.inplace_predict(valid[:, 1:])
    assert prob.dtype == np.float32
    assert threshold["value"] == best_threshold(valid[:, 0], prob, "macro_f1")[0]
    assert float(np.float32(threshold["value"])) == threshold["value"]
