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
    pred = np.asarray(prob, dtype=np.float64) >= threshold  # exact: a float32 row is not rounded to the cut
    return Counts(
        tp=np.array(w[pos & pred].sum()),
        fp=np.array(w[~pos & pred].sum()),
        tn=np.array(w[~pos & ~pred].sum()),
        fn=np.array(w[pos & ~pred].sum()),
    )


def scores_at(y: np.ndarray, prob: np.ndarray, threshold: float, weight: np.ndarray | None = None) -> dict[str, float]:
    return {k: float(v) for k, v in counts_at(y, prob, threshold, weight).scores().items()}


def scores_at_cuts(
    y: np.ndarray, prob: np.ndarray, cuts: np.ndarray, weight: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """``scores_at`` for every threshold in ``cuts`` (ascending) in one pass over the rows.

    Each row falls in the bin of the cuts it reaches (``prob >= cut``, compared in float64 as
    ``scores_at`` compares), so each value equals ``scores_at(y, prob, cut)``.
    """
    prob = np.asarray(prob, dtype=np.float64)
    edges = np.asarray(cuts, dtype=np.float64)
    if np.any(np.diff(edges) < 0):
        raise ValueError("cuts must be ascending")
    w = _weights(y, weight)
    pos = np.asarray(y) == 1
    reached = np.searchsorted(edges, prob, side="right")  # how many cuts each row is >= to
    reached[np.isnan(prob)] = 0  # NaN >= cut is false: never predicted positive
    bins = len(edges) + 1
    pos_w = np.bincount(reached, weights=np.where(pos, w, 0.0), minlength=bins)
    neg_w = np.bincount(reached, weights=np.where(pos, 0.0, w), minlength=bins)
    # predicted positive at cut j: rows that reached more than j cuts
    tp = np.cumsum(pos_w[::-1])[::-1][1:]
    fp = np.cumsum(neg_w[::-1])[::-1][1:]
    return Counts(tp=tp, fp=fp, tn=neg_w.sum() - fp, fn=pos_w.sum() - tp).scores()


def _ranked_counts(y: np.ndarray, prob: np.ndarray, weight: np.ndarray | None) -> tuple[np.ndarray, ...]:
    """Cumulative (tp, fp) at each distinct score, highest first, and those scores."""
    prob = np.asarray(prob, dtype=np.float64)
    w = _weights(y, weight)
    order = np.argsort(-prob)  # rows of equal score are summed as one run, so their order is immaterial
    sorted_prob = prob[order]
    pos_w = np.where(np.asarray(y)[order] == 1, w[order], 0.0)
    neg_w = w[order] - pos_w
    last = np.flatnonzero(np.append(sorted_prob[1:] != sorted_prob[:-1], True))
    return np.cumsum(pos_w)[last], np.cumsum(neg_w)[last], sorted_prob[last]


def best_threshold(
    y: np.ndarray, prob: np.ndarray, metric: str = "macro_f1", weight: np.ndarray | None = None
) -> tuple[float, float]:
    """(threshold, score): the cut on ``prob`` that maximises ``metric`` over all distinct cuts.

    The threshold is a value of ``prob``'s own dtype (float32 predictions get a float32 threshold), so
    ``prob >= threshold`` splits the rows the same way whether it is compared in float32 (a served
    model's predictions against a Python float) or in float64.
    """
    if metric not in THRESHOLD_METRICS:
        raise ValueError(f"unknown threshold metric {metric!r}")
    tp_run, fp_run, distinct = _ranked_counts(y, prob, weight)  # cut after each run of equal scores
    tp = np.concatenate([[0.0], tp_run])
    fp = np.concatenate([[0.0], fp_run])
    counts = Counts(tp=tp, fp=fp, tn=fp_run[-1] - fp, fn=tp_run[-1] - tp)
    score = counts.scores()[metric]
    best = int(np.argmax(score))
    kind = np.asarray(prob).dtype
    as_prob = kind.type if kind.kind == "f" else np.float64
    if best == 0:  # nothing positive: cut just above the highest score
        threshold = np.nextafter(as_prob(distinct[0]), as_prob(np.inf))
    elif best < len(distinct):  # midway between the lowest positive score and the next lower one
        threshold = as_prob((distinct[best - 1] + distinct[best]) / 2)
        if threshold <= distinct[best]:  # the two are adjacent in prob's dtype: the midpoint rounds down
            threshold = as_prob(distinct[best - 1])
    else:  # everything positive
        threshold = as_prob(distinct[best - 1])
    return float(threshold), float(score[best])


# ------------------------------------------------------------------------------- curves and reports


def roc_curve(
    y: np.ndarray, prob: np.ndarray, weight: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, float]:
    """(false positive rate, true positive rate, area under the curve), as scikit-learn computes them."""
    return _roc(*_ranked_counts(y, prob, weight)[:2])


def precision_recall_curve(
    y: np.ndarray, prob: np.ndarray, weight: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, float]:
    """(recall, precision, average precision) — AP as scikit-learn's sum of (R_n - R_n-1) P_n."""
    return _precision_recall(*_ranked_counts(y, prob, weight)[:2])


def binary_curves(
    y: np.ndarray, prob: np.ndarray, weight: np.ndarray | None = None
) -> tuple[tuple[np.ndarray, np.ndarray, float], tuple[np.ndarray, np.ndarray, float]]:
    """``(roc_curve(...), precision_recall_curve(...))`` from one ranking of the rows."""
    tp, fp, _ = _ranked_counts(y, prob, weight)
    return _roc(tp, fp), _precision_recall(tp, fp)


def _roc(tp: np.ndarray, fp: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    tpr = np.concatenate([[0.0], tp / tp[-1]]) if tp[-1] > 0 else np.zeros(len(tp) + 1)
    fpr = np.concatenate([[0.0], fp / fp[-1]]) if fp[-1] > 0 else np.zeros(len(fp) + 1)
    return fpr, tpr, float(np.trapezoid(tpr, fpr))


def _precision_recall(tp: np.ndarray, fp: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
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
