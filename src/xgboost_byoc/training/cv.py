"""Honest k-fold cross-validation.

- Folds are assigned from a seed (same seed, same folds), stratified by class for classification, with
  fold sizes balanced across classes. ``repeats`` > 1 reshuffles with ``seed + r``.
- Fold ``f`` trains on the other folds' rows and is scored (each round) ONLY on its own held-out rows; the official
  container scores folds on rows they trained on. Early stopping watches the mean of the held-out metric
  over all fold models (``xgb.cv``'s rule) so that every fold stops at the same, chosen round.
- At the chosen round we keep each fold's held-out scores (mean and std across folds) and the
  out-of-fold predictions: every row predicted by the fold model that did not see it. Each fold model
  is also scored once on its own training rows at that round (``cv:train_<metric>``), which shows the
  over-fitting gap without paying for a training-set evaluation every round.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from xgboost_byoc.data import Dataset
from xgboost_byoc.errors import UserError
from xgboost_byoc.metrics import CV_PREFIX, STD_SUFFIX, format_eval_line, metric_name, parse_xgboost_eval
from xgboost_byoc.training.checkpoints import Checkpointer, fingerprint
from xgboost_byoc.training.fit import BoostResult, Member, boost

if TYPE_CHECKING:
    import xgboost as xgb

log = logging.getLogger(__name__)


def assign_folds(y: np.ndarray, k: int, seed: int, *, stratify: bool) -> np.ndarray:
    """Fold id (0..k-1) of every row; within each class rows are dealt round-robin after a shuffle."""
    rng = np.random.default_rng(seed)
    folds = np.empty(len(y), dtype=np.int32)
    if stratify:
        classes, counts = np.unique(y, return_counts=True)
        if counts.min() < k:
            small = classes[np.argmin(counts)]
            raise UserError(
                f"kfold={k} needs at least {k} rows of every class, but class {small:g} has "
                f"{counts.min()}; lower kfold or add data"
            )
        groups = [np.flatnonzero(y == c) for c in classes]
    else:
        if len(y) < k:
            raise UserError(f"kfold={k} needs at least {k} training rows; the train channel has {len(y)}")
        groups = [np.arange(len(y))]
    dealt = 0
    for rows in groups:
        shuffled = rng.permutation(rows)
        folds[shuffled] = (np.arange(len(shuffled)) + dealt) % k
        dealt += len(shuffled)
    return folds


@dataclass
class CVResult:
    k: int
    repeats: int
    best_iteration: int
    rounds_run: int
    fold_ids: list[np.ndarray]  # one array of fold ids per repeat
    #: metric → (mean, std) over all fold models at the chosen round, e.g. "cv:auc" → (0.92, 0.004)
    summary: dict[str, tuple[float, float]]
    per_fold: dict[str, list[float]]  # metric → value of each fold model at the chosen round
    oof_margin: np.ndarray  # shape (repeats, rows[, classes]): out-of-fold margins at the chosen round
    boosters: list[xgb.Booster]  # fold models truncated to the chosen round (repeat-major order)
    curves: dict[str, tuple[list[float], list[float]]]  # metric → (mean per round, std per round)
    fold_curves: dict[str, list[list[float]]]  # metric → each fold model's held-out score per round


def run_cv(
    data: Dataset,
    params: dict[str, Any],
    *,
    k: int,
    repeats: int,
    seed: int,
    stratify: bool,
    num_round: int,
    patience: int | None,
    monitor_metric: str,
    emit: Callable[[str], None],
    checkpoint_dir: Path | None = None,
    checkpoint_interval: int = 10,
) -> CVResult:
    import xgboost as xgb

    fold_ids = [assign_folds(data.y, k, seed + r, stratify=stratify) for r in range(repeats)]
    members = []
    for r, ids in enumerate(fold_ids):
        for f in range(k):
            train_rows, held_rows = np.flatnonzero(ids != f), np.flatnonzero(ids == f)
            dtrain = _dmatrix(xgb, data, train_rows, params)
            dheld = _dmatrix(xgb, data, held_rows, params)
            members.append(Member(dtrain, [(dheld, CV_PREFIX)], params))
            log.debug("repeat %d fold %d: %d training rows, %d held-out rows", r, f, len(train_rows), len(held_rows))
    log.info(
        "k-fold cross-validation: %d folds x %d repeat(s), %d rows, up to %d rounds%s",
        k,
        repeats,
        data.n_rows,
        num_round,
        f", early stopping after {patience} rounds without improvement of {monitor_metric}" if patience else "",
    )
    held_names = [n for n in params["eval_metric"]]

    def on_round(iteration: int, scores: list[dict[str, float]]) -> None:
        emit(format_eval_line(iteration, _mean_std_pairs(held_names, scores)))

    checkpoint = None
    if checkpoint_dir is not None:
        facts = {
            "phase": "cv",
            "params": params,
            "k": k,
            "repeats": repeats,
            "seed": seed,
            "stratify": stratify,
            "num_round": num_round,
            "patience": patience,
            "rows": data.n_rows,
            "features": data.n_features,
        }
        checkpoint = Checkpointer(checkpoint_dir, "cv", fingerprint(**facts), checkpoint_interval)
    result = boost(
        members,
        num_round,
        monitor=metric_name(CV_PREFIX, monitor_metric),
        patience=patience,
        on_round=on_round,
        checkpoint=checkpoint,
    )
    best = result.best_iteration
    emit(format_eval_line(best, _mean_std_pairs(held_names, result.at(best))))  # the chosen round, last
    boosters = [m.booster[: best + 1] for m in members]
    oof = _out_of_fold(data, members, fold_ids, k, best)
    per_fold = {name: [h[name][best] for h in result.history] for name in result.history[0]}
    # each fold model on its own training rows, once, at the chosen round: the over-fitting gap
    for booster, member in zip(boosters, members, strict=True):
        for name, value in parse_xgboost_eval(booster.eval_set([(member.dtrain, "train")], best)).items():
            per_fold.setdefault(name, []).append(value)
    return CVResult(
        k=k,
        repeats=repeats,
        best_iteration=best,
        rounds_run=result.rounds_run,
        fold_ids=fold_ids,
        summary={name: (float(np.mean(v)), float(np.std(v))) for name, v in per_fold.items()},
        per_fold=per_fold,
        oof_margin=oof,
        boosters=boosters,
        curves=_curves(result),
        fold_curves={name: [list(h[name]) for h in result.history] for name in result.history[0]},
    )


def _dmatrix(xgb: Any, data: Dataset, rows: np.ndarray, params: dict[str, Any]) -> xgb.DMatrix:
    return xgb.DMatrix(
        data.X[rows],
        label=data.y[rows],
        weight=None if data.weights is None else data.weights[rows],
        nthread=params.get("nthread", -1),
    )


def _mean_std_pairs(metrics: list[str], scores: list[dict[str, float]]) -> list[tuple[str, float]]:
    pairs = []
    for metric in metrics:
        values = np.array([s[metric_name(CV_PREFIX, metric)] for s in scores])
        pairs.append((metric_name(CV_PREFIX, metric), float(values.mean())))
        pairs.append((metric_name(CV_PREFIX, metric + STD_SUFFIX), float(values.std())))
    return pairs


def _out_of_fold(data: Dataset, members: list[Member], fold_ids: list[np.ndarray], k: int, best: int) -> np.ndarray:
    oof: np.ndarray | None = None
    for r, ids in enumerate(fold_ids):
        for f in range(k):
            held_rows = np.flatnonzero(ids == f)
            dheld = members[r * k + f].evals[0][0]
            margin = members[r * k + f].booster.predict(dheld, output_margin=True, iteration_range=(0, best + 1))
            if oof is None:
                oof = np.empty((len(fold_ids), data.n_rows, *margin.shape[1:]), dtype=np.float32)
            oof[r, held_rows] = margin
    assert oof is not None
    return oof


def _curves(result: BoostResult) -> dict[str, tuple[list[float], list[float]]]:
    curves = {}
    for name in result.history[0]:
        matrix = np.array([h[name] for h in result.history])
        curves[name] = (matrix.mean(axis=0).tolist(), matrix.std(axis=0).tolist())
    return curves
