"""The typed hyperparameter schema: names, aliases, types, ranges, defaults, what is tunable.

Everything a user may put in ``hyperparameters.json`` for algorithm mode is declared here, once. The
``train`` entry point validates the whole set before any data is read; the launcher imports the same
schema to check tuning ranges. Values arrive as strings (SageMaker's contract) and are parsed here — no
``eval()``, no silent casts (the official container's ``int(gamma)``), no silently ignored misspellings.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from xgboost_byoc.errors import UserError, quoted
from xgboost_byoc.evaluation import THRESHOLD_METRICS

Kind = Literal["int", "float", "str", "bool", "list"]

INF = math.inf
#: Hyperparameters the SageMaker SDK or the tuner add on their own; accepted, never passed to XGBoost.
PLATFORM_PREFIX = "sagemaker_"
TUNING_OBJECTIVE = "_tuning_objective_metric"


@dataclass(frozen=True)
class Param:
    name: str
    kind: Kind
    default: Any = None
    low: float = -INF
    high: float = INF
    low_open: bool = False  # True: low itself is not allowed
    high_open: bool = False
    choices: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    booster: bool = True  # passed to XGBoost as a booster/learning parameter
    tunable: bool = False
    help: str = ""

    def range_text(self) -> str:
        if self.choices:
            return "one of " + ", ".join(self.choices)
        if self.kind == "bool":
            return "true or false (1/0)"
        lo = "(" if self.low_open or self.low == -INF else "["
        hi = ")" if self.high_open or self.high == INF else "]"
        return f"{lo}{_num(self.low)}, {_num(self.high)}{hi}"

    def parse(self, text: str) -> Any:
        """Parse one string value or raise ValueError with a message naming value and range."""
        if self.kind == "bool":
            lowered = text.strip().lower()
            if lowered in ("true", "1"):
                return True
            if lowered in ("false", "0"):
                return False
            raise ValueError(f"{self.name}={quoted(text)} is not a boolean; use true or false (1/0)")
        if self.kind == "list":
            items = [item.strip() for item in text.split(",") if item.strip()]
            if not items:
                raise ValueError(f"{self.name}={quoted(text)} is empty; give a comma-separated list")
            return items
        if self.kind == "str":
            value = text.strip()
            if self.choices and value not in self.choices:
                hint = _nearest(value, self.choices)
                raise ValueError(
                    f"{self.name}={quoted(text)} is not allowed; use {self.range_text()}"
                    + (f" (did you mean {hint!r}?)" if hint else "")
                )
            return value
        number = _parse_number(self, text)
        below = number < self.low or (self.low_open and number == self.low)
        above = number > self.high or (self.high_open and number == self.high)
        if below or above:
            raise ValueError(f"{self.name}={quoted(text)} is outside the allowed range {self.range_text()}")
        return number


def _num(x: float) -> str:
    if x == INF:
        return "inf"
    if x == -INF:
        return "-inf"
    return str(int(x)) if float(x).is_integer() else str(x)


def _parse_number(param: Param, text: str) -> int | float:
    stripped = text.strip()
    try:
        value = float(stripped)
    except ValueError:
        expected = "an integer" if param.kind == "int" else "a number"
        raise ValueError(
            f"{param.name}={quoted(text)} is not a number; expected {expected} in {param.range_text()}"
        ) from None
    if math.isnan(value):
        raise ValueError(f"{param.name}={quoted(text)} is not a number; expected a value in {param.range_text()}")
    if param.kind == "int":
        if not value.is_integer():
            raise ValueError(f"{param.name}={quoted(text)} must be a whole number in {param.range_text()}")
        return int(value)
    return value


def _nearest(word: str, candidates: Iterable[str]) -> str | None:
    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None


OBJECTIVES = (
    "binary:logistic",
    "binary:logitraw",
    "binary:hinge",
    "reg:squarederror",
    "reg:squaredlogerror",
    "reg:logistic",
    "reg:pseudohubererror",
    "reg:absoluteerror",
    "reg:gamma",
    "reg:tweedie",
    "count:poisson",
    "survival:cox",
    "multi:softmax",
    "multi:softprob",
)
#: Old names that XGBoost (and the built-in algorithm) still accept.
OBJECTIVE_ALIASES = {"reg:linear": "reg:squarederror"}
#: Objectives that need data algorithm mode cannot express in CSV/libsvm/parquet channels.
UNSUPPORTED_OBJECTIVES = {
    "rank:ndcg": "needs query groups",
    "rank:map": "needs query groups",
    "rank:pairwise": "needs query groups",
    "survival:aft": "needs interval labels (label_lower_bound/label_upper_bound)",
    "reg:quantileerror": "predicts several quantiles per row",
}

#: XGBoost's default evaluation metric per objective (checked against XGBoost itself in the tests).
DEFAULT_EVAL_METRIC = {
    "binary:logistic": "logloss",
    "binary:logitraw": "logloss",
    "binary:hinge": "error",
    "reg:squarederror": "rmse",
    "reg:squaredlogerror": "rmsle",
    "reg:logistic": "rmse",
    "reg:pseudohubererror": "mphe",
    "reg:absoluteerror": "mae",
    "reg:gamma": "gamma-deviance",
    "reg:tweedie": "tweedie-nloglik@1.5",
    "count:poisson": "poisson-nloglik",
    "survival:cox": "cox-nloglik",
    "multi:softmax": "mlogloss",
    "multi:softprob": "mlogloss",
}

_EVAL_METRIC = re.compile(
    r"^(?:rmse|rmsle|mae|mape|mphe|logloss|mlogloss|merror|poisson-nloglik|gamma-nloglik"
    r"|gamma-deviance|cox-nloglik|aucpr|auc|interval-regression-accuracy"
    r"|error(?:@[0-9.eE+-]+)?|tweedie-nloglik(?:@[0-9.eE+-]+)?"
    r"|(?:ndcg|map|pre)(?:@[0-9]+)?-?)$"
)
EVAL_METRIC_NAMES = [
    "rmse",
    "rmsle",
    "mae",
    "mape",
    "mphe",
    "logloss",
    "error",
    "error@t",
    "merror",
    "mlogloss",
    "auc",
    "aucpr",
    "poisson-nloglik",
    "gamma-nloglik",
    "gamma-deviance",
    "cox-nloglik",
    "tweedie-nloglik@rho",
]


PARAMS: tuple[Param, ...] = (
    # -- the training loop
    Param(
        "num_round",
        "int",
        None,
        1,
        1_000_000,
        booster=False,
        tunable=True,
        help="number of boosting rounds (required); the maximum when early stopping is on",
    ),
    Param(
        "early_stopping_rounds",
        "int",
        None,
        1,
        1_000_000,
        booster=False,
        tunable=True,
        help="stop when the monitored held-out metric has not improved for this many rounds",
    ),
    # -- booster parameters (names as in XGBoost and the built-in algorithm)
    Param(
        "objective",
        "str",
        "reg:squarederror",
        choices=OBJECTIVES,
        help="learning task; reg:linear is accepted as reg:squarederror",
    ),
    Param(
        "eval_metric",
        "list",
        None,
        booster=False,
        help="comma-separated evaluation metrics; the last one drives early stopping",
    ),
    Param("num_class", "int", None, 2, 100_000, help="number of classes (multi:* objectives)"),
    Param("eta", "float", 0.3, 0, 1, aliases=("learning_rate",), tunable=True),
    Param("gamma", "float", 0.0, 0, INF, aliases=("min_split_loss",), tunable=True),
    Param("max_depth", "int", 6, 0, 1_000, tunable=True),
    Param("min_child_weight", "float", 1.0, 0, INF, tunable=True),
    Param("max_delta_step", "float", 0.0, 0, INF, tunable=True),
    Param("subsample", "float", 1.0, 0, 1, low_open=True, tunable=True),
    Param("sampling_method", "str", "uniform", choices=("uniform", "gradient_based")),
    Param("colsample_bytree", "float", 1.0, 0, 1, low_open=True, tunable=True),
    Param("colsample_bylevel", "float", 1.0, 0, 1, low_open=True, tunable=True),
    Param("colsample_bynode", "float", 1.0, 0, 1, low_open=True, tunable=True),
    Param("lambda", "float", 1.0, 0, INF, aliases=("reg_lambda",), tunable=True),
    Param("alpha", "float", 0.0, 0, INF, aliases=("reg_alpha",), tunable=True),
    Param("tree_method", "str", "hist", choices=("auto", "exact", "approx", "hist", "gpu_hist")),
    Param("device", "str", "cpu", choices=("cpu", "cuda")),
    Param("grow_policy", "str", "depthwise", choices=("depthwise", "lossguide")),
    Param("max_leaves", "int", 0, 0, INF, tunable=True),
    Param("max_bin", "int", 256, 2, 1 << 16, tunable=True),
    Param("num_parallel_tree", "int", 1, 1, 10_000),
    Param("scale_pos_weight", "float", 1.0, 0, INF, low_open=True, tunable=True),
    Param("base_score", "float", None),
    Param("max_cat_to_onehot", "int", None, 1, INF),
    Param("monotone_constraints", "str", None, help="e.g. (1,0,-1)"),
    Param("interaction_constraints", "str", None, help="e.g. [[0,1],[2,3]]"),
    Param("tweedie_variance_power", "float", 1.5, 1, 2, low_open=True, high_open=True),
    Param("huber_slope", "float", 1.0, 0, INF, low_open=True),
    Param("seed", "int", 0, 0, 2**31 - 1, aliases=("random_state",)),
    Param("nthread", "int", None, 1, 4096, help="threads per booster (default: all cores)"),
    Param("verbosity", "int", 1, 0, 3),
    # -- data layout (the built-in algorithm's names)
    Param(
        "csv_weights",
        "bool",
        False,
        booster=False,
        help="CSV/parquet: column 1 (after the label) holds instance weights",
    ),
    Param(
        "csv_header",
        "str",
        "auto",
        choices=("auto", "present", "absent"),
        booster=False,
        help="CSV header row: detect (auto) or declare it",
    ),
    # -- k-fold cross-validation
    Param(
        "kfold",
        "int",
        0,
        0,
        100,
        aliases=("_kfold",),
        booster=False,
        help="number of folds; 0 or 1 turns cross-validation off",
    ),
    Param(
        "kfold_repeats",
        "int",
        1,
        1,
        100,
        aliases=("_num_cv_round",),
        booster=False,
        help="repeat k-fold with differently shuffled folds",
    ),
    Param("kfold_seed", "int", None, 0, 2**31 - 1, booster=False, help="seed of the fold assignment (default: seed)"),
    Param(
        "kfold_stratified", "bool", True, booster=False, help="stratify folds by class for classification objectives"
    ),
    Param(
        "kfold_model",
        "str",
        "refit",
        choices=("refit", "ensemble"),
        booster=False,
        help="refit: one model on all rows at the CV-chosen round count; ensemble: the fold models",
    ),
    Param(
        "checkpoint_interval",
        "int",
        10,
        1,
        1_000_000,
        booster=False,
        help="with a checkpoint folder: save the boosters every this many rounds (and on SIGTERM)",
    ),
    Param(
        "threshold_metric",
        "str",
        "macro_f1",
        choices=THRESHOLD_METRICS,
        booster=False,
        help="binary objectives: the decision threshold maximises this on out-of-fold predictions",
    ),
)

BY_NAME: dict[str, Param] = {p.name: p for p in PARAMS}
ALIASES: dict[str, str] = {alias: p.name for p in PARAMS for alias in p.aliases}


@dataclass(frozen=True)
class Hyperparameters:
    """Validated hyperparameters: ``values`` has every declared name (defaults filled in)."""

    values: dict[str, Any]
    explicit: frozenset[str] = field(default_factory=frozenset)
    ignored: dict[str, str] = field(default_factory=dict)  # platform-added names, kept for the record

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    @property
    def objective(self) -> str:
        return str(self.values["objective"])

    @property
    def eval_metrics(self) -> list[str]:
        return list(self.values["eval_metric"])

    @property
    def is_binary(self) -> bool:
        return self.objective.startswith("binary:")

    @property
    def is_multiclass(self) -> bool:
        return self.objective.startswith("multi:")

    @property
    def is_classification(self) -> bool:
        return self.is_binary or self.is_multiclass

    @property
    def kfold(self) -> int:
        k = int(self.values["kfold"])
        return k if k >= 2 else 0

    @property
    def kfold_seed(self) -> int:
        seed = self.values["kfold_seed"]
        return int(self.values["seed"] if seed is None else seed)

    def booster_params(self) -> dict[str, Any]:
        """Parameters for ``xgboost.Booster``: explicit booster values plus the ones we always set."""
        params: dict[str, Any] = {}
        for name, value in self.values.items():
            param = BY_NAME[name]
            if not param.booster or value is None:
                continue
            if name in self.explicit or name in ("objective", "seed", "tree_method", "verbosity"):
                params[name] = value
        if params.get("tree_method") == "gpu_hist":  # the built-in algorithm's name; XGBoost 2+ spelling:
            params["tree_method"] = "hist"
            params["device"] = "cuda"
        params["eval_metric"] = self.eval_metrics
        return params

    def as_record(self) -> dict[str, Any]:
        """The explicit values, JSON-friendly, for the manifest and the report."""
        return {name: self.values[name] for name in sorted(self.explicit)}


def parse_hyperparameters(raw: Mapping[str, str]) -> Hyperparameters:
    """Validate every hyperparameter; raise one UserError listing all problems (the first leads)."""
    problems: list[str] = []
    values: dict[str, Any] = {p.name: p.default for p in PARAMS}
    explicit: set[str] = set()
    ignored: dict[str, str] = {}
    seen_as: dict[str, str] = {}
    for given_name, text in raw.items():
        if given_name.startswith(PLATFORM_PREFIX) or given_name == TUNING_OBJECTIVE:
            ignored[given_name] = text
            continue
        name = ALIASES.get(given_name, given_name)
        param = BY_NAME.get(name)
        if param is None:
            if given_name in UNSUPPORTED_OBJECTIVES:
                problems.append(f"{quoted(given_name)} is an objective, not a hyperparameter name")
                continue
            hint = _nearest(given_name, list(BY_NAME) + list(ALIASES))
            problems.append(
                f"unknown hyperparameter {quoted(given_name)}"
                + (f"; did you mean {hint!r}?" if hint else "; see the README for the accepted names")
            )
            continue
        if name in seen_as:
            problems.append(f"{quoted(given_name)} and {quoted(seen_as[name])} are the same hyperparameter; give one")
            continue
        seen_as[name] = given_name
        value_text = OBJECTIVE_ALIASES.get(text.strip(), text) if name == "objective" else text
        if name == "objective" and value_text.strip() in UNSUPPORTED_OBJECTIVES:
            problems.append(
                f"objective={quoted(value_text.strip())} is not supported in algorithm mode: it "
                f"{UNSUPPORTED_OBJECTIVES[value_text.strip()]}; use script mode"
            )
            continue
        try:
            values[name] = param.parse(value_text)
        except ValueError as exc:
            problems.append(str(exc))
            continue
        explicit.add(name)

    if "num_round" not in explicit and not any("num_round" in p for p in problems):
        problems.insert(0, "num_round is required: the number of boosting rounds, e.g. num_round=100")
    problems.extend(_check_combinations(values, explicit, ignored))
    if problems:
        raise UserError(
            "invalid hyperparameters: " + "; ".join(problems),
            detail="\n".join(problems),
        )
    return Hyperparameters(values=values, explicit=frozenset(explicit), ignored=ignored)


def _check_combinations(values: dict[str, Any], explicit: set[str], ignored: dict[str, str]) -> list[str]:
    problems: list[str] = []
    objective = str(values["objective"])
    if objective.startswith("multi:"):
        if values["num_class"] is None:
            problems.append(f"num_class is required with objective={objective} (the number of classes)")
    elif "num_class" in explicit:
        problems.append(f"num_class applies only to multi:softmax/multi:softprob, not {objective}")
    metrics = values["eval_metric"] or [DEFAULT_EVAL_METRIC[objective]]
    for metric in metrics:
        if not _EVAL_METRIC.match(metric):
            hint = _nearest(metric, EVAL_METRIC_NAMES)
            problems.append(
                f"eval_metric {quoted(metric)} is not an XGBoost metric"
                + (f"; did you mean {hint!r}?" if hint else f"; use one of {', '.join(EVAL_METRIC_NAMES)}")
            )
    tuning = ignored.get(TUNING_OBJECTIVE)
    if tuning:
        metric = tuning.partition(":")[2]
        if not metric or not _EVAL_METRIC.match(metric):
            problems.append(f"{TUNING_OBJECTIVE}={quoted(tuning)} does not name a channel:metric, e.g. validation:auc")
        elif metric not in metrics:
            metrics = [*metrics, metric]  # the tuner's objective must be computed (and drive early stopping)
    values["eval_metric"] = list(dict.fromkeys(metrics))
    if values["kfold_model"] == "ensemble" and "kfold_model" in explicit and int(values["kfold"]) < 2:
        problems.append("kfold_model=ensemble needs kfold >= 2")
    return problems


def validate_against_channels(hp: Hyperparameters, channels: Iterable[str]) -> None:
    """Checks that need to know which channels exist (still before any data is read)."""
    names = set(channels)
    if "train" not in names:
        raise UserError(
            "no 'train' channel: give the training data as a channel named train"
            + (f" (found: {', '.join(sorted(names))})" if names else "")
        )
    if hp["early_stopping_rounds"] is not None and not hp.kfold and "validation" not in names:
        raise UserError("early_stopping_rounds needs held-out rows: add a 'validation' channel or set kfold >= 2")
