"""``xgb-byoc``: the command line over the launcher's Python API."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from xgboost_byoc import __version__
from xgboost_byoc.errors import XgbByocError


def _metric_definitions(args: argparse.Namespace) -> int:
    from xgboost_byoc.hyperparameters import parse_hyperparameters
    from xgboost_byoc.launcher.spec import parse_hp_args
    from xgboost_byoc.metrics import metric_definitions

    hp = parse_hyperparameters({"num_round": "1", **parse_hp_args(args.hp)})
    print(json.dumps(metric_definitions(hp.eval_metrics, kfold=bool(hp.kfold)), indent=2))
    return 0


TUNING_RESULTS = "tuning_results.csv"


def _resolve_target(target: Path) -> Path:
    """A job or tuning job name → its folder; a tuning job (its folder holds tuning_results.csv, best
    first) → the folder of its best completed trial. Anything else is returned as it is."""
    import csv

    from xgboost_byoc.launcher.local import JOB_FILE, jobs_root

    if not target.exists():
        named = jobs_root() / str(target)
        if (named / JOB_FILE).is_file() or (named / TUNING_RESULTS).is_file():
            target = named
    results = target / TUNING_RESULTS
    if not results.is_file() or (target / JOB_FILE).is_file():
        return target
    with results.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    best = next((r for r in rows if r.get("TrainingJobStatus") == "Completed" and r.get("FinalObjectiveValue")), None)
    if best is None:
        raise XgbByocError(f"tuning job {target.name} has no completed trial with an objective value ({results})")
    for folder in (target.parent / best["TrainingJobName"], jobs_root() / best["TrainingJobName"]):
        if (folder / JOB_FILE).is_file():
            print(
                f"tuning job {target.name}: its best trial is {best['TrainingJobName']}"
                f" (objective {best['FinalObjectiveValue']})",
                file=sys.stderr,
            )
            return folder
    raise XgbByocError(
        f"the best trial of tuning job {target.name}, {best['TrainingJobName']}, has no job folder here; "
        "for a SageMaker tuning job, download its model.tar.gz and give that"
    )


def _model_dir(target: Path, scratch: Path) -> Path:
    """A model directory from a model directory, a job folder (``_resolve_target`` turns names and tuning
    jobs into one), an /opt/ml tree, or a model.tar.gz."""
    from xgboost_byoc.launcher.local import JOB_FILE

    if (target / JOB_FILE).is_file():
        job = json.loads((target / JOB_FILE).read_text())
        if not job.get("ModelArtifacts"):
            raise XgbByocError(f"job {job.get('TrainingJobName')} has no model ({job.get('TrainingJobStatus')})")
        target = Path(job["ModelArtifacts"])
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


def _load_any_model(folder: Path) -> Any:
    """The model in ``folder`` as the server would load it: a manifest's, or one native model file
    (``xgboost-model``, ``*.json``, ``*.ubj``, as script mode saves them); a pickle only with
    XGB_BYOC_ALLOW_PICKLE=true."""
    import os

    from xgboost_byoc.serving.predictor import load_predictor
    from xgboost_byoc.serving.settings import env_flag

    return load_predictor(folder, allow_pickle=env_flag(os.environ, "XGB_BYOC_ALLOW_PICKLE")).model


def _report(args: argparse.Namespace) -> int:
    import tempfile
    import time

    from xgboost_byoc import report
    from xgboost_byoc.artifacts import write_atomic
    from xgboost_byoc.config import Channel
    from xgboost_byoc.data import read_channel

    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        model = _load_any_model(_model_dir(_resolve_target(Path(args.model)), Path(scratch)))
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


def _compare(args: argparse.Namespace) -> int:
    import tempfile

    from xgboost_byoc.config import Channel
    from xgboost_byoc.data import read_channel
    from xgboost_byoc.report import compare

    data = read_channel(Channel("test", args.content_type), Path(args.test), csv_header=args.csv_header)
    models = []
    with tempfile.TemporaryDirectory() as scratch:
        for i, target in enumerate(args.models):
            resolved = _resolve_target(Path(target))
            folder = _model_dir(resolved, Path(scratch) / str(i))
            models.append((resolved.name.removesuffix(".tar.gz"), _load_any_model(folder)))
        columns = compare.compare(models, data)
    print(compare.render(columns, args.format))
    return 0


def _spec(args: argparse.Namespace, *, name: str | None) -> Any:
    from xgboost_byoc.launcher.spec import JobSpec, load_config_file, parse_hp_args

    if args.instance_count < 1:
        raise XgbByocError("--instance-count must be at least 1")
    if args.backend == "docker" and args.instance_count != 1:
        raise XgbByocError("the docker backend runs one container; use --backend local for several hosts here")
    # the sagemaker backend requires --output s3://…: its check names it with everything else missing
    output = args.output or ("" if args.backend == "sagemaker" else "xgb-byoc-output")
    hyperparameters = load_config_file(Path(args.config)) if args.config else {}
    hyperparameters.update(parse_hp_args(args.hp))
    return JobSpec.build(
        hyperparameters=hyperparameters,
        channels={"train": args.train, "validation": args.validation, "test": args.test},
        output=output,
        entry_point=Path(args.entry_point) if args.entry_point else None,
        source_dir=Path(args.source_dir) if args.source_dir else None,
        name=name,
        image=args.image,
        instance_type=args.instance_type,
        instance_count=args.instance_count,
        max_runtime_seconds=args.max_runtime,
    )


def _print_record(record: dict[str, Any]) -> None:
    print()
    print(f"{'job':12} {record['TrainingJobName']}")
    print(f"{'status':12} {record['TrainingJobStatus']}")
    elapsed = record.get("TrainingElapsedTimeSeconds")
    print(
        f"{'started':12} {record.get('TrainingStartTime')}  ended {record.get('TrainingEndTime')}"
        + (f"  ({elapsed:.1f} s)" if elapsed is not None else "")
    )
    for metric in record["FinalMetricDataList"]:
        print(f"{metric['MetricName']:24} {metric['Value']:.6f}")
    for key, label in (("S3ModelArtifacts", "model (S3)"), ("ModelArtifacts", "model"), ("OutputArtifacts", "output")):
        if record.get(key):
            print(f"{label:12} {record[key]}")


def _train(args: argparse.Namespace) -> int:
    spec = _spec(args, name=args.job_name)
    echo = (lambda line: print(f"  | {line}", flush=True)) if not args.quiet else None
    if args.backend == "sagemaker":
        from xgboost_byoc.launcher.sagemaker import endpoint_note, run_sagemaker

        print(f"job {spec.job_name} ({spec.mode} mode, sagemaker backend{endpoint_note()})", flush=True)
        record = run_sagemaker(
            spec,
            role=args.role,
            region=args.region,
            wait=not args.no_wait,
            echo=lambda line: print(line, flush=True),
            stream_logs=not args.quiet,
        )
        if args.no_wait:
            print(f"\njob {spec.job_name} is {record['TrainingJobStatus']}; follow it with")
            print(f"  aws sagemaker describe-training-job --training-job-name {spec.job_name}")
            return 0
    elif args.backend == "docker":
        from xgboost_byoc.launcher.docker import run_docker

        print(f"job {spec.job_name} ({spec.mode} mode, docker backend, image {spec.image})", flush=True)
        record = run_docker(spec, echo=echo)
    else:
        from xgboost_byoc.launcher.local import run_local

        print(f"job {spec.job_name} ({spec.mode} mode, local backend)", flush=True)
        record = run_local(spec, echo=echo)
    _print_record(record)
    if record["TrainingJobStatus"] != "Completed":
        reason = str(record.get("FailureReason") or "").splitlines()
        print(f"{'failure':12} {reason[0] if reason else 'see ' + record['JobDir'] + '/train.log'}")
        return 1
    return 0


def _tune(args: argparse.Namespace) -> int:
    from xgboost_byoc.launcher.tuning import parse_range, tune

    if args.backend == "docker":
        raise XgbByocError("tuning runs on the local or the sagemaker backend; use --backend local or sagemaker")
    spec = _spec(args, name=None)
    ranges = [parse_range(text, algorithm_mode=spec.mode == "algorithm") for text in args.range or []]
    options: dict[str, Any] = {
        "objective": args.objective,
        "objective_type": args.objective_type,
        "strategy": args.strategy,
        "max_jobs": args.max_jobs,
        "max_parallel": args.max_parallel_jobs,
        "seed": args.seed,
        "name": args.job_name,
    }
    if args.backend == "sagemaker":
        from xgboost_byoc.launcher.sagemaker import tune_sagemaker

        path, rows = tune_sagemaker(
            spec,
            ranges,
            **options,
            role=args.role,
            region=args.region,
            wait=not args.no_wait,
            echo=lambda line: print(line, flush=True),
        )
        if path is None:
            return 0
    else:
        path, rows = tune(spec, ranges, **options, progress=lambda line: print(line, flush=True))
    print()
    columns = [r.name for r in ranges] + [
        "TrainingJobName",
        "TrainingJobStatus",
        "FinalObjectiveValue",
        "TrainingElapsedTimeSeconds",
    ]
    print("  ".join(f"{c:>16}" if c != "TrainingJobName" else f"{c:36}" for c in columns))
    for row in rows:
        cells = []
        for c in columns:
            value = row.get(c)
            text = f"{value:.6f}" if isinstance(value, float) else str(value)
            cells.append(f"{text:36}" if c == "TrainingJobName" else f"{text:>16}")
        print("  ".join(cells))
    print(f"\nwrote {path}")
    return 0 if any(r["TrainingJobStatus"] == "Completed" for r in rows) else 1


def _jobs(args: argparse.Namespace) -> int:
    from xgboost_byoc.launcher.local import jobs_root, list_jobs

    jobs = list_jobs()
    if not jobs:
        print(f"no jobs in {jobs_root()}")
        return 0
    print(f"{'TrainingJobName':48} {'Mode':9} {'Status':10} {'Started':26} {'Seconds':>8}")
    for job in jobs:
        print(
            f"{job['TrainingJobName']:48} {job.get('Mode', ''):9} {job['TrainingJobStatus']:10} "
            f"{job.get('TrainingStartTime', ''):26} {job.get('TrainingElapsedTimeSeconds', 0):8.1f}"
        )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xgb-byoc",
        description="Train, tune, report on and compare XGBoost jobs for the xgboost-byoc image "
        "(the local backend runs them here, without Docker or AWS).",
    )
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
        description="MODEL_OR_JOB is a model directory, a job (name or folder), a tuning job (its best trial) "
        "or a model.tar.gz. "
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

    tr = commands.add_parser(
        "train",
        help="run a built-in-style or script-mode training job",
        description="Runs the job on the chosen backend (local: here, without Docker or AWS).",
    )
    tr.add_argument("--train", required=True, help="training data: a file, a folder or s3://...")
    tr.add_argument("--validation", help="validation data")
    tr.add_argument(
        "--test", help="a test channel (script mode reads it as SM_CHANNEL_TEST; algorithm mode does not use it)"
    )
    tr.add_argument("--hp", action="append", metavar="NAME=VALUE", help="a hyperparameter; repeatable")
    tr.add_argument("--config", help="hyperparameters from a TOML or YAML file (--hp wins)")
    tr.add_argument("--entry-point", help="script mode: the training script")
    tr.add_argument("--source-dir", help="script mode: the folder shipped with it (default: the script's folder)")
    tr.add_argument(
        "--output",
        help="where model.tar.gz / output.tar.gz go: a folder (default: xgb-byoc-output) or, "
        "for the sagemaker backend, s3://bucket/prefix (required)",
    )
    tr.add_argument("--job-name", help="the job's name (default: generated, unique)")
    tr.add_argument(
        "--backend",
        default="local",
        choices=("local", "docker", "sagemaker"),
        help="local: here, no Docker, no AWS (default); docker: docker run IMAGE train; "
        "sagemaker: a SageMaker job (SDK v3; honours AWS_ENDPOINT_URL)",
    )
    tr.add_argument("--image", help="image URI (docker and sagemaker backends)")
    tr.add_argument("--role", help="sagemaker backend: the IAM role ARN SageMaker assumes")
    tr.add_argument("--region", help="sagemaker backend: AWS region (default: AWS_REGION / AWS_DEFAULT_REGION)")
    tr.add_argument("--instance-type", default="ml.m5.xlarge", help="sagemaker backend (default: ml.m5.xlarge)")
    tr.add_argument("--instance-count", type=int, default=1)
    tr.add_argument(
        "--max-runtime",
        type=int,
        default=86_400,
        metavar="SECONDS",
        help="stop the job after this long, as SageMaker does (default: 1 day)",
    )
    tr.add_argument("--no-wait", action="store_true", help="sagemaker backend: start the job and return")
    tr.add_argument("--quiet", action="store_true", help="do not stream the job's log")
    tr.set_defaults(func=_train)

    tu = commands.add_parser(
        "tune",
        help="a hyperparameter tuning job: trials as parallel local jobs, or a SageMaker tuning job",
    )
    for action in tr._actions:  # the same job flags as `train`
        if action.dest not in ("help", "quiet"):
            tu._add_action(action)
    tu.add_argument(
        "--range",
        action="append",
        metavar="NAME=KIND:SPEC",
        required=True,
        help="int:LOW:HIGH, continuous:LOW:HIGH[:log] or categorical:A,B; repeatable",
    )
    tu.add_argument("--objective", required=True, help="the metric to optimise, e.g. validation:auc")
    tu.add_argument("--objective-type", choices=("Maximize", "Minimize"), help="default: from the metric")
    tu.add_argument("--strategy", default="Random", choices=("Random", "Grid", "Bayesian"))
    tu.add_argument("--max-jobs", type=int, default=6)
    tu.add_argument("--max-parallel-jobs", type=int, default=3)
    tu.add_argument("--seed", type=int, default=0, help="makes Random and Bayesian reproducible")
    tu.set_defaults(func=_tune)

    jb = commands.add_parser("jobs", help="list local jobs ($XGB_BYOC_JOBS_DIR, default ./xgb-byoc-jobs)")
    jb.set_defaults(func=_jobs)

    cp = commands.add_parser("compare", help="precision / recall / F1 of several models side by side on a test set")
    cp.add_argument(
        "models",
        nargs="+",
        metavar="JOB_OR_MODEL",
        help="job names or folders, tuning jobs (their best trial), model folders, model.tar.gz",
    )
    cp.add_argument("--test", required=True, help="labelled test data (label in column 1)")
    cp.add_argument("--format", default="table", choices=("table", "csv", "json"))
    cp.add_argument("--content-type", default=None)
    cp.add_argument("--csv-header", default="auto", choices=("auto", "present", "absent"))
    cp.set_defaults(func=_compare)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except XgbByocError as exc:
        sys.stderr.write(f"xgb-byoc: {exc.message}\n")
        return 2
    except KeyboardInterrupt:  # what was stopped has said so; no traceback
        sys.stderr.write("xgb-byoc: interrupted\n")
        return 130
