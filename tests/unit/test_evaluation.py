from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score

from xgboost_byoc.evaluation import best_threshold, scores_at


def sample(seed: int, n: int = 400) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(np.float32)
    prob = np.clip(y * 0.3 + rng.random(n) * 0.7, 0, 1).round(2)  # rounding makes ties
    return y, prob


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_scores_equal_scikit_learns(seed: int) -> None:
    y, prob = sample(seed)
    got = scores_at(y, prob, 0.5)
    pred = prob >= 0.5
    assert got["accuracy"] == pytest.approx(accuracy_score(y, pred))
    assert got["precision"] == pytest.approx(precision_score(y, pred, zero_division=0))
    assert got["recall"] == pytest.approx(recall_score(y, pred))
    assert got["f1"] == pytest.approx(f1_score(y, pred))
    assert got["macro_f1"] == pytest.approx(f1_score(y, pred, average="macro"))


@pytest.mark.parametrize("metric", ["macro_f1", "f1", "accuracy"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_best_threshold_beats_or_equals_every_cut(metric: str, seed: int) -> None:
    y, prob = sample(seed)
    threshold, score = best_threshold(y, prob, metric)
    scorer = {
        "macro_f1": lambda p: f1_score(y, p, average="macro"),
        "f1": lambda p: f1_score(y, p),
        "accuracy": lambda p: accuracy_score(y, p),
    }[metric]
    brute = max(scorer(prob >= t) for t in np.unique(prob))
    assert score == pytest.approx(brute)
    assert scorer(prob >= threshold) == pytest.approx(score)  # the returned cut reproduces the score


def test_weighted_scores_equal_scikit_learns() -> None:
    y, prob = sample(5)
    w = np.random.default_rng(5).random(len(y))
    threshold, score = best_threshold(y, prob, "macro_f1", w)
    assert f1_score(y, prob >= threshold, average="macro", sample_weight=w) == pytest.approx(score)


def test_threshold_lies_between_scores() -> None:
    y = np.array([0, 0, 1, 1])
    threshold, score = best_threshold(y, np.array([0.1, 0.2, 0.8, 0.9]), "accuracy")
    assert score == 1.0 and 0.2 < threshold <= 0.8


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_curves_equal_scikit_learns(seed: int) -> None:
    from sklearn.calibration import calibration_curve as sk_calibration
    from sklearn.metrics import average_precision_score, roc_auc_score

    from xgboost_byoc.evaluation import calibration_curve, precision_recall_curve, roc_curve

    y, prob = sample(seed)
    assert roc_curve(y, prob)[2] == pytest.approx(roc_auc_score(y, prob))
    assert precision_recall_curve(y, prob)[2] == pytest.approx(average_precision_score(y, prob))
    observed_sk, predicted_sk = sk_calibration(y, prob, n_bins=10, strategy="uniform")
    predicted, observed, _ = calibration_curve(y, prob, bins=10)
    np.testing.assert_allclose(predicted, predicted_sk)
    np.testing.assert_allclose(observed, observed_sk)


@pytest.mark.parametrize("classes", [2, 4])
def test_confusion_matrix_and_report_equal_scikit_learns(classes: int) -> None:
    from sklearn.metrics import classification_report as sk_report
    from sklearn.metrics import confusion_matrix as sk_confusion

    from xgboost_byoc.evaluation import classification_report, confusion_matrix

    rng = np.random.default_rng(classes)
    y = rng.integers(0, classes, 500)
    pred = np.where(rng.random(500) < 0.7, y, rng.integers(0, classes, 500))
    matrix = confusion_matrix(y, pred, classes)
    np.testing.assert_array_equal(matrix, sk_confusion(y, pred))
    mine = classification_report(matrix)
    theirs = sk_report(y, pred, output_dict=True, zero_division=0)
    for label in [str(c) for c in range(classes)] + ["macro avg", "weighted avg"]:
        for key, sk_key in (
            ("precision", "precision"),
            ("recall", "recall"),
            ("f1", "f1-score"),
            ("support", "support"),
        ):
            assert mine[label][key] == pytest.approx(theirs[label][sk_key]), (label, key)
    assert mine["accuracy"]["value"] == pytest.approx(theirs["accuracy"])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_scores_at_cuts_equal_scores_at_each_cut(seed: int, dtype: type) -> None:
    """One pass over the rows gives what 99 calls of scores_at give, rows exactly on a cut included
    (the probabilities are rounded to the cuts' own grid), weighted or not, NaN never positive."""
    from xgboost_byoc.evaluation import scores_at_cuts

    y, prob = sample(seed, 2000)
    prob = prob.astype(dtype)
    prob[:7] = np.nan
    weight = np.random.default_rng(seed).random(len(y))
    cuts = np.linspace(0.01, 0.99, 99)
    for w in (None, weight):
        got = scores_at_cuts(y, prob, cuts, w)
        for i, cut in enumerate(cuts):
            expected = scores_at(y, prob, cut, w)
            for key, value in expected.items():
                assert got[key][i] == pytest.approx(value, rel=1e-12, abs=1e-12), (cut, key)
    with pytest.raises(ValueError, match="ascending"):
        scores_at_cuts(y, prob, cuts[::-1])


def test_binary_curves_are_roc_and_pr_from_one_ranking() -> None:
    from xgboost_byoc.evaluation import binary_curves, precision_recall_curve, roc_curve

    y, prob = sample(3)
    roc, pr = binary_curves(y, prob)
    for mine, theirs in ((roc, roc_curve(y, prob)), (pr, precision_recall_curve(y, prob))):
        np.testing.assert_array_equal(mine[0], theirs[0])
        np.testing.assert_array_equal(mine[1], theirs[1])
        assert mine[2] == theirs[2]


@pytest.mark.parametrize("metric", ["macro_f1", "accuracy"])
def test_threshold_of_float32_scores_splits_the_same_in_float32_and_float64(metric: str) -> None:
    """Adjacent float32 scores: their float64 midpoint rounds onto one of them in float32, where a served
    model compares (float32 predictions >= a Python float). The threshold is a float32 value instead."""
    low = np.float32(0.3)
    high = np.nextafter(low, np.float32(1))  # one float32 step above
    prob = np.array([0.1, low, high, 0.9], dtype=np.float32)
    y = np.array([0, 0, 1, 1])
    threshold, score = best_threshold(y, prob, metric)
    assert score == 1.0
    np.testing.assert_array_equal(prob >= threshold, [False, False, True, True])  # float32 comparison
    np.testing.assert_array_equal(prob.astype(np.float64) >= threshold, [False, False, True, True])
    nothing = best_threshold(np.zeros(3), np.array([0.2, 0.5, 0.7], dtype=np.float32), "accuracy")[0]
    assert not np.any(np.array([0.2, 0.5, 0.7], dtype=np.float32) >= nothing)
