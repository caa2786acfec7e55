"""The docker backend: the local backend's ``/opt/ml`` tree, trained by ``docker run IMAGE train``.

The job folder's ``opt_ml`` is mounted at ``/opt/ml``; each channel's files are mounted read-only at
``/opt/ml/input/data/CHANNEL`` (a folder as it is, a single file inside the channel folder); script-mode
code is mounted read-only at ``/opt/ml/code`` and named there in ``sagemaker_submit_directory``. The
container runs as the calling user, so everything it writes stays the caller's. Log, metrics and
artifacts are handled exactly as the local backend does: only the process differs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from xgboost_byoc.errors import UserError
from xgboost_byoc.launcher.local import Host, fetch_channels, materialise, new_job_dir, publish, run_job
from xgboost_byoc.launcher.spec import JobSpec

CODE_DIR = "/opt/ml/code"


def docker_binary() -> str:
    found = shutil.which(os.environ.get("XGB_BYOC_DOCKER", "docker"))
    if not found:
        raise UserError("the docker backend needs the docker command on PATH; use --backend local without Docker")
    return found


def check_engine(docker: str) -> None:
    """Fail early, with docker's own words, when no engine answers."""
    try:
        probe = subprocess.run(
            [docker, "info", "--format", "{{.ServerVersion}}"], check=False, capture_output=True, text=True, timeout=30
        )
    except subprocess.TimeoutExpired:
        raise UserError("the docker backend: `docker info` did not answer within 30 s") from None
    if probe.returncode != 0:
        said = (probe.stderr or probe.stdout).strip().splitlines()
        raise UserError(
            "the docker backend: no Docker engine answers"
            + (f" ({said[-1]})" if said else "")
            + "; start one, or use --backend local"
        )


def docker_command(spec: JobSpec, base: Path, *, docker: str = "docker", user: str | None = None) -> list[str]:
    """``docker run`` for the job: /opt/ml, channels and code mounted, the caller's uid, ``IMAGE train``."""
    if not spec.image:
        raise UserError("the docker backend needs --image (e.g. xgboost-byoc:latest, built from the Dockerfile)")
    if user is None and hasattr(os, "getuid"):
        user = f"{os.getuid()}:{os.getgid()}"
    command = [docker, "run", "--rm", "--name", spec.job_name, "-v", f"{base.resolve()}:/opt/ml"]
    for channel, location in spec.channels.items():
        source = Path(location).resolve()
        target = f"/opt/ml/input/data/{channel}"
        if source.is_file():
            (base / "input" / "data" / channel / source.name).touch()  # the mount point, owned by the caller
            target = f"{target}/{source.name}"
        command += ["-v", f"{source}:{target}:ro"]
    if spec.entry_point is not None:
        source = (spec.source_dir or spec.entry_point.parent).resolve()
        command += ["-v", f"{source}:{CODE_DIR}:ro"]
    if user:
        command += ["--user", user]
    command += ["-e", "PYTHONUNBUFFERED=1", spec.image, "train"]
    return command


def run_docker(spec: JobSpec, *, echo: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run the job in the image; returns (and writes to job.json) the same record as the local backend."""
    if not spec.image:
        raise UserError("the docker backend needs --image (e.g. xgboost-byoc:latest, built from the Dockerfile)")
    job_dir = new_job_dir(spec, "docker")
    docker = docker_binary()
    check_engine(docker)
    job_dir.mkdir(parents=True)
    try:
        given, spec = spec, fetch_channels(spec, job_dir, echo)
    except BaseException:
        shutil.rmtree(job_dir, ignore_errors=True)  # no half-made job keeps the name taken
        raise
    base = materialise(spec, job_dir, link_channels=False, code_dir=CODE_DIR if spec.entry_point else None)
    command = docker_command(spec, base, docker=docker)
    host = Host("algo-1", base, command, os.environ)
    try:
        record = run_job(spec, job_dir, [host], echo=echo, backend="docker", channels=given.channels)
    except KeyboardInterrupt:
        subprocess.run([docker, "stop", "--time", "120", spec.job_name], check=False, capture_output=True, timeout=150)
        raise
    publish(spec, record, echo)
    return record
