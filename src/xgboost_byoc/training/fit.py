"""The boosting loop: one or more boosters advanced round by round, evaluated, early-stopped.

This is what ``xgb.train`` and ``xgb.cv`` do internally (``Booster.update`` then ``Booster.eval_set``
each round), written once so that a single model and the k fold models of a cross-validation share one
loop and one early-stopping rule: stop when the monitored metric (for k-fold, its mean over the folds'
own held-out rows) has not strictly improved for ``patience`` rounds; the best round is kept.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from xgboost_byoc.metrics import is_maximized, parse_xgboost_eval

if TYPE_CHECKING:
    import xgboost as xgb

RoundCallback = Callable[[int, list[dict[str, float]]], None]


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
) -> BoostResult:
    """Advance every member ``num_round`` rounds (fewer when early stopping on ``monitor`` triggers)."""
    history: list[dict[str, list[float]]] = [{} for _ in members]
    maximize = monitor is not None and is_maximized(monitor.partition(":")[2])
    best_value, best_iteration = None, num_round - 1
    rounds_run = 0
    for iteration in range(num_round):
        scores = []
        for member, record in zip(members, history, strict=True):
            member.booster.update(member.dtrain, iteration)
            values = parse_xgboost_eval(member.booster.eval_set(member.evals, iteration)) if member.evals else {}
            for name, value in values.items():
                record.setdefault(name, []).append(value)
            scores.append(values)
        rounds_run = iteration + 1
        if on_round is not None:
            on_round(iteration, scores)
        if monitor is None or patience is None:
            continue
        value = float(np.mean([s[monitor] for s in scores]))
        if best_value is None or (value > best_value if maximize else value < best_value):
            best_value, best_iteration = value, iteration
        elif iteration - best_iteration >= patience:
            break
    if monitor is None or patience is None:
        best_iteration = rounds_run - 1
    return BoostResult(best_iteration=best_iteration, rounds_run=rounds_run, history=history)
