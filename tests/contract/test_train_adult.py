"""The real `train` entry point, as a process over a temporary /opt/ml, on the lab's Adult splits."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb
from sklearn.metrics import f1_score, roc_auc_score

from tests.conftest import LAB_BUILTIN_HP, MlTree
from xgboost_byoc.metrics import metric_names, parse_log_line

pytestmark = pytest.mark.adult

QUALITY_HP = {
    "objective": "binary:logistic",
    "eval_metric": "auc",
    "eta": "0.05",
    "max_depth": "6",
    "subsample": "0.8",
    "colsample_bytree": "0.8",
    "num_round": "2000",
    "early_stopping_rounds": "50",
    "kfold": "5",
}


def adult(adult_dir: Path, split: str) -> Path:
    return adult_dir / f"adult_data_processed_{split}.csv"


def load_test(adult_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    data = np.loadtxt(adult(adult_dir, "test"), delimiter=",", dtype=np.float32)
    return data[:, 1:], data[:, 0]


def booster(path: Path) -> xgb.Booster:
    model = xgb.Booster()
    model.load_model(bytearray(path.read_bytes()))
    return model


def last_logged(stdout: str, names: list[str]) -> dict[str, float]:
    last: dict[str, float] = {}
    for line in stdout.splitlines():
        last.update(parse_log_line(line, names))
    return last


def run(ml_root: MlTree, adult_dir: Path, hp: dict[str, str], validation: bool = True) -> MlTree:
    ml_root.hyperparameters(hp).channel("train", [adult(adult_dir, "train")])
    if validation:
        ml_root.channel("validation", [adult(adult_dir, "validation")])
    result = ml_root.run_train()
    assert result.returncode == 0, result.stderr[-3000:]
    return ml_root


@pytest.fixture(scope="module")
def quality_run(tmp_path_factory: pytest.TempPathFactory, adult_dir: Path) -> tuple[MlTree, str]:
    tree = MlTree(tmp_path_factory.mktemp("quality"))
    tree.hyperparameters(QUALITY_HP).channel("train", [adult(adult_dir, "train")])
    tree.channel("validation", [adult(adult_dir, "validation")])
    result = tree.run_train()
    assert result.returncode == 0, result.stderr[-3000:]
    return tree, result.stdout


def test_lab_builtin_hyperparameters_train_a_model(ml_root: MlTree, adult_dir: Path) -> None:
    run(ml_root, adult_dir, LAB_BUILTIN_HP)
    assert (ml_root.output / "success").exists() and not (ml_root.output / "failure").exists()
    assert (ml_root.model_dir / "xgboost-model").read_bytes()[:1] == b"{"  # UBJSON
    model = booster(ml_root.model_dir / "xgboost-model")
    assert model.num_boosted_rounds() == 800
    X, y = load_test(adult_dir)
    assert roc_auc_score(y, model.inplace_predict(X)) > 0.915  # the lab's figure: 0.921
    manifest = ml_root.manifest()
    assert manifest["xgboost_version"] == xgb.__version__
    assert manifest["num_features"] == 13 and manifest["objective"] == "binary:logistic"
    assert manifest["classes"] == [0, 1] and manifest["cv"] is None
    assert manifest["threshold"]["source"].startswith("validation channel")
    metrics = ml_root.metrics()
    assert {"train:logloss", "validation:logloss", "best_iteration", "threshold"} <= metrics.keys()
    assert not (ml_root.output / "data" / "oof_predictions.csv").exists()  # no k-fold, no OOF


def test_kfold_quality_is_honest_on_the_test_split(quality_run: tuple[MlTree, str], adult_dir: Path) -> None:
    tree, _ = quality_run
    X, y = load_test(adult_dir)
    prob = booster(tree.model_dir / "xgboost-model").inplace_predict(X)
    test_auc = roc_auc_score(y, prob)
    metrics = tree.metrics()
    assert test_auc >= 0.923
    assert abs(metrics["cv:auc"] - test_auc) <= 0.005, (metrics["cv:auc"], test_auc)
    threshold = tree.manifest()["threshold"]
    assert threshold["source"] == "out-of-fold predictions" and threshold["value"] == metrics["threshold"]
    assert f1_score(y, prob >= threshold["value"], average="macro") >= 0.810


def test_kfold_writes_metrics_and_oof_predictions(quality_run: tuple[MlTree, str], adult_dir: Path) -> None:
    tree, _ = quality_run
    metrics = tree.metrics()
    assert {"cv:auc", "cv:auc_std", "train:auc", "validation:auc", "best_iteration"} <= metrics.keys()
    assert 0 < metrics["cv:auc_std"] < 0.02
    with (tree.output / "data" / "oof_predictions.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 17343
    assert sorted({r["fold"] for r in rows}) == ["0", "1", "2", "3", "4"]
    labels = np.loadtxt(adult(adult_dir, "train"), delimiter=",", usecols=0)
    assert np.array_equal([float(r["label"]) for r in rows], labels)
    oof = np.array([float(r["prediction"]) for r in rows])
    # out-of-fold AUC is an honest estimate too: close to the mean of the fold AUCs
    assert abs(roc_auc_score(labels, oof) - metrics["cv:auc"]) < 0.005
    manifest = tree.manifest()
    assert manifest["cv"]["folds"] == 5 and len(manifest["cv"]["per_fold"]["cv:auc"]) == 5
    assert booster(tree.model_dir / "xgboost-model").num_boosted_rounds() == metrics["best_iteration"] + 1


def test_last_logged_value_of_each_metric_is_the_saved_models(quality_run: tuple[MlTree, str], adult_dir: Path) -> None:
    tree, stdout = quality_run
    metrics = tree.metrics()
    logged = last_logged(stdout, metric_names(["auc"], kfold=True))
    assert set(logged) == {"train:auc", "validation:auc", "cv:auc", "cv:auc_std"}
    for name, value in logged.items():
        assert value == pytest.approx(metrics[name], abs=5e-7), name
    model = booster(tree.model_dir / "xgboost-model")
    valid = np.loadtxt(adult(adult_dir, "validation"), delimiter=",", dtype=np.float32)
    assert roc_auc_score(valid[:, 0], model.inplace_predict(valid[:, 1:])) == pytest.approx(
        logged["validation:auc"], abs=1e-5
    )


def test_each_fold_is_scored_only_on_its_own_held_out_rows(quality_run: tuple[MlTree, str]) -> None:
    tree, _ = quality_run
    metrics = tree.metrics()
    # fold models score higher on their own training rows than on held-out rows; a leaky CV would not
    assert metrics["cv:train_auc"] > metrics["cv:auc"] + 0.01


def test_early_stopping_without_kfold_saves_the_best_round(ml_root: MlTree, adult_dir: Path) -> None:
    hp = {**LAB_BUILTIN_HP, "eval_metric": "logloss,auc", "early_stopping_rounds": "20", "eta": "0.3"}
    run(ml_root, adult_dir, hp)
    metrics = ml_root.metrics()
    model = booster(ml_root.model_dir / "xgboost-model")
    assert model.num_boosted_rounds() == metrics["best_iteration"] + 1 < 800


def test_same_seed_gives_same_folds_and_model(tmp_path: Path, adult_dir: Path) -> None:
    hp = {**LAB_BUILTIN_HP, "num_round": "30", "kfold": "3", "seed": "11"}
    first = run(MlTree(tmp_path / "a"), adult_dir, hp, validation=False)
    second = run(MlTree(tmp_path / "b"), adult_dir, hp, validation=False)
    other = run(MlTree(tmp_path / "c"), adult_dir, {**hp, "kfold_seed": "12"}, validation=False)
    oof = "output/data/oof_predictions.csv"
    assert (first.base / oof).read_bytes() == (second.base / oof).read_bytes()
    assert (first.model_dir / "xgboost-model").read_bytes() == (second.model_dir / "xgboost-model").read_bytes()
    folds = lambda tree: [row.split(",")[3] for row in (tree.base / oof).read_text().splitlines()[1:]]  # noqa: E731
    assert folds(first) != folds(other)


def test_ensemble_keeps_fold_models_and_scores_their_average(ml_root: MlTree, adult_dir: Path) -> None:
    from xgboost_byoc.artifacts import load_model

    hp = {**LAB_BUILTIN_HP, "num_round": "40", "kfold": "3", "kfold_model": "ensemble", "eval_metric": "auc"}
    run(ml_root, adult_dir, hp)
    names = sorted(p.name for p in ml_root.model_dir.iterdir())
    assert names == ["manifest.json", "xgboost-model-fold-0", "xgboost-model-fold-1", "xgboost-model-fold-2"]
    model = load_model(ml_root.model_dir)
    valid = np.loadtxt(adult(adult_dir, "validation"), delimiter=",", dtype=np.float32)
    prob = model.predict(valid[:, 1:])
    margins = np.mean([b.inplace_predict(valid[:, 1:], predict_type="margin") for b in model.boosters], axis=0)
    assert np.allclose(prob, 1 / (1 + np.exp(-margins)), atol=1e-6)
    assert ml_root.metrics()["validation:auc"] == pytest.approx(roc_auc_score(valid[:, 0], prob), abs=1e-5)


def test_repeated_kfold_writes_one_oof_block_per_repeat(ml_root: MlTree, adult_dir: Path) -> None:
    hp = {**LAB_BUILTIN_HP, "num_round": "20", "kfold": "3", "kfold_repeats": "2"}
    run(ml_root, adult_dir, hp, validation=False)
    lines = (ml_root.output / "data" / "oof_predictions.csv").read_text().splitlines()
    assert len(lines) == 1 + 2 * 17343
    assert ml_root.manifest()["cv"]["repeats"] == 2 and len(ml_root.manifest()["cv"]["per_fold"]["cv:logloss"]) == 6


def test_headered_splits_with_weights_column_declared(ml_root: MlTree, adult_dir: Path) -> None:
    hp = {**LAB_BUILTIN_HP, "num_round": "20"}
    run_tree = ml_root.hyperparameters(hp).channel("train", [adult_dir / "adult_data_processed_train_wheaders.csv"])
    result = run_tree.run_train()
    assert result.returncode == 0, result.stderr[-2000:]
    assert ml_root.manifest()["feature_names"] == [f"col{i}" for i in range(2, 15)]
