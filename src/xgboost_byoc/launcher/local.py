"""The local backend: a job run HERE, without Docker and without AWS credentials.

It lays out the job's ``/opt/ml`` tree exactly as SageMaker would (config JSONs with string values,
channels linked in, resourceconfig for ``algo-1``), runs the ``train`` entry point as a process over it,
streams its log, reads metrics from the log with the regexes SageMaker would use, and packs
``model.tar.gz`` / ``output.tar.gz`` into the output folder — as a SageMaker job leaves them in S3.

Jobs live in ``$XGB_BYOC_JOBS_DIR`` (default ``./xgb-byoc-jobs``), one folder per job with ``job.json``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from xgboost_byoc.errors import UserError
from xgboost_byoc.launcher.spec import JobSpec
from xgboost_byoc.metrics import parse_log_line

JOBS_DIR_ENV = "XGB_BYOC_JOBS_DIR"
JOB_FILE = "job.json"
STOP_GRACE_SECONDS = 120  # SageMaker kills a job this long after SIGTERM


def jobs_root() -> Path:
    return Path(os.environ.get(JOBS_DIR_ENV) or "xgb-byoc-jobs")


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, tz=UTC).isoformat(timespec="seconds")


def _link_channel(source: str, target: Path) -> None:
    if source.startswith("s3://"):
        raise UserError(f"the local backend reads local files; {source} is in S3 (use --backend sagemaker)")
    path = Path(source).resolve()
    target.mkdir(parents=True, exist_ok=True)
    files = [path] if path.is_file() else sorted(p for p in path.iterdir() if p.is_file())
    for file in files:
        (target / file.name).symlink_to(file)


def materialise(spec: JobSpec, job_dir: Path, *, link_channels: bool = True, code_dir: str | None = None) -> Path:
    """The /opt/ml tree of the job, as SageMaker lays it out; returns its root.

    ``link_channels=False`` leaves the channel folders empty (the docker backend mounts the data there);
    ``code_dir`` is where script-mode code is seen by ``train`` (default: the source folder itself).
    """
    base = job_dir / "opt_ml"
    config = base / "input" / "config"
    config.mkdir(parents=True)
    hyperparameters = dict(spec.hyperparameters)
    if spec.entry_point is not None:
        source = (spec.source_dir or spec.entry_point.parent).resolve()
        hyperparameters["sagemaker_program"] = spec.entry_point.name
        hyperparameters["sagemaker_submit_directory"] = code_dir or str(source)
    (config / "hyperparameters.json").write_text(json.dumps(hyperparameters, indent=2))
    data_config = {
        name: {"TrainingInputMode": "File", "S3DistributionType": "FullyReplicated"} for name in spec.channels
    }
    (config / "inputdataconfig.json").write_text(json.dumps(data_config, indent=2))
    resources = {"current_host": "algo-1", "hosts": ["algo-1"], "network_interface_name": "lo"}
    (config / "resourceconfig.json").write_text(json.dumps(resources))
    for name, location in spec.channels.items():
        if link_channels:
            _link_channel(location, base / "input" / "data" / name)
        else:
            (base / "input" / "data" / name).mkdir(parents=True)
    for folder in ("model", "output/data", "code"):
        (base / folder).mkdir(parents=True, exist_ok=True)
    return base


def _pack(folder: Path, archive: Path) -> None:
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "w:gz") as tar:
        for path in sorted(folder.iterdir()):
            tar.add(path, arcname=path.name)


def new_job_dir(spec: JobSpec, backend: str) -> Path:
    """The folder for a new job of a local-file backend, after the checks that need no folder."""
    if spec.output.startswith("s3://"):
        raise UserError(f"the {backend} backend writes artifacts to a local folder; give --output DIR")
    for location in spec.channels.values():
        if location.startswith("s3://"):
            raise UserError(f"the {backend} backend reads local files; {location} is in S3 (use --backend sagemaker)")
    job_dir = jobs_root() / spec.job_name
    if job_dir.exists():
        raise UserError(f"a job named {spec.job_name} exists already in {job_dir.parent}")
    return job_dir


def run_local(
    spec: JobSpec,
    *,
    echo: Callable[[str], None] | None = None,
    train_command: str | None = None,
    extra_env: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Run the job; returns (and writes to job.json) its description: status, times, metrics, artifacts."""
    job_dir = new_job_dir(spec, "local")
    base = materialise(spec, job_dir)
    command = [train_command or str(Path(sys.executable).parent / "train")]
    env = {**os.environ, **(extra_env or {}), "SAGEMAKER_BASE_DIR": str(base), "PYTHONUNBUFFERED": "1"}
    return run_job(spec, job_dir, base, command, env=env, echo=echo, backend="local")


def _stop_at_max_runtime(proc: subprocess.Popen[str], seconds: float, stopped: threading.Event) -> threading.Timer:
    """SageMaker's MaxRuntimeInSeconds: SIGTERM at the limit, SIGKILL 120 s later if still running."""

    def stop() -> None:
        if proc.poll() is not None:
            return
        stopped.set()
        proc.terminate()
        try:
            proc.wait(timeout=STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            proc.kill()

    timer = threading.Timer(seconds, stop)
    timer.daemon = True
    timer.start()
    return timer


def run_job(
    spec: JobSpec,
    job_dir: Path,
    base: Path,
    command: list[str],
    *,
    env: Mapping[str, str],
    echo: Callable[[str], None] | None,
    backend: str,
) -> dict[str, Any]:
    """Run ``command`` over the materialised tree ``base``: stream and parse its log, pack artifacts."""
    names = [d["Name"] for d in spec.metric_definitions]
    metrics: dict[str, float] = {}
    started = time.time()
    record: dict[str, Any] = {
        "TrainingJobName": spec.job_name,
        "Backend": backend,
        "Mode": spec.mode,
        "TrainingJobStatus": "InProgress",
        "TrainingStartTime": _iso(started),
        "HyperParameters": spec.hyperparameters,
        "Channels": spec.channels,
        "JobDir": str(job_dir.resolve()),
    }
    (job_dir / JOB_FILE).write_text(json.dumps(record, indent=2))
    stopped = threading.Event()
    with (
        (job_dir / "train.log").open("w") as log,
        subprocess.Popen(
            command, env=dict(env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
        ) as proc,
    ):
        timer = _stop_at_max_runtime(proc, spec.max_runtime_seconds, stopped)
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                log.write(line)
                metrics.update(parse_log_line(line.rstrip("\n"), names))
                if echo is not None:
                    echo(line.rstrip("\n"))
            code = proc.wait()
        finally:
            timer.cancel()
    ended = time.time()
    output_dir = Path(spec.output) / spec.job_name / "output"
    failure = base / "output" / "failure"
    status = "Completed" if code == 0 else "Stopped" if stopped.is_set() else "Failed"
    record.update(
        {
            "TrainingJobStatus": status,
            "TrainingEndTime": _iso(ended),
            "TrainingElapsedTimeSeconds": round(ended - started, 2),
            "ExitCode": code,
            "FinalMetricDataList": [{"MetricName": k, "Value": v} for k, v in metrics.items()],
        }
    )
    if stopped.is_set():
        record["SecondaryStatus"] = "MaxRuntimeExceeded"
        record["FailureReason"] = f"the job ran longer than --max-runtime {spec.max_runtime_seconds} s and was stopped"
    elif code != 0 and failure.exists():
        record["FailureReason"] = failure.read_text()[:1024]
    _pack(base / "output", output_dir / "output.tar.gz")
    record["OutputArtifacts"] = str((output_dir / "output.tar.gz").resolve())
    if code == 0:
        _pack(base / "model", output_dir / "model.tar.gz")
        record["ModelArtifacts"] = str((output_dir / "model.tar.gz").resolve())
    (job_dir / JOB_FILE).write_text(json.dumps(record, indent=2))
    return record


def list_jobs() -> list[dict[str, Any]]:
    root = jobs_root()
    if not root.is_dir():
        return []
    jobs = [json.loads((d / JOB_FILE).read_text()) for d in root.iterdir() if (d / JOB_FILE).is_file()]
    return sorted(jobs, key=lambda j: j.get("TrainingStartTime", ""), reverse=True)
