"""The sagemaker backend: the same job spec, run as a SageMaker training or tuning job (SDK v3).

It uses ``sagemaker-core``, the typed resource layer of the SageMaker Python SDK v3
(``TrainingJob.create``, ``HyperParameterTuningJob.create`` and their request shapes, validated by
pydantic before anything is sent), rather than ``ModelTrainer`` / ``HyperparameterTuner`` on top of it:

- ``ModelTrainer``'s ``SourceCode`` replaces the image's entry point with the SDK's own ``sm_train.sh``
  driver. Our image's ``train`` hands script mode to the sagemaker-training toolkit itself, as AWS's
  framework images do, so the launcher ships ``sourcedir.tar.gz`` and names it in
  ``sagemaker_program`` / ``sagemaker_submit_directory``: the same contract as the local backend.
- ``ModelTrainer`` appends its own second-resolution timestamp to every job name; our names are the spec's.
- ``HyperparameterTuner`` does not carry the trainer's metric definitions over and ``str()``-s static
  hyperparameters; here both are stated in the request (definitions from the container's ``metrics``
  module, hyperparameters as the exact strings the container parses).

Local channels and code are uploaded under ``--output s3://bucket/prefix/JOB/input/…``; ``s3://``
channels are passed through. boto3 honours ``AWS_ENDPOINT_URL`` (and ``AWS_ENDPOINT_URL_S3`` /
``…_SAGEMAKER``), so the backend can be pointed at a local AWS-compatible endpoint. A finished job's
``model.tar.gz`` / ``output.tar.gz`` are downloaded into the local jobs folder with a ``job.json``, so
``xgb-byoc jobs`` and ``xgb-byoc compare JOB`` work for SageMaker jobs as for local ones.
"""

from __future__ import annotations

import os
import re
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from xgboost_byoc.errors import UserError, XgbByocError
from xgboost_byoc.launcher.local import JOB_FILE, jobs_root
from xgboost_byoc.launcher.spec import JobSpec
from xgboost_byoc.metrics import parse_log_line

INSTALL_HINT = "pip install 'xgboost-byoc[launcher]'"
ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/\S+$")
LOG_GROUP = "/aws/sagemaker/TrainingJobs"
TERMINAL = ("Completed", "Failed", "Stopped")
VOLUME_GB = 30

Echo = Callable[[str], None]


class AwsError(XgbByocError):
    """AWS refused a call: the message names the call and AWS's own error."""

    kind = "AwsError"
    exit_code = 1


def _sdk() -> tuple[Any, Any]:
    """``(resources, shapes)`` of sagemaker-core, or a clear error naming the extra to install."""
    try:
        from sagemaker.core import resources, shapes
    except ImportError:
        raise UserError(f"the sagemaker backend needs the SageMaker Python SDK v3: {INSTALL_HINT}") from None
    return resources, shapes


def split_s3(uri: str) -> tuple[str, str]:
    """``s3://bucket/key/…`` → ``(bucket, "key/…")`` (no trailing slash)."""
    if not uri.startswith("s3://") or not uri[5:].split("/", 1)[0]:
        raise UserError(f"{uri!r} is not an s3://bucket/… URI")
    bucket, _, key = uri[5:].partition("/")
    return bucket, key.strip("/")


def join_s3(root: str, *parts: str) -> str:
    return "/".join([root.rstrip("/"), *(p.strip("/") for p in parts if p)])


@dataclass
class Aws:
    """One boto3 session and the clients the backend uses (all honour AWS_ENDPOINT_URL)."""

    session: Any
    region: str

    @classmethod
    def connect(cls, region: str | None = None) -> Aws:
        try:
            import boto3
        except ImportError:
            raise UserError(f"AWS access (s3://, the sagemaker backend) needs boto3: {INSTALL_HINT}") from None

        session = boto3.Session(region_name=region) if region else boto3.Session()
        if not session.region_name:
            raise UserError("no AWS region: pass --region or set AWS_REGION / AWS_DEFAULT_REGION")
        if session.get_credentials() is None:
            raise UserError(
                "no AWS credentials: run `aws configure` / `aws sso login`, set AWS_PROFILE, "
                "or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
            )
        return cls(session, session.region_name)

    def client(self, service: str) -> Any:
        return self.session.client(service, region_name=self.region)


def _aws_call(what: str, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run one AWS call; a refusal becomes one line naming the call and AWS's error code and message."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return call(*args, **kwargs)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise AwsError(f"{what}: {error.get('Code', 'error')}: {error.get('Message', exc)}") from None
    except BotoCoreError as exc:
        raise AwsError(f"{what}: {exc}") from None


# ---------------------------------------------------------------------------------------------- staging


def _files(path: Path) -> list[tuple[Path, str]]:
    """(file, key relative to the channel) for a file or every file below a folder, sorted."""
    if path.is_file():
        return [(path, path.name)]
    return sorted((p, p.relative_to(path).as_posix()) for p in path.rglob("*") if p.is_file())


def stage_channels(spec: JobSpec, aws: Aws, root: str, echo: Echo) -> dict[str, str]:
    """Local channels → ``ROOT/JOB/input/CHANNEL/``; s3:// channels as they are. Returns channel → URI."""
    s3 = aws.client("s3")
    staged: dict[str, str] = {}
    for channel, location in spec.channels.items():
        if location.startswith("s3://"):
            staged[channel] = location
            continue
        prefix = join_s3(root, spec.job_name, "input", channel)
        files = _files(Path(location))
        if not files:
            raise UserError(f"--{channel} {location}: no files to upload")
        size = sum(f.stat().st_size for f, _ in files)
        echo(f"uploading {channel}: {len(files)} file(s), {size / 1e6:.1f} MB → {prefix}/")
        bucket, key = split_s3(prefix)
        for file, relative in files:
            target = f"{key}/{relative}" if key else relative
            _aws_call(f"uploading {file} to s3://{bucket}/{target}", s3.upload_file, str(file), bucket, target)
        staged[channel] = prefix + "/"
    return staged


def pack_source(spec: JobSpec, archive: Path) -> str:
    """``sourcedir.tar.gz`` of the source folder (or the entry point's folder); returns the program's path in it."""
    assert spec.entry_point is not None
    source = (spec.source_dir or spec.entry_point.parent).resolve()
    entry = spec.entry_point if spec.entry_point.is_absolute() else Path.cwd() / spec.entry_point
    if not entry.is_file() and spec.source_dir is not None:
        entry = spec.source_dir / spec.entry_point
    try:
        program = entry.resolve().relative_to(source).as_posix()
    except ValueError:
        raise UserError(f"--entry-point {spec.entry_point} is not inside --source-dir {source}") from None
    with tarfile.open(archive, "w:gz") as tar:
        for file, relative in _files(source):
            if "__pycache__" in Path(relative).parts:
                continue
            tar.add(file, arcname=relative)
    return program


def stage_code(spec: JobSpec, aws: Aws, root: str, echo: Echo) -> dict[str, str]:
    """Script mode: upload sourcedir.tar.gz; returns the hyperparameters that name it for the toolkit."""
    uri = join_s3(root, spec.job_name, "source", "sourcedir.tar.gz")
    with tempfile.TemporaryDirectory() as scratch:
        archive = Path(scratch) / "sourcedir.tar.gz"
        program = pack_source(spec, archive)
        echo(f"uploading code: {program} and its folder ({archive.stat().st_size / 1e3:.1f} kB) → {uri}")
        bucket, key = split_s3(uri)
        _aws_call(f"uploading {uri}", aws.client("s3").upload_file, str(archive), bucket, key)
    return {"sagemaker_program": program, "sagemaker_submit_directory": uri, "sagemaker_region": aws.region}


# --------------------------------------------------------------------------------------------- requests


def check_target(spec: JobSpec, *, role: str | None) -> tuple[str, str, str]:
    """(image, role, output root) for a SageMaker job, or the one error saying what is missing."""
    problems = []
    if not spec.image:
        problems.append("--image URI (the image in ECR, e.g. from build_and_push.sh)")
    if not role:
        problems.append("--role ARN (the IAM role SageMaker assumes)")
    elif not ROLE_ARN.match(role):
        problems.append(f"--role {role!r} is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)")
    if not spec.output.startswith("s3://"):
        problems.append("--output s3://bucket/prefix (SageMaker writes model.tar.gz there)")
    if problems:
        raise UserError("the sagemaker backend needs " + "; ".join(problems))
    split_s3(spec.output)
    return str(spec.image), str(role), spec.output.rstrip("/")


def _channels(shapes: Any, staged: Mapping[str, str]) -> list[Any]:
    return [
        shapes.Channel(
            channel_name=name,
            data_source=shapes.DataSource(
                s3_data_source=shapes.S3DataSource(
                    s3_data_type="S3Prefix", s3_uri=uri, s3_data_distribution_type="FullyReplicated"
                )
            ),
            input_mode="File",
        )
        for name, uri in staged.items()
    ]


def _metric_definitions(shapes: Any, definitions: Sequence[Mapping[str, str]]) -> list[Any]:
    return [shapes.MetricDefinition(name=d["Name"], regex=d["Regex"]) for d in definitions]


def training_request(
    spec: JobSpec,
    *,
    role: str,
    staged: Mapping[str, str],
    hyperparameters: Mapping[str, str],
    output: str,
) -> dict[str, Any]:
    """The keyword arguments of ``TrainingJob.create`` (sagemaker-core shapes) for this spec."""
    _, shapes = _sdk()
    return {
        "training_job_name": spec.job_name,
        "role_arn": role,
        "algorithm_specification": shapes.AlgorithmSpecification(
            training_image=spec.image,
            training_input_mode="File",
            metric_definitions=_metric_definitions(shapes, spec.metric_definitions),
        ),
        "hyper_parameters": dict(hyperparameters),
        "input_data_config": _channels(shapes, staged),
        "output_data_config": shapes.OutputDataConfig(s3_output_path=output),
        "resource_config": shapes.ResourceConfig(
            instance_type=spec.instance_type, instance_count=spec.instance_count, volume_size_in_gb=VOLUME_GB
        ),
        "stopping_condition": shapes.StoppingCondition(max_runtime_in_seconds=spec.max_runtime_seconds),
    }


def tuning_request(
    spec: JobSpec,
    ranges: Sequence[Any],
    *,
    tuning_name: str,
    role: str,
    staged: Mapping[str, str],
    hyperparameters: Mapping[str, str],
    output: str,
    objective: str,
    maximize: bool,
    strategy: str,
    max_jobs: int,
    max_parallel: int,
    seed: int,
    definitions: Sequence[Mapping[str, str]],
) -> dict[str, Any]:
    """The keyword arguments of ``HyperParameterTuningJob.create`` for this spec and these ranges."""
    _, shapes = _sdk()
    tuned = {r.name for r in ranges}
    integer, continuous, categorical = [], [], []
    for r in ranges:
        scaling = "Logarithmic" if r.log else "Auto"
        if r.kind == "Integer":
            integer.append(
                shapes.IntegerParameterRange(
                    name=r.name, min_value=str(int(r.low)), max_value=str(int(r.high)), scaling_type=scaling
                )
            )
        elif r.kind == "Continuous":
            continuous.append(
                shapes.ContinuousParameterRange(
                    name=r.name, min_value=f"{r.low:g}", max_value=f"{r.high:g}", scaling_type=scaling
                )
            )
        else:
            categorical.append(shapes.CategoricalParameterRange(name=r.name, values=list(r.values)))
    limits = shapes.ResourceLimits(max_parallel_training_jobs=max_parallel)
    if strategy != "Grid":  # Grid runs every combination; SageMaker derives the count itself
        limits.max_number_of_training_jobs = max_jobs
    config = shapes.HyperParameterTuningJobConfig(
        strategy=strategy,
        hyper_parameter_tuning_job_objective=shapes.HyperParameterTuningJobObjective(
            type="Maximize" if maximize else "Minimize", metric_name=objective
        ),
        resource_limits=limits,
        parameter_ranges=shapes.ParameterRanges(
            integer_parameter_ranges=integer,
            continuous_parameter_ranges=continuous,
            categorical_parameter_ranges=categorical,
        ),
        training_job_early_stopping_type="Off",
        random_seed=seed,
    )
    definition = shapes.HyperParameterTrainingJobDefinition(
        static_hyper_parameters={k: v for k, v in hyperparameters.items() if k not in tuned},
        algorithm_specification=shapes.HyperParameterAlgorithmSpecification(
            training_image=spec.image,
            training_input_mode="File",
            metric_definitions=_metric_definitions(shapes, definitions),
        ),
        role_arn=role,
        input_data_config=_channels(shapes, staged),
        output_data_config=shapes.OutputDataConfig(s3_output_path=output),
        resource_config=shapes.ResourceConfig(
            instance_type=spec.instance_type, instance_count=spec.instance_count, volume_size_in_gb=VOLUME_GB
        ),
        stopping_condition=shapes.StoppingCondition(max_runtime_in_seconds=spec.max_runtime_seconds),
    )
    return {
        "hyper_parameter_tuning_job_name": tuning_name,
        "hyper_parameter_tuning_job_config": config,
        "training_job_definition": definition,
    }


def _prepare(spec: JobSpec, aws: Aws, role: str | None, echo: Echo) -> tuple[str, dict[str, str], dict[str, str]]:
    """Checks, uploads; returns (role, staged channels, the hyperparameters the container gets)."""
    _sdk()
    _, role, root = check_target(spec, role=role)
    staged = stage_channels(spec, aws, root, echo)
    hyperparameters = dict(spec.hyperparameters)
    if spec.entry_point is not None:
        hyperparameters.update(stage_code(spec, aws, root, echo))
    return role, staged, hyperparameters


# ------------------------------------------------------------------------------------------ training job


class LogTail:
    """New CloudWatch log lines of a training job (every host's stream), oldest first."""

    def __init__(self, aws: Aws, job: str) -> None:
        self.logs = aws.client("logs")
        self.job = job
        self.tokens: dict[str, str | None] = {}

    def lines(self) -> Iterator[str]:
        from botocore.exceptions import ClientError

        try:
            streams = self.logs.describe_log_streams(logGroupName=LOG_GROUP, logStreamNamePrefix=f"{self.job}/")
        except ClientError:  # the group or the streams do not exist until the job's containers start
            return
        for stream in streams.get("logStreams", []):
            name = stream["logStreamName"]
            for _ in range(100):  # bounded: 100 pages of 10 000 events per poll at most
                kwargs: dict[str, Any] = {"logGroupName": LOG_GROUP, "logStreamName": name, "startFromHead": True}
                if self.tokens.get(name):
                    kwargs["nextToken"] = self.tokens[name]
                try:
                    page = self.logs.get_log_events(**kwargs)
                except ClientError:
                    break
                for event in page.get("events", []):
                    yield event["message"]
                token = page.get("nextForwardToken")
                if not page.get("events") or token == self.tokens.get(name):
                    self.tokens[name] = token
                    break
                self.tokens[name] = token


def _iso(value: Any) -> str | None:
    return value.isoformat(timespec="seconds") if isinstance(value, datetime) else None


def _set(value: Any) -> bool:
    """sagemaker-core marks absent fields with an ``Unassigned`` object."""
    return value is not None and type(value).__name__ != "Unassigned"


def wait_for_job(
    job: Any,
    aws: Aws,
    *,
    names: Sequence[str],
    echo: Echo,
    poll_seconds: float,
    timeout_seconds: float,
    stream_logs: bool = True,
) -> dict[str, float]:
    """Poll until the job ends (bounded), printing status changes and its log; returns metrics seen in the log."""
    tail = LogTail(aws, job.training_job_name) if stream_logs else None
    seen: dict[str, float] = {}
    last = ""
    deadline = time.monotonic() + timeout_seconds
    while True:
        _aws_call(f"DescribeTrainingJob {job.training_job_name}", job.refresh)
        status = f"{job.training_job_status} / {job.secondary_status}"
        if status != last:
            echo(f"status: {status}")
            last = status
        if tail is not None:
            for line in tail.lines():
                seen.update(parse_log_line(line, names))
                echo(f"  | {line}")
        if job.training_job_status in TERMINAL:
            return seen
        if time.monotonic() > deadline:
            raise AwsError(
                f"job {job.training_job_name} still {job.training_job_status} after {timeout_seconds:.0f} s; "
                "it keeps running on SageMaker"
            )
        time.sleep(poll_seconds)


def _download(aws: Aws, uri: str, target: Path) -> bool:
    """Download one object; False when it does not exist (a failed job leaves no model)."""
    from botocore.exceptions import ClientError

    bucket, key = split_s3(uri)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        aws.client("s3").download_file(bucket, key, str(target))
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return False
        raise AwsError(f"downloading {uri}: {exc}") from None
    return True


def download_prefix(aws: Aws, uri: str, target: Path, echo: Echo) -> int:
    """Every object under ``uri`` (a prefix, or one object) into ``target``, keeping relative paths."""
    bucket, key = split_s3(uri)
    s3 = aws.client("s3")
    objects: list[tuple[str, int]] = []

    def list_all() -> None:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=key):
            objects.extend((o["Key"], o["Size"]) for o in page.get("Contents", []) if not o["Key"].endswith("/"))

    _aws_call(f"listing {uri}", list_all)
    if not objects:
        raise UserError(f"{uri}: no objects there")
    echo(f"downloading {uri}: {len(objects)} object(s), {sum(n for _, n in objects) / 1e6:.1f} MB")
    for name, _ in objects:
        relative = name[len(key) :].lstrip("/") if name != key else Path(name).name
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        _aws_call(f"downloading s3://{bucket}/{name}", s3.download_file, bucket, name, str(destination))
    return len(objects)


def upload(aws: Aws, file: Path, uri: str) -> None:
    bucket, key = split_s3(uri)
    _aws_call(f"uploading {file} to {uri}", aws.client("s3").upload_file, str(file), bucket, key)


def record_of(job: Any, spec: JobSpec, job_dir: Path) -> dict[str, Any]:
    """A job.json record with the local backend's keys, from DescribeTrainingJob."""
    started = job.training_start_time if _set(job.training_start_time) else None
    ended = job.training_end_time if _set(job.training_end_time) else None
    record: dict[str, Any] = {
        "TrainingJobName": job.training_job_name,
        "Backend": "sagemaker",
        "Mode": spec.mode,
        "TrainingJobStatus": job.training_job_status,
        "SecondaryStatus": job.secondary_status,
        "TrainingJobArn": job.training_job_arn,
        "TrainingStartTime": _iso(started),
        "TrainingEndTime": _iso(ended),
        "TrainingElapsedTimeSeconds": round((ended - started).total_seconds(), 2) if started and ended else None,
        "HyperParameters": dict(job.hyper_parameters) if _set(job.hyper_parameters) else {},
        "Channels": spec.channels,
        "JobDir": str(job_dir.resolve()),
        "FinalMetricDataList": [
            {"MetricName": m.metric_name, "Value": m.value}
            for m in (job.final_metric_data_list if _set(job.final_metric_data_list) else [])
        ],
    }
    if _set(job.failure_reason):
        record["FailureReason"] = job.failure_reason
    if _set(job.model_artifacts):
        record["S3ModelArtifacts"] = job.model_artifacts.s3_model_artifacts
    return record


def run_sagemaker(
    spec: JobSpec,
    *,
    role: str | None,
    region: str | None = None,
    wait: bool = True,
    echo: Echo = print,
    poll_seconds: float = 15.0,
    stream_logs: bool = True,
) -> dict[str, Any]:
    """Start the training job; with ``wait``, follow it and download its artifacts. Returns its record."""
    import json

    if (jobs_root() / spec.job_name / JOB_FILE).exists():
        raise UserError(f"a job named {spec.job_name} exists already in {jobs_root()}; choose another --job-name")
    aws = Aws.connect(region)
    resources, _ = _sdk()
    role, staged, hyperparameters = _prepare(spec, aws, role, echo)
    request = training_request(spec, role=role, staged=staged, hyperparameters=hyperparameters, output=spec.output)
    job = _aws_call(
        f"CreateTrainingJob {spec.job_name}",
        resources.TrainingJob.create,
        **request,
        session=aws.session,
        region=aws.region,
    )
    echo(f"started SageMaker training job {spec.job_name} ({spec.instance_count} × {spec.instance_type})")
    job_dir = jobs_root() / spec.job_name
    job_dir.mkdir(parents=True, exist_ok=True)
    if not wait:
        record = record_of(job, spec, job_dir)
        (job_dir / JOB_FILE).write_text(json.dumps(record, indent=2))
        return record
    try:
        seen = wait_for_job(
            job,
            aws,
            names=[d["Name"] for d in spec.metric_definitions],
            echo=echo,
            poll_seconds=poll_seconds,
            timeout_seconds=spec.max_runtime_seconds + 3600,
            stream_logs=stream_logs,
        )
    except KeyboardInterrupt:
        echo(
            f"stopped following; the job keeps running. Stop it with: "
            f"aws sagemaker stop-training-job --training-job-name {spec.job_name}"
        )
        raise
    record = record_of(job, spec, job_dir)
    if not record["FinalMetricDataList"] and seen:  # SageMaker's list is the authority; the log fills a gap
        record["FinalMetricDataList"] = [{"MetricName": k, "Value": v} for k, v in seen.items()]
    output_uri = join_s3(spec.output, spec.job_name, "output", "output.tar.gz")
    if _download(aws, output_uri, job_dir / "output.tar.gz"):
        record["OutputArtifacts"] = str((job_dir / "output.tar.gz").resolve())
    missing = None
    if record["TrainingJobStatus"] == "Completed" and record.get("S3ModelArtifacts"):
        model_uri = record["S3ModelArtifacts"]
        if _download(aws, model_uri, job_dir / "model.tar.gz"):
            record["ModelArtifacts"] = str((job_dir / "model.tar.gz").resolve())
            echo(f"downloaded {model_uri} → {record['ModelArtifacts']}")
        else:
            missing = f"job {spec.job_name} completed but {model_uri} does not exist"
    (job_dir / JOB_FILE).write_text(json.dumps(record, indent=2))
    if missing:
        raise AwsError(missing)
    return record


# -------------------------------------------------------------------------------------------- tuning job


def result_rows(summaries: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """ListTrainingJobsForHyperParameterTuningJob summaries → tuning_results.csv rows (SageMaker's analytics)."""
    rows = []
    for summary in summaries:
        started, ended = summary.get("TrainingStartTime"), summary.get("TrainingEndTime")
        objective = summary.get("FinalHyperParameterTuningJobObjectiveMetric") or {}
        rows.append(
            {
                **{k: str(v).strip('"') for k, v in (summary.get("TunedHyperParameters") or {}).items()},
                "TrainingJobName": summary.get("TrainingJobName"),
                "TrainingJobStatus": summary.get("TrainingJobStatus"),
                "FinalObjectiveValue": objective.get("Value"),
                "TrainingStartTime": _iso(started),
                "TrainingEndTime": _iso(ended),
                "TrainingElapsedTimeSeconds": (ended - started).total_seconds() if started and ended else None,
            }
        )
    return rows


def tune_sagemaker(
    spec: JobSpec,
    ranges: Sequence[Any],
    *,
    objective: str,
    objective_type: str | None,
    strategy: str,
    max_jobs: int,
    max_parallel: int,
    seed: int,
    name: str | None,
    role: str | None,
    region: str | None = None,
    wait: bool = True,
    echo: Echo = print,
    poll_seconds: float = 30.0,
) -> tuple[Path | None, list[dict[str, Any]]]:
    """Start a SageMaker tuning job; with ``wait``, follow it and write tuning_results.csv (best first)."""
    from xgboost_byoc.launcher.tuning import (
        STRATEGIES,
        definitions_with,
        objective_maximized,
        tuning_job_name,
        write_results,
    )

    if strategy not in STRATEGIES:
        raise UserError(f"--strategy {strategy}: use one of {', '.join(STRATEGIES)}")
    if not ranges:
        raise UserError("a tuning job needs at least one --range")
    if max_parallel < 1 or max_jobs < 1:
        raise UserError("--max-jobs and --max-parallel-jobs must be >= 1")
    maximize = objective_maximized(objective, objective_type)
    tuning_name = tuning_job_name(name)
    aws = Aws.connect(region)
    resources, _ = _sdk()
    # uploads go under the tuning job's name, as a training job's go under its own
    staging = replace(spec, job_name=tuning_name)
    role, staged, hyperparameters = _prepare(staging, aws, role, echo)
    request = tuning_request(
        spec,
        ranges,
        tuning_name=tuning_name,
        role=role,
        staged=staged,
        hyperparameters=hyperparameters,
        output=spec.output,
        objective=objective,
        maximize=maximize,
        strategy=strategy,
        max_jobs=max_jobs,
        max_parallel=max_parallel,
        seed=seed,
        definitions=definitions_with(spec, objective),
    )
    job = _aws_call(
        f"CreateHyperParameterTuningJob {tuning_name}",
        resources.HyperParameterTuningJob.create,
        **request,
        session=aws.session,
        region=aws.region,
    )
    jobs = "every grid point" if strategy == "Grid" else f"{max_jobs} jobs"
    echo(
        f"started SageMaker tuning job {tuning_name}: {jobs}, {max_parallel} at a time, {strategy}, "
        f"objective {objective} ({'Maximize' if maximize else 'Minimize'})"
    )
    if not wait:
        return None, []
    deadline = time.monotonic() + 7 * 24 * 3600  # SageMaker's own limit for a tuning job is 30 days
    last = ""
    while True:
        _aws_call(f"DescribeHyperParameterTuningJob {tuning_name}", job.refresh)
        counters = job.training_job_status_counters
        line = (
            f"status: {job.hyper_parameter_tuning_job_status}; jobs completed {counters.completed}, "
            f"in progress {counters.in_progress}, failed {counters.non_retryable_error + counters.retryable_error}, "
            f"stopped {counters.stopped}"
        )
        if _set(job.best_training_job):
            best = job.best_training_job
            value = best.final_hyper_parameter_tuning_job_objective_metric
            if _set(value):
                line += f"; best {best.training_job_name} {objective}={value.value:.6f}"
        if line != last:
            echo(line)
            last = line
        if job.hyper_parameter_tuning_job_status in TERMINAL:
            break
        if time.monotonic() > deadline:
            raise AwsError(f"tuning job {tuning_name} still running after 7 days; it keeps running on SageMaker")
        time.sleep(poll_seconds)
    sagemaker = aws.client("sagemaker")
    summaries: list[dict[str, Any]] = []

    def list_all() -> None:
        pages = sagemaker.get_paginator("list_training_jobs_for_hyper_parameter_tuning_job")
        for page in pages.paginate(HyperParameterTuningJobName=tuning_name):
            summaries.extend(page["TrainingJobSummaries"])

    _aws_call(f"ListTrainingJobsForHyperParameterTuningJob {tuning_name}", list_all)
    path, rows = write_results(tuning_name, ranges, result_rows(summaries), maximize)
    echo(f"tuning job {tuning_name} {job.hyper_parameter_tuning_job_status}; results in {path}")
    return path, rows


def endpoint_note() -> str:
    """`` via URL`` when AWS_ENDPOINT_URL points the backend elsewhere than AWS, for the header line."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    return f" via {endpoint}" if endpoint else ""
