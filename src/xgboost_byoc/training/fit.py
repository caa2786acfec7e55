"""The boosting loop: one or more boosters advanced round by round, evaluated, early-stopped.

This is what ``xgb.train`` and ``xgb.cv`` do internally (``Booster.update`` then ``Booster.eval_set``
each round), written once so that a single model and the k fold models of a cross-validation share one
loop and one early-stopping rule: stop when the monitored metric (for k-fold, its mean over the folds'
own held-out rows) has not strictly improved for ``patience`` rounds; the best round is kept.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from xgboost_byoc.metrics import is_maximized, parse_xgboost_eval
from xgboost_byoc.training.checkpoints import STOP, Checkpointer, TrainingStopped

if TYPE_CHECKING:
    import xgboost as xgb

RoundCallback = Callable[[int, list[dict[str, float]]], None]
#: sampling XGBoost draws from a random state it does not save: a resumed job draws differently
UNSAVED_SAMPLING = ("colsample_bytree", "colsample_bylevel", "colsample_bynode")
log = logging.getLogger(__name__)
_SHARED_STOP: dict[str, Callable[[bool], bool]] = {}


def share_stop(combine: Callable[[bool], bool] | None) -> None:
    """Across hosts: ``combine(local)`` says whether ANY host got SIGTERM, so all stop after the same round."""
    _SHARED_STOP.clear()
    if combine is not None:
        _SHARED_STOP["combine"] = combine


def stop_requested() -> bool:
    local = STOP.is_set()
    combine = _SHARED_STOP.get("combine")
    return combine(local) if combine is not None else local


@dataclass
class Member:
    """One booster under training with the data sets it is scored on each round."""

    dtrain: xgb.DMatrix
    evals: list[tuple[xgb.DMatrix, str]]
    params: dict[str, Any]
    booster: xgb.Booster = field(init=False)

    def __post_init__(self) -> None:
        import xgboost as xgb

        self.booster = xgb.Booster(self.params, [self.dtrain, *(d for d, _ in self.evals)])


class RowSampler:
    """``subsample`` drawn by the job, not by XGBoost, so that a resumed job draws the same rows.

    Round ``r`` of member ``m`` trains on the rows of a mask drawn from ``(seed, m, host rank, r)`` alone:
    the unsampled rows get weight 0 for that update (no gradient, no hessian: as if left out), then the
    weights are restored, so evaluation sees every row. Used when checkpoints are on (XGBoost's own
    sampling is faster — it skips the rows — but its random state is not in the model).
    """

    def __init__(self, dtrain: xgb.DMatrix, rate: float, seed: int, stream: int, params: dict[str, Any]) -> None:
        import xgboost as xgb
        from xgboost import collective

        self.dtrain, self.rate = dtrain, rate
        weights = dtrain.get_weight()
        self.weights = weights if weights.size else np.ones(dtrain.num_row(), dtype=np.float32)
        self.key = [abs(seed), stream, collective.get_rank()]
        # hist's bin edges are weighted quantiles, computed once per DMatrix at its first update and kept
        # in it: build them now, from the true weights, or they would follow the first update's mask (and
        # differ between a run and its resume)
        xgb.Booster({**params, "subsample": 1.0}, [dtrain]).update(dtrain, 0)

    def update(self, booster: xgb.Booster, iteration: int) -> None:
        draw = np.random.default_rng([*self.key, iteration]).random(len(self.weights), dtype=np.float32)
        self.dtrain.set_weight(self.weights * (draw < self.rate))
        try:
            booster.update(self.dtrain, iteration)
        finally:
            self.dtrain.set_weight(self.weights)


def _row_samplers(members: Sequence[Member]) -> list[RowSampler | None]:
    rate = float(members[0].params.get("subsample", 1.0))
    if rate >= 1.0:
        return [None] * len(members)
    samplers: list[RowSampler | None] = []
    for index, member in enumerate(members):
        member.booster.set_param("subsample", "1")
        samplers.append(RowSampler(member.dtrain, rate, int(member.params.get("seed", 0)), index, member.params))
    return samplers


@dataclass
class BoostResult:
    best_iteration: int
    rounds_run: int
    #: history[member][metric name] → values per round
    history: list[dict[str, list[float]]]

    def at(self, iteration: int) -> list[dict[str, float]]:
        return [{k: v[iteration] for k, v in h.items()} for h in self.history]

    def mean_std(self, name: str, iteration: int) -> tuple[float, float]:
        values = np.array([h[name][iteration] for h in self.history])
        return float(values.mean()), float(values.std())


def boost(
    members: Sequence[Member],
    num_round: int,
    *,
    monitor: str | None = None,
    patience: int | None = None,
    on_round: RoundCallback | None = None,
    checkpoint: Checkpointer | None = None,
) -> BoostResult:
    """Advance every member ``num_round`` rounds (fewer when early stopping on ``monitor`` triggers).

    With a ``checkpoint``, the loop resumes from the newest valid one, saves every ``interval`` rounds,
    when it ends, and when SIGTERM arrives (then it raises ``TrainingStopped``).
    """
    history: list[dict[str, list[float]]] = [{} for _ in members]
    maximize = monitor is not None and is_maximized(monitor.partition(":")[2])
    best_value: float | None = None
    best_iteration = num_round - 1
    rounds_run = 0
    start, finished = 0, False
    saved = checkpoint.load() if checkpoint is not None else None
    if saved is not None:
        state, raw_boosters = saved
        for member, raw in zip(members, raw_boosters, strict=True):
            member.booster.load_model(bytearray(raw))
        history, best_value, best_iteration = state["history"], state["best_value"], state["best_iteration"]
        rounds_run = start = int(state["rounds_run"])
        finished = bool(state["finished"])
        sampling = {k: v for k, v in members[0].params.items() if k in UNSAVED_SAMPLING and float(v) < 1}
        if sampling and not finished:
            log.warning(
                "resuming with %s: XGBoost does not save its random state, so the rows/columns sampled after "
                "the resume differ from an uninterrupted run's (the model is as good, not bit-identical)",
                ", ".join(f"{k}={v}" for k, v in sampling.items()),
            )
        elif sampling:
            log.warning("XGBoost does not save its random state; this phase was complete, nothing is redrawn")
        log.info(
            "resuming %s from its checkpoint after round %d%s",
            checkpoint.phase if checkpoint else "",
            rounds_run - 1,
            " (already complete)" if finished else "",
        )

    def save(done: bool) -> None:
        if checkpoint is not None:
            checkpoint.save(
                {
                    "rounds_run": rounds_run,
                    "best_value": best_value,
                    "best_iteration": best_iteration,
                    "history": history,
                    "finished": done,
                },
                [m.booster for m in members],
            )

    # with checkpoints, rows are sampled by the job (seeded per round) so that a resume redraws the same
    samplers = _row_samplers(members) if checkpoint is not None else [None] * len(members)
    for iteration in range(start, num_round if not finished else start):
        scores = []
        for member, record, sampler in zip(members, history, samplers, strict=True):
            if sampler is not None:
                sampler.update(member.booster, iteration)
            else:
                member.booster.update(member.dtrain, iteration)
            values = parse_xgboost_eval(member.booster.eval_set(member.evals, iteration)) if member.evals else {}
            for name, value in values.items():
                record.setdefault(name, []).append(value)
            scores.append(values)
        rounds_run = iteration + 1
        if on_round is not None:
            on_round(iteration, scores)
        if monitor is not None and patience is not None:
            value = float(np.mean([s[monitor] for s in scores]))
            if best_value is None or (value > best_value if maximize else value < best_value):
                best_value, best_iteration = value, iteration
            elif iteration - best_iteration >= patience:
                break
        if stop_requested():
            save(done=False)
            where = f"; checkpoint in {checkpoint.path}, a restarted job resumes from it" if checkpoint else ""
            raise TrainingStopped(f"training stopped by SIGTERM after round {iteration}{where}")
        if checkpoint is not None and rounds_run % checkpoint.interval == 0:
            save(done=False)
    if not finished:
        save(done=True)
    if monitor is None or patience is None:
        best_iteration = rounds_run - 1
    return BoostResult(best_iteration=best_iteration, rounds_run=rounds_run, history=history)
