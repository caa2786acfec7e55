"""``xgb-byoc``: the command line over the launcher's Python API."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

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


def _model_dir(target: Path, scratch: Path) -> Path:
    """A model directory from a model directory, a job / /opt/ml tree (its model/), or a model.tar.gz."""
    if target.is_file() and target.name.endswith((".tar.gz", ".tgz")):
        import tarfile

        with tarfile.open(target) as tar:
            tar.extractall(scratch, filter="data")
        return scratch
    if (target / "model").is_dir():
        return target / "model"
    if target.is_dir():
        return target
    raise XgbByocError(f"{target} is neither a model directory, a job directory nor a model.tar.gz")


def _report(args: argparse.Namespace) -> int:
    import tempfile
    import time

    from xgboost_byoc import report
    from xgboost_byoc.artifacts import load_model, write_atomic
    from xgboost_byoc.config import Channel
    from xgboost_byoc.data import read_channel

    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        model = load_model(_model_dir(Path(args.model), Path(scratch)))
        data = read_channel(Channel("data", args.content_type), Path(args.data), csv_header=args.csv_header)
        inputs = report.inputs_for_model(model, data, source=str(args.data))
        out = Path(args.out)
        write_atomic(out, report.render(inputs).encode())
    numbers = report.report_metrics(inputs, "data")
    print(f"wrote {out} in {time.perf_counter() - started:.2f} s")
    for name, value in numbers.items():
        if "confusion" not in name:
            print(f"  {name:32} {value:.4f}")
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
    rp = commands.add_parser(
        "report",
        help="write the HTML evaluation report of a model on a labelled data set",
        description="MODEL_OR_JOB is a model directory, a job directory (with model/) or a model.tar.gz. "
        "DATA is a file or folder with the label in column 1 (CSV, libsvm or parquet).",
    )
    rp.add_argument("model", metavar="MODEL_OR_JOB")
    rp.add_argument("--data", required=True, help="labelled data: a file or a folder of files")
    rp.add_argument("--out", default="report.html", help="where to write the report (default: report.html)")
    rp.add_argument(
        "--content-type",
        default=None,
        help="text/csv, text/libsvm or application/x-parquet (default: from the file extension)",
    )
    rp.add_argument("--csv-header", default="auto", choices=("auto", "present", "absent"))
    rp.set_defaults(func=_report)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except XgbByocError as exc:
        sys.stderr.write(f"xgb-byoc: {exc.message}\n")
        return 2
