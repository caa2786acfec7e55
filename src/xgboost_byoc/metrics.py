"""Metric names, the evaluation log-line format and the regexes that read it back.

The container prints XGBoost's own evaluation format, one line per round::

    [12]\ttrain-auc:0.93012\tvalidation-auc:0.92011

CloudWatch shows the tab as ``#011``, which is what SageMaker metric-definition regexes match. A metric
named ``validation:auc`` is logged under the key ``validation-auc``; k-fold means are ``cv-auc`` with the
spread across folds as ``cv-auc_std``. The launcher builds its metric definitions and parses local logs
with the functions below, so a regex cannot drift from the line it reads.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

TAB_AS_LOGGED = "#011"
NUMBER = r"([-+]?(?:[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?|nan|inf))"
#: XGBoost's early-stopping rule: these metrics are maximised, the rest minimised.
_MAXIMIZED = ("auc", "aucpr", "pre", "map", "ndcg", "interval-regression-accuracy")

CHANNEL_PREFIXES = ("train", "validation")
CV_PREFIX = "cv"
STD_SUFFIX = "_std"


def is_maximized(metric: str) -> bool:
    base = metric.split("@", 1)[0].rstrip("-")
    return base in _MAXIMIZED


def metric_name(prefix: str, metric: str) -> str:
    """``("validation", "auc")`` → ``"validation:auc"``: the name SageMaker and metrics.json use."""
    return f"{prefix}:{metric}"


def log_key(name: str) -> str:
    """``"validation:auc"`` → ``"validation-auc"``: the key in an evaluation log line."""
    prefix, _, metric = name.partition(":")
    return f"{prefix}-{metric}"


def format_value(value: float) -> str:
    return f"{value:.6g}" if abs(value) < 1e-4 and value != 0 else f"{value:.6f}"


def format_eval_line(iteration: int, values: Iterable[tuple[str, float]]) -> str:
    """One evaluation line in XGBoost's format from ``(metric name, value)`` pairs."""
    parts = [f"[{iteration}]"]
    parts.extend(f"{log_key(name)}:{format_value(value)}" for name, value in values)
    return "\t".join(parts)


def regex_for(name: str) -> str:
    """The SageMaker MetricDefinition regex for one metric name (matches CloudWatch's ``#011``)."""
    return rf".*\[[0-9]+\].*{TAB_AS_LOGGED}{re.escape(log_key(name))}:{NUMBER}.*"


def metric_names(eval_metrics: Sequence[str], *, kfold: bool) -> list[str]:
    names = [metric_name(p, m) for p in CHANNEL_PREFIXES for m in eval_metrics]
    if kfold:
        names += [metric_name(CV_PREFIX, m) for m in eval_metrics]
        names += [metric_name(CV_PREFIX, m + STD_SUFFIX) for m in eval_metrics]
    return names


def metric_definitions(eval_metrics: Sequence[str], *, kfold: bool) -> list[dict[str, str]]:
    """SageMaker ``MetricDefinitions`` for the metrics a job with these settings logs."""
    return [{"Name": n, "Regex": regex_for(n)} for n in metric_names(eval_metrics, kfold=kfold)]


def parse_log_line(line: str, names: Iterable[str]) -> dict[str, float]:
    """Values of the named metrics found in one log line, as SageMaker would extract them."""
    logged = line.replace("\t", TAB_AS_LOGGED)
    found = {}
    for name in names:
        match = re.match(regex_for(name), logged)
        if match:
            found[name] = float(match.group(1))
    return found


def parse_xgboost_eval(text: str) -> dict[str, float]:
    """XGBoost's ``Booster.eval_set`` string → ``{"validation:auc": 0.92, ...}``."""
    values = {}
    for part in text.split("\t")[1:]:
        key, _, value = part.rpartition(":")
        prefix, _, metric = key.partition("-")
        values[metric_name(prefix, metric)] = float(value)
    return values
