"""Threshold-dependent scores for binary classifiers, vectorised over every candidate threshold.

A row is predicted positive when its probability is >= the threshold. ``best_threshold`` scores every
distinct predicted value at once (one sort, cumulative counts) and returns the midpoint between the best
cut and the next lower distinct value, so new rows that fall between training scores are cut the same
way. The tests check these numbers against scikit-learn's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

THRESHOLD_METRICS = ("macro_f1", "f1", "accuracy")


@dataclass(frozen=True)
class Counts:
    tp: np.ndarray
    fp: np.ndarray
    tn: np.ndarray
    fn: np.ndarray

    def scores(self) -> dict[str, np.ndarray]:
        with np.errstate(divide="ignore", invalid="ignore"):
            total = self.tp + self.fp + self.tn + self.fn
            f1_pos = _safe(2 * self.tp, 2 * self.tp + self.fp + self.fn)
            f1_neg = _safe(2 * self.tn, 2 * self.tn + self.fn + self.fp)
            return {
                "accuracy": _safe(self.tp + self.tn, total),
                "precision": _safe(self.tp, self.tp + self.fp),
                "recall": _safe(self.tp, self.tp + self.fn),
                "f1": f1_pos,
                "macro_f1": (f1_pos + f1_neg) / 2,
            }


def _safe(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num/den with 0 where den is 0 (scikit-learn's zero_division=0)."""
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    return np.divide(num, den, out=np.zeros_like(num), where=den != 0)


def _weights(y: np.ndarray, weight: np.ndarray | None) -> np.ndarray:
    return np.ones(len(y)) if weight is None else np.asarray(weight, dtype=np.float64)


def counts_at(y: np.ndarray, prob: np.ndarray, threshold: float, weight: np.ndarray | None = None) -> Counts:
    w = _weights(y, weight)
    pos = np.asarray(y) == 1
    pred = np.asarray(prob) >= threshold
    return Counts(
        tp=np.array(w[pos & pred].sum()),
        fp=np.array(w[~pos & pred].sum()),
        tn=np.array(w[~pos & ~pred].sum()),
        fn=np.array(w[pos & ~pred].sum()),
    )


def scores_at(y: np.ndarray, prob: np.ndarray, threshold: float, weight: np.ndarray | None = None) -> dict[str, float]:
    return {k: float(v) for k, v in counts_at(y, prob, threshold, weight).scores().items()}


def _ranked_counts(y: np.ndarray, prob: np.ndarray, weight: np.ndarray | None) -> tuple[np.ndarray, ...]:
    """Cumulative (tp, fp) at each distinct score, highest first, and those scores."""
    prob = np.asarray(prob, dtype=np.float64)
    w = _weights(y, weight)
    order = np.argsort(-prob, kind="mergesort")
    sorted_prob = prob[order]
    pos_w = np.where(np.asarray(y)[order] == 1, w[order], 0.0)
    neg_w = w[order] - pos_w
    last = np.flatnonzero(np.append(sorted_prob[1:] != sorted_prob[:-1], True))
    return np.cumsum(pos_w)[last], np.cumsum(neg_w)[last], sorted_prob[last]


def best_threshold(
    y: np.ndarray, prob: np.ndarray, metric: str = "macro_f1", weight: np.ndarray | None = None
) -> tuple[float, float]:
    """(threshold, score): the cut on ``prob`` that maximises ``metric`` over all distinct cuts."""
    if metric not in THRESHOLD_METRICS:
        raise ValueError(f"unknown threshold metric {metric!r}")
    tp_run, fp_run, distinct = _ranked_counts(y, prob, weight)  # cut after each run of equal scores
    tp = np.concatenate([[0.0], tp_run])
    fp = np.concatenate([[0.0], fp_run])
    counts = Counts(tp=tp, fp=fp, tn=fp_run[-1] - fp, fn=tp_run[-1] - tp)
    score = counts.scores()[metric]
    best = int(np.argmax(score))
    if best == 0:  # nothing positive: cut just above the highest score
        threshold = float(np.nextafter(distinct[0], np.inf))
    elif best < len(distinct):  # midway between the lowest positive score and the next lower one
        threshold = float((distinct[best - 1] + distinct[best]) / 2)
    else:  # everything positive
        threshold = float(distinct[best - 1])
    return threshold, float(score[best])


# ------------------------------------------------------------------------------- curves and reports


def roc_curve(
    y: np.ndarray, prob: np.ndarray, weight: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, float]:
    """(false positive rate, true positive rate, area under the curve), as scikit-learn computes them."""
    tp, fp, _ = _ranked_counts(y, prob, weight)
    tpr = np.concatenate([[0.0], tp / tp[-1]]) if tp[-1] > 0 else np.zeros(len(tp) + 1)
    fpr = np.concatenate([[0.0], fp / fp[-1]]) if fp[-1] > 0 else np.zeros(len(fp) + 1)
    return fpr, tpr, float(np.trapezoid(tpr, fpr))


def precision_recall_curve(
    y: np.ndarray, prob: np.ndarray, weight: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, float]:
    """(recall, precision, average precision) — AP as scikit-learn's sum of (R_n - R_n-1) P_n."""
    tp, fp, _ = _ranked_counts(y, prob, weight)
    precision = tp / (tp + fp)
    recall = tp / tp[-1] if tp[-1] > 0 else np.zeros_like(tp)
    ap = float(np.sum(np.diff(np.concatenate([[0.0], recall])) * precision))
    return np.concatenate([[0.0], recall]), np.concatenate([[1.0], precision]), ap


def calibration_curve(y: np.ndarray, prob: np.ndarray, bins: int = 10) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mean predicted probability, observed positive rate, rows) per non-empty uniform bin."""
    edges = np.linspace(0.0, 1.0 + 1e-8, bins + 1)  # scikit-learn's uniform bins: [a, b), last one closed
    index = np.searchsorted(edges[1:-1], prob)
    counts = np.bincount(index, minlength=bins)
    predicted = np.bincount(index, weights=prob, minlength=bins)
    observed = np.bincount(index, weights=np.asarray(y, dtype=np.float64), minlength=bins)
    keep = counts > 0
    return predicted[keep] / counts[keep], observed[keep] / counts[keep], counts[keep]


def confusion_matrix(y: np.ndarray, pred: np.ndarray, classes: int) -> np.ndarray:
    """counts[true class, predicted class]."""
    index = np.asarray(y, dtype=np.int64) * classes + np.asarray(pred, dtype=np.int64)
    return np.bincount(index, minlength=classes * classes).reshape(classes, classes)


def classification_report(matrix: np.ndarray) -> dict[str, dict[str, float]]:
    """Per class precision / recall / F1 / support, macro and weighted averages, and accuracy."""
    tp = np.diag(matrix).astype(np.float64)
    support = matrix.sum(axis=1).astype(np.float64)
    predicted = matrix.sum(axis=0).astype(np.float64)
    precision = _safe(tp, predicted)
    recall = _safe(tp, support)
    f1 = _safe(2 * precision * recall, precision + recall)
    report: dict[str, dict[str, float]] = {
        str(c): {"precision": precision[c], "recall": recall[c], "f1": f1[c], "support": support[c]}
        for c in range(len(tp))
    }
    total = support.sum()
    for name, w in (("macro avg", np.full(len(tp), 1 / len(tp))), ("weighted avg", support / total)):
        report[name] = {
            "precision": float(np.sum(w * precision)),
            "recall": float(np.sum(w * recall)),
            "f1": float(np.sum(w * f1)),
            "support": float(total),
        }
    report["accuracy"] = {"value": float(tp.sum() / total), "support": float(total)}
    return {k: {m: float(v) for m, v in d.items()} for k, d in report.items()}
