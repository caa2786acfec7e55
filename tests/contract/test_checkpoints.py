"""Checkpoint and resume: SIGTERM mid-training writes a checkpoint and a failure file; the restarted job
resumes from it and its model predicts exactly like an uninterrupted run's."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb

from tests.conftest import LAB_BUILTIN_HP, MlTree, entry_point

pytestmark = pytest.mark.adult
# the lab's hyperparameters, subsample=0.7 included: with checkpoints the job draws the rows itself, so a
# resumed job redraws the same rows (column sampling resumes with a warning; see the README)
HP = {
    **LAB_BUILTIN_HP,
    "num_round": "400",
    "kfold": "3",
    "eval_metric": "auc",
    "early_stopping_rounds": "30",
    "checkpoint_interval": "5",
    "seed": "3",
}


def tree_with_data(base: Path, adult_dir: Path, hp: dict[str, str]) -> MlTree:
    tree = MlTree(base)
    tree.hyperparameters(hp).channel("train", [adult_dir / "adult_data_processed_train.csv"])
    tree.channel("validation", [adult_dir / "adult_data_processed_validation.csv"])
    (base / "checkpoints").mkdir()
    return tree


def predictions(tree: MlTree, X: np.ndarray) -> np.ndarray:
    booster = xgb.Booster()
    booster.load_model(bytearray((tree.model_dir / "xgboost-model").read_bytes()))
    return booster.predict(xgb.DMatrix(X))


def test_sigterm_checkpoints_and_the_restart_resumes_to_the_same_model(tmp_path: Path, adult_dir: Path) -> None:
    tree = tree_with_data(tmp_path / "interrupted", adult_dir, HP)
    env = {**os.environ, "SAGEMAKER_BASE_DIR": str(tree.base)}
    process = subprocess.Popen(
        [entry_point("train")], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    state = tree.base / "checkpoints" / "xgb-byoc-cv" / "state.json"
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and process.poll() is None:
            if state.exists() and json.loads(state.read_text())["rounds_run"] >= 20:
                break
            time.sleep(0.05)
        assert process.poll() is None, "training finished before it could be interrupted"
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
    assert process.returncode == 143, stderr[-2000:]
    first_line = tree.failure().splitlines()[0]
    assert first_line.startswith("training stopped by SIGTERM after round ") and "resumes from it" in first_line
    stopped_at = json.loads(state.read_text())
    assert stopped_at["finished"] is False and stopped_at["rounds_run"] >= 20
    assert not (tree.model_dir / "xgboost-model").exists()

    resumed = tree.run_train()
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert f"resuming cv from its checkpoint after round {stopped_at['rounds_run'] - 1}" in resumed.stderr

    reference = tree_with_data(tmp_path / "uninterrupted", adult_dir, HP)
    assert reference.run_train().returncode == 0
    X = np.loadtxt(adult_dir / "adult_data_processed_test.csv", delimiter=",", dtype=np.float32)[:, 1:]
    np.testing.assert_allclose(predictions(tree, X), predictions(reference, X), atol=1e-6)
    assert tree.metrics()["best_iteration"] == reference.metrics()["best_iteration"]
    assert tree.metrics()["cv:auc"] == pytest.approx(reference.metrics()["cv:auc"], abs=1e-9)


def test_a_finished_phase_is_not_trained_again(tmp_path: Path, adult_dir: Path) -> None:
    hp = {**HP, "num_round": "30", "early_stopping_rounds": "10"}
    tree = tree_with_data(tmp_path / "opt_ml", adult_dir, hp)
    assert tree.run_train().returncode == 0
    first = predictions(tree, np.zeros((3, 13), np.float32))
    again = tree.run_train()
    assert again.returncode == 0
    assert "resuming cv from its checkpoint" in again.stderr and "(already complete)" in again.stderr
    np.testing.assert_allclose(predictions(tree, np.zeros((3, 13), np.float32)), first, atol=1e-7)


def test_resuming_with_column_sampling_warns_that_trees_may_differ(tmp_path: Path, adult_dir: Path) -> None:
    hp = {**HP, "num_round": "20", "early_stopping_rounds": "10", "colsample_bytree": "0.7"}
    tree = tree_with_data(tmp_path / "opt_ml", adult_dir, hp)
    assert tree.run_train().returncode == 0
    again = tree.run_train()
    assert again.returncode == 0 and "XGBoost does not save its random state" in again.stderr


def test_a_checkpoint_of_other_settings_is_ignored(tmp_path: Path, adult_dir: Path) -> None:
    hp = {**HP, "num_round": "20", "early_stopping_rounds": "10"}
    tree = tree_with_data(tmp_path / "opt_ml", adult_dir, hp)
    assert tree.run_train().returncode == 0
    tree.hyperparameters({**hp, "eta": "0.3"})
    changed = tree.run_train()
    assert changed.returncode == 0
    assert "belongs to another job" in changed.stderr and "resuming" not in changed.stderr
