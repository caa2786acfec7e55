"""``xgb-byoc``: the command line over the launcher's Python API."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from xgboost_byoc import __version__
from xgboost_byoc.config import normalize_hyperparameter_value
from xgboost_byoc.errors import XgbByocError


def _metric_definitions(args: argparse.Namespace) -> int:
    from xgboost_byoc.hyperparameters import parse_hyperparameters
    from xgboost_byoc.metrics import metric_definitions

    raw = {"num_round": "1"}
    for item in args.hp or []:
        name, sep, value = item.partition("=")
        if not sep:
            raise XgbByocError(f"--hp {item!r} is not name=value")
        raw[name.strip()] = normalize_hyperparameter_value(value)
    hp = parse_hyperparameters(raw)
    print(json.dumps(metric_definitions(hp.eval_metrics, kfold=bool(hp.kfold)), indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="xgb-byoc", description=__doc__)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    md = commands.add_parser(
        "metric-definitions",
        help="print SageMaker MetricDefinitions (JSON) for the metrics a job with these hyperparameters logs",
    )
    md.add_argument(
        "--hp",
        action="append",
        metavar="NAME=VALUE",
        help="a hyperparameter (objective, eval_metric, kfold, ...); repeatable",
    )
    md.set_defaults(func=_metric_definitions)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except XgbByocError as exc:
        sys.stderr.write(f"xgb-byoc: {exc.message}\n")
        return 2
