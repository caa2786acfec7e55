"""Hyperparameter tuning, run locally: SageMaker's tuning job, as parallel local jobs.

Ranges use SageMaker's three kinds (``int:6:9``, ``continuous:0.01:0.3[:log]``, ``categorical:a,b``) and,
for algorithm mode, are checked against the container's hyperparameter schema. Strategies: ``Random``
(seeded), ``Grid`` (every combination of integer and categorical ranges, as SageMaker allows) and
``Bayesian`` (optuna's TPE sampler, seeded; ``pip install 'xgboost-byoc[launcher]'``). Trials run as
local jobs, ``max_parallel`` at a time, each told to use cores / parallelism threads; the tuner's
objective metric is passed as ``_tuning_objective_metric``, as SageMaker does. Results are written as
``tuning_results.csv`` with SageMaker's analytics columns, best first.
"""

from __future__ import annotations

import csv
import itertools
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from xgboost_byoc.errors import UserError
from xgboost_byoc.launcher.local import jobs_root, run_local
from xgboost_byoc.launcher.spec import JobSpec, job_name
from xgboost_byoc.metrics import is_maximized

TUNING_NAME_LIMIT = 32
STRATEGIES = ("Random", "Grid", "Bayesian")
ANALYTICS_COLUMNS = (
    "TrainingJobName",
    "TrainingJobStatus",
    "FinalObjectiveValue",
    "TrainingStartTime",
    "TrainingEndTime",
    "TrainingElapsedTimeSeconds",
)


@dataclass(frozen=True)
class Range:
    name: str
    kind: str  # "Integer", "Continuous" or "Categorical" (SageMaker's names)
    low: float = 0.0
    high: float = 0.0
    values: tuple[str, ...] = ()
    log: bool = False

    def grid(self) -> list[str]:
        if self.kind == "Categorical":
            return list(self.values)
        if self.kind == "Integer":
            return [str(v) for v in range(int(self.low), int(self.high) + 1)]
        raise UserError(f"Grid search cannot enumerate the continuous range {self.name}; use Random or Bayesian")

    def sample(self, rng: np.random.Generator) -> str:
        if self.kind == "Categorical":
            return str(self.values[int(rng.integers(len(self.values)))])
        if self.kind == "Integer":
            return str(int(rng.integers(int(self.low), int(self.high) + 1)))
        if self.log:
            return f"{float(np.exp(rng.uniform(np.log(self.low), np.log(self.high)))):.6g}"
        return f"{float(rng.uniform(self.low, self.high)):.6g}"

    def suggest(self, trial: Any) -> str:
        if self.kind == "Categorical":
            return str(trial.suggest_categorical(self.name, list(self.values)))
        if self.kind == "Integer":
            return str(trial.suggest_int(self.name, int(self.low), int(self.high), log=self.log))
        return f"{trial.suggest_float(self.name, self.low, self.high, log=self.log):.6g}"


def parse_range(text: str, *, algorithm_mode: bool) -> Range:
    """``max_depth=int:6:9`` / ``eta=continuous:0.01:0.3[:log]`` / ``objective=categorical:a,b``."""
    name, sep, spec = text.partition("=")
    kind, _, rest = spec.partition(":")
    if not sep or not name or not rest:
        raise UserError(
            f"--range {text!r}: use NAME=int:LOW:HIGH, NAME=continuous:LOW:HIGH[:log] or NAME=categorical:A,B"
        )
    kind = kind.strip().lower()
    if kind == "categorical":
        found = Range(name, "Categorical", values=tuple(v.strip() for v in rest.split(",") if v.strip()))
    elif kind in ("int", "integer", "continuous", "float"):
        parts = rest.split(":")
        try:
            low, high = float(parts[0]), float(parts[1])
        except (ValueError, IndexError):
            raise UserError(f"--range {text!r}: LOW and HIGH must be numbers") from None
        if low >= high:
            raise UserError(f"--range {text!r}: LOW must be below HIGH")
        log = len(parts) > 2 and parts[2].lower() in ("log", "logarithmic")
        if log and low <= 0:
            raise UserError(f"--range {text!r}: a logarithmic range needs LOW > 0")
        is_int = kind in ("int", "integer")
        if is_int and not (low.is_integer() and high.is_integer()):
            raise UserError(f"--range {text!r}: an integer range needs whole numbers")
        found = Range(name, "Integer" if is_int else "Continuous", low, high, log=log)
    else:
        raise UserError(f"--range {text!r}: the kind must be int, continuous or categorical")
    if algorithm_mode:
        _check_against_schema(found)
    return found


def _check_against_schema(found: Range) -> None:
    from xgboost_byoc.hyperparameters import ALIASES, BY_NAME

    param = BY_NAME.get(ALIASES.get(found.name, found.name))
    if param is None:
        raise UserError(f"--range {found.name}: not a hyperparameter of the algorithm")
    values = found.values if found.kind == "Categorical" else (str(found.low), str(found.high))
    for value in values:
        try:
            param.parse(value)
        except ValueError as exc:
            raise UserError(f"--range {found.name}: {exc}") from None
    if param.kind == "int" and found.kind == "Continuous":
        raise UserError(f"--range {found.name}: {found.name} is an integer; use int:LOW:HIGH")


@dataclass
class Candidates:
    """Hyperparameter sets to try: an iterator for Random/Grid, an ask/tell loop for Bayesian."""

    ranges: Sequence[Range]
    strategy: str
    seed: int
    maximize: bool

    def __post_init__(self) -> None:
        self.rng = np.random.default_rng(self.seed)
        self.grid = list(itertools.product(*(r.grid() for r in self.ranges))) if self.strategy == "Grid" else []
        self.study: Any = None
        if self.strategy == "Bayesian":
            try:
                import optuna
            except ImportError:
                raise UserError("the Bayesian strategy needs optuna: pip install 'xgboost-byoc[launcher]'") from None
            optuna.logging.set_verbosity(optuna.logging.WARNING)
            self.study = optuna.create_study(
                direction="maximize" if self.maximize else "minimize",
                sampler=optuna.samplers.TPESampler(seed=self.seed),
            )

    def next(self, index: int) -> tuple[dict[str, str], Any]:
        if self.strategy == "Grid":
            return dict(zip((r.name for r in self.ranges), self.grid[index], strict=True)), None
        if self.strategy == "Random":
            return {r.name: r.sample(self.rng) for r in self.ranges}, None
        trial = self.study.ask()
        return {r.name: r.suggest(trial) for r in self.ranges}, trial

    def tell(self, trial: Any, value: float | None) -> None:
        if trial is None:
            return
        import optuna

        if value is None or not np.isfinite(value):
            self.study.tell(trial, state=optuna.trial.TrialState.FAIL)
        else:
            self.study.tell(trial, value)


def tuning_job_name(base: str | None) -> str:
    name = job_name(base or "tune")
    stem, stamp = name[: -len("YYYYmmdd-HHMMSS-mmm") - 1], name[-len("HHMMSS-mmm") :]
    return f"{stem[: TUNING_NAME_LIMIT - len(stamp) - 1].rstrip('-')}-{stamp}"


def tune(
    spec: JobSpec,
    ranges: Sequence[Range],
    *,
    objective: str,
    objective_type: str | None = None,
    strategy: str = "Random",
    max_jobs: int = 6,
    max_parallel: int = 3,
    seed: int = 0,
    name: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> tuple[Path, list[dict[str, Any]]]:
    """Run the tuning job; returns the path of tuning_results.csv and its rows (best first)."""
    if strategy not in STRATEGIES:
        raise UserError(f"--strategy {strategy}: use one of {', '.join(STRATEGIES)}")
    if not ranges:
        raise UserError("a tuning job needs at least one --range")
    if max_parallel < 1 or max_jobs < 1:
        raise UserError("--max-jobs and --max-parallel-jobs must be >= 1")
    maximize = objective_maximized(objective, objective_type)
    candidates = Candidates(ranges, strategy, seed, maximize)
    if strategy == "Grid":
        max_jobs = min(max_jobs, len(candidates.grid))
    tuning_name = tuning_job_name(name)
    threads = max(1, (os.cpu_count() or 1) // max_parallel)
    definitions = definitions_with(spec, objective)
    say = progress or (lambda _line: None)
    say(
        f"tuning job {tuning_name}: {max_jobs} trials, {max_parallel} at a time, {threads} thread(s) each, "
        f"{strategy}, objective {objective} ({'Maximize' if maximize else 'Minimize'})"
    )
    rows: list[dict[str, Any]] = []
    lock = threading.Lock()

    def run_trial(index: int, values: dict[str, str]) -> dict[str, Any]:
        hyperparameters = {**spec.hyperparameters, **values, "_tuning_objective_metric": objective}
        if spec.mode == "algorithm":
            hyperparameters.setdefault("nthread", str(threads))
        trial_spec = replace(
            spec,
            job_name=f"{tuning_name}-{index + 1:03d}",
            hyperparameters=hyperparameters,
            metric_definitions=definitions,
        )
        record = run_local(trial_spec, extra_env={"OMP_NUM_THREADS": str(threads)})
        final = {m["MetricName"]: m["Value"] for m in record["FinalMetricDataList"]}
        row = {
            **values,
            **{k: record.get(k) for k in ANALYTICS_COLUMNS if k != "FinalObjectiveValue"},
            "FinalObjectiveValue": final.get(objective),
        }
        with lock:
            rows.append(row)
            value = row["FinalObjectiveValue"]
            shown = f"{objective}={value:.6f}" if value is not None else "no objective value"
            say(
                f"[{len(rows)}/{max_jobs}] {row['TrainingJobName']} {row['TrainingJobStatus']} {shown} "
                f"({row['TrainingElapsedTimeSeconds']:.1f} s) " + " ".join(f"{k}={v}" for k, v in values.items())
            )
        return row

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=max_parallel) as pool:
        running: dict[Future[dict[str, Any]], Any] = {}
        submitted = 0
        while submitted < max_jobs or running:
            while submitted < max_jobs and len(running) < max_parallel:
                values, trial = candidates.next(submitted)
                running[pool.submit(run_trial, submitted, values)] = trial
                submitted += 1
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                trial = running.pop(future)
                candidates.tell(trial, future.result().get("FinalObjectiveValue"))
    wall = time.perf_counter() - started
    path, ordered = write_results(tuning_name, ranges, rows, maximize)
    say(f"tuning job {tuning_name} done in {wall:.1f} s; results in {path}")
    return path, ordered


def objective_maximized(objective: str, objective_type: str | None) -> bool:
    """Maximize or not: as given, else from the metric (``validation:auc`` up, ``validation:logloss`` down)."""
    if objective_type is None:
        return is_maximized(objective.partition(":")[2])
    if objective_type not in ("Maximize", "Minimize"):
        raise UserError(f"--objective-type {objective_type}: use Maximize or Minimize")
    return objective_type == "Maximize"


def definitions_with(spec: JobSpec, objective: str) -> list[dict[str, str]]:
    """The job's metric definitions plus the objective's, when the job does not define it already.

    SageMaker's tuner needs the objective among the definitions; the SDK's tuner does not even carry
    the estimator's over — here they are always stated.
    """
    definitions = [*spec.metric_definitions]
    if objective not in {d["Name"] for d in definitions}:
        from xgboost_byoc.metrics import regex_for

        definitions.append({"Name": objective, "Regex": regex_for(objective)})
    return definitions


def write_results(
    tuning_name: str, ranges: Sequence[Range], rows: Sequence[Mapping[str, Any]], maximize: bool
) -> tuple[Path, list[dict[str, Any]]]:
    """``tuning_results.csv`` (SageMaker's analytics columns, best first) in the tuning job's folder."""
    ordered = sorted((dict(r) for r in rows), key=lambda r: _sort_key(r, maximize))
    path = jobs_root() / tuning_name / "tuning_results.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = [r.name for r in ranges] + list(ANALYTICS_COLUMNS)
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(ordered)
    return path, ordered


def _sort_key(row: Mapping[str, Any], maximize: bool) -> tuple[int, float]:
    value = row.get("FinalObjectiveValue")
    if value is None:
        return (1, 0.0)
    return (0, -value if maximize else value)
