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
import queue
import shutil
import subprocess
import sys
import tarfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
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
    path = Path(source).resolve()
    target.mkdir(parents=True, exist_ok=True)
    if path.is_file():
        (target / path.name).symlink_to(path)
        return
    for file in sorted(p for p in path.rglob("*") if p.is_file()):  # sub-folders too: train reads them
        link = target / file.relative_to(path)
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(file)


def hosts_of(spec: JobSpec) -> list[str]:
    return [f"algo-{i + 1}" for i in range(spec.instance_count)]


def materialise(
    spec: JobSpec,
    job_dir: Path,
    *,
    link_channels: bool = True,
    code_dir: str | None = None,
    host: str = "algo-1",
    folder: str = "opt_ml",
) -> Path:
    """The /opt/ml tree of the job (of one host), as SageMaker lays it out; returns its root.

    ``link_channels=False`` leaves the channel folders empty (the docker backend mounts the data there);
    ``code_dir`` is where script-mode code is seen by ``train`` (default: the source folder itself).
    """
    base = job_dir / folder
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
    resources = {"current_host": host, "hosts": hosts_of(spec), "network_interface_name": "lo"}
    (config / "resourceconfig.json").write_text(json.dumps(resources))
    for name, location in spec.channels.items():
        if link_channels:
            _link_channel(location, base / "input" / "data" / name)
        else:
            (base / "input" / "data" / name).mkdir(parents=True)
    for sub in ("model", "output/data", "code"):
        (base / sub).mkdir(parents=True, exist_ok=True)
    return base


def _pack(folder: Path, archive: Path) -> None:
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "w:gz") as tar:
        for path in sorted(folder.iterdir()):
            tar.add(path, arcname=path.name)


def new_job_dir(spec: JobSpec, backend: str) -> Path:
    """The folder for a new job of a backend that runs here, after the checks that need no folder."""
    job_dir = jobs_root() / spec.job_name
    if job_dir.exists():
        raise UserError(f"a job named {spec.job_name} exists already in {job_dir.parent}")
    return job_dir


def fetch_channels(spec: JobSpec, job_dir: Path, echo: Callable[[str], None] | None) -> JobSpec:
    """s3:// channels downloaded into the job folder (once, shared by its hosts): the spec with local paths."""
    remote = {name: uri for name, uri in spec.channels.items() if uri.startswith("s3://")}
    if not remote:
        return spec
    from xgboost_byoc.launcher.sagemaker import Aws, download_prefix

    aws = Aws.connect()
    channels = dict(spec.channels)
    for name, uri in remote.items():
        target = job_dir / "s3-input" / name
        download_prefix(aws, uri, target, echo or (lambda _line: None))
        channels[name] = str(target)
    return replace(spec, channels=channels)


def publish(spec: JobSpec, record: dict[str, Any], echo: Callable[[str], None] | None) -> None:
    """``--output s3://…``: upload model.tar.gz / output.tar.gz where SageMaker would have put them."""
    if not spec.output.startswith("s3://"):
        return
    from xgboost_byoc.launcher.sagemaker import Aws, join_s3, upload

    aws = Aws.connect()
    for key, s3_key in (("ModelArtifacts", "S3ModelArtifacts"), ("OutputArtifacts", "S3OutputArtifacts")):
        if record.get(key):
            uri = join_s3(spec.output, spec.job_name, "output", Path(record[key]).name)
            upload(aws, Path(record[key]), uri)
            record[s3_key] = uri
            if echo is not None:
                echo(f"uploaded {Path(record[key]).name} → {uri}")
    (Path(record["JobDir"]) / JOB_FILE).write_text(json.dumps(record, indent=2))


def artifacts_dir(spec: JobSpec, job_dir: Path) -> Path:
    """Where model.tar.gz / output.tar.gz are packed: the output folder, or the job folder for s3:// output."""
    if spec.output.startswith("s3://"):
        return job_dir / "artifacts"
    return Path(spec.output) / spec.job_name / "output"


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_local(
    spec: JobSpec,
    *,
    echo: Callable[[str], None] | None = None,
    train_command: str | None = None,
    extra_env: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Run the job; returns (and writes to job.json) its description: status, times, metrics, artifacts.

    With ``instance_count`` N > 1 the job runs as N processes on this machine, hosts ``algo-1`` … ``algo-N``
    on 127.0.0.1, each with its own ``/opt/ml`` tree (``opt_ml/algo-K``), sharing the cores; the first
    host's model and output are the job's, as on SageMaker.
    """
    job_dir = new_job_dir(spec, "local")
    job_dir.mkdir(parents=True)
    try:
        given, spec = spec, fetch_channels(spec, job_dir, echo)
    except BaseException:
        shutil.rmtree(job_dir, ignore_errors=True)  # no half-made job keeps the name taken
        raise
    command = [train_command or str(Path(sys.executable).parent / "train")]
    common = {**os.environ, **(extra_env or {}), "PYTHONUNBUFFERED": "1"}
    hosts = hosts_of(spec)
    if len(hosts) == 1:
        base = materialise(spec, job_dir)
        only = Host("algo-1", base, command, {**common, "SAGEMAKER_BASE_DIR": str(base)})
        record = run_job(spec, job_dir, [only], echo=echo, backend="local", channels=given.channels)
        publish(spec, record, echo)
        return record
    threads = max(1, (os.cpu_count() or 1) // len(hosts))
    common.update(
        {
            "XGB_BYOC_TRACKER_PORT": str(_free_port()),
            "XGB_BYOC_HOST_ADDRESSES": ",".join(f"{h}=127.0.0.1" for h in hosts),
            "OMP_NUM_THREADS": common.get("OMP_NUM_THREADS", str(threads)),
        }
    )
    runs = []
    for host in hosts:
        base = materialise(spec, job_dir, host=host, folder=f"opt_ml/{host}")
        runs.append(Host(host, base, command, {**common, "SAGEMAKER_BASE_DIR": str(base)}))
    record = run_job(spec, job_dir, runs, echo=echo, backend="local", channels=given.channels)
    publish(spec, record, echo)
    return record


@dataclass
class Host:
    """One process of a job: its host name, /opt/ml tree, command and environment."""

    name: str
    base: Path
    command: list[str]
    env: Mapping[str, str]


def _stop_at_max_runtime(
    procs: Sequence[subprocess.Popen[str]], seconds: float, stopped: threading.Event
) -> threading.Timer:
    """SageMaker's MaxRuntimeInSeconds: SIGTERM at the limit, SIGKILL 120 s later if still running."""

    def stop() -> None:
        running = [p for p in procs if p.poll() is None]
        if not running:
            return
        stopped.set()
        for proc in running:
            proc.terminate()
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for proc in running:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()

    timer = threading.Timer(seconds, stop)
    timer.daemon = True
    timer.start()
    return timer


def run_job(
    spec: JobSpec,
    job_dir: Path,
    hosts: Sequence[Host],
    *,
    echo: Callable[[str], None] | None = None,
    backend: str = "local",
    channels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Run every host's process over its materialised tree: stream and parse the log, pack artifacts.

    The first host's log gives the metrics and its tree the artifacts (SageMaker reads metrics from the
    first host's stream too); with several hosts each log line is prefixed with its host.
    """
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
        "Channels": dict(channels or spec.channels),  # as given: s3:// URIs stay URIs
        "InstanceCount": len(hosts),
        "JobDir": str(job_dir.resolve()),
    }
    (job_dir / JOB_FILE).write_text(json.dumps(record, indent=2))
    stopped = threading.Event()
    several = len(hosts) > 1
    lines: queue.Queue[tuple[int, str | None]] = queue.Queue()
    logs = [(job_dir / (f"train-{h.name}.log" if several else "train.log")).open("w") for h in hosts]
    procs: list[subprocess.Popen[str]] = []
    try:
        for host in hosts:
            procs.append(
                subprocess.Popen(
                    host.command,
                    env=dict(host.env),
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                    bufsize=1,
                )
            )

        def pump(index: int, proc: subprocess.Popen[str]) -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                lines.put((index, line))
            lines.put((index, None))

        readers = [threading.Thread(target=pump, args=(i, p), daemon=True) for i, p in enumerate(procs)]
        for reader in readers:
            reader.start()
        timer = _stop_at_max_runtime(procs, spec.max_runtime_seconds, stopped)
        try:
            open_streams = len(procs)
            while open_streams:
                index, line = lines.get()
                if line is None:
                    open_streams -= 1
                    continue
                logs[index].write(line)
                text = line.rstrip("\n")
                if index == 0:
                    metrics.update(parse_log_line(text, names))
                if echo is not None:
                    echo(f"{hosts[index].name} | {text}" if several else text)
            codes = [proc.wait() for proc in procs]
        finally:
            timer.cancel()
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        for log in logs:
            log.close()
    ended = time.time()
    output_dir = artifacts_dir(spec, job_dir)
    code = next((c for c in codes if c != 0), 0)
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
    if several:
        record["ExitCodes"] = {h.name: c for h, c in zip(hosts, codes, strict=True)}
    if stopped.is_set():
        record["SecondaryStatus"] = "MaxRuntimeExceeded"
        record["FailureReason"] = f"the job ran longer than --max-runtime {spec.max_runtime_seconds} s and was stopped"
    elif code != 0:
        failed = next(h for h, c in zip(hosts, codes, strict=True) if c != 0)
        failure = failed.base / "output" / "failure"
        if failure.exists():
            reason = failure.read_text()[:1024]
            record["FailureReason"] = f"{failed.name}: {reason}" if several else reason
    master = hosts[0].base
    _pack(master / "output", output_dir / "output.tar.gz")
    record["OutputArtifacts"] = str((output_dir / "output.tar.gz").resolve())
    if code == 0:
        _pack(master / "model", output_dir / "model.tar.gz")
        record["ModelArtifacts"] = str((output_dir / "model.tar.gz").resolve())
    (job_dir / JOB_FILE).write_text(json.dumps(record, indent=2))
    return record


def list_jobs() -> list[dict[str, Any]]:
    root = jobs_root()
    if not root.is_dir():
        return []
    jobs = [json.loads((d / JOB_FILE).read_text()) for d in root.iterdir() if (d / JOB_FILE).is_file()]
    return sorted(jobs, key=lambda j: j.get("TrainingStartTime", ""), reverse=True)
