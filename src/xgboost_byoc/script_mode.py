"""Script mode: the user's own training script, run by the sagemaker-training toolkit in the same image.

``train`` hands over here when a program is named — ``SAGEMAKER_PROGRAM`` in the environment or the
``sagemaker_program`` hyperparameter — with the code from ``sagemaker_submit_directory`` (an ``s3://``
tar.gz, honouring ``S3_ENDPOINT_URL`` as the toolkit does, a local tar.gz, or a folder). The toolkit
passes hyperparameters as ``--name value`` arguments (it JSON-decodes each value first, so the SageMaker
API's plain strings, the SDK's JSON-encoded values and the tuner's ``str()`` values all reach the script
the same way) and channels as ``SM_CHANNEL_<NAME>``.

When the script fails, the failure file's first line names the script, the exception type and its
message — not the toolkit's bare ``ExecuteUserScriptError``.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import re
import sys
from collections import deque
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from xgboost_byoc.config import JobConfig
from xgboost_byoc.errors import PlatformError, UserError
from xgboost_byoc.paths import Paths

log = logging.getLogger(__name__)
PROGRAM_ENV = "SAGEMAKER_PROGRAM"
ERROR_FILE_ENV = "XGB_BYOC_SCRIPT_ERROR_FILE"  # set for the script: where its exception hook writes
S3_ENDPOINT_ENV = "S3_ENDPOINT_URL"  # read by the toolkit when it downloads s3:// code
PROGRAM_HYPERPARAMETER = "sagemaker_program"
_EXCEPTION_LINE = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning|Iteration))(?::\s*(.*))?$")


class UserScriptError(UserError):
    """The user's script exited non-zero."""

    kind = "UserScriptError"


def program_of(hyperparameters: Mapping[str, str], environ: Mapping[str, str] | None = None) -> str | None:
    env = os.environ if environ is None else environ
    return (env.get(PROGRAM_ENV) or hyperparameters.get(PROGRAM_HYPERPARAMETER) or "").strip() or None


def describe_failure(program: str, stderr: str | None, exit_code: int | None) -> str:
    """``script train.py failed: ValueError: bad value`` from the script's captured stderr."""
    for line in reversed((stderr or "").splitlines()):
        match = _EXCEPTION_LINE.match(line.strip())
        if match:
            kind, message = match.group(1), (match.group(2) or "").strip()
            return f"script {program} failed: {kind}" + (f": {message}" if message else "")
    return f"script {program} failed with exit code {exit_code}"


class _Tail(io.TextIOBase):
    """Passes writes through to ``stream`` and keeps the last lines: the toolkit prints the script's
    stdout and stderr line by line, and its own error capture misses exceptions it does not know."""

    def __init__(self, stream: TextIO, keep: int = 400) -> None:
        self.stream = stream
        self.lines: deque[str] = deque(maxlen=keep)

    def write(self, text: str) -> int:
        self.stream.write(text)
        self.lines.extend(text.splitlines())
        return len(text)

    def flush(self) -> None:
        self.stream.flush()


def _prepare_tree(paths: Paths, job: JobConfig) -> None:
    """What SageMaker lays out before the container starts, for hand-made trees that lack it: the
    toolkit insists on resourceconfig.json and inputdataconfig.json, and scripts expect model/ to exist."""
    for folder in (paths.model_dir, paths.output_data_dir):
        folder.mkdir(parents=True, exist_ok=True)
    if not paths.resourceconfig_file.exists():
        paths.config_dir.mkdir(parents=True, exist_ok=True)
        resources = {"current_host": job.resources.current_host, "hosts": list(job.resources.hosts)}
        paths.resourceconfig_file.write_text(json.dumps(resources))
    if not paths.inputdataconfig_file.exists():
        channels = {name: {"TrainingInputMode": "File"} for name in job.channels}
        paths.inputdataconfig_file.write_text(json.dumps(channels))


def run_script(paths: Paths, job: JobConfig, program: str) -> None:
    try:
        from sagemaker_training import entry_point, environment, errors
    except ImportError as exc:
        raise PlatformError(
            f"script mode ({program}) needs the sagemaker-training toolkit: pip install 'xgboost-byoc[script]'"
        ) from exc
    _prepare_tree(paths, job)
    if len(job.resources.hosts) == 1:  # no peers to wait for: skip the toolkit's DNS wait for algo-1
        os.environ.setdefault("SM_STUDIO_LOCAL_MODE", "true")
    env = environment.Environment()
    log.info("script mode: running %s from %s", env.user_entry_point, env.module_dir)
    tail = _Tail(sys.stdout)
    hook_dir = str(Path(__file__).parent / "script_hook")
    if hook_dir not in sys.path:
        sys.path.insert(0, hook_dir)  # the toolkit builds the child's PYTHONPATH from sys.path
    error_file = paths.output_dir / ".script-exception"
    error_file.unlink(missing_ok=True)
    os.environ[ERROR_FILE_ENV] = str(error_file)
    try:
        with contextlib.redirect_stdout(tail):
            entry_point.run(
                uri=env.module_dir,
                user_entry_point=env.user_entry_point,
                args=env.to_cmd_args(),
                env_vars=env.to_env_vars(),
                capture_error=True,
            )
    except errors.ExecuteUserScriptError as exc:
        output = "\n".join(tail.lines)
        recorded = error_file.read_text(encoding="utf-8").strip() if error_file.exists() else ""
        error_file.unlink(missing_ok=True)
        headline = (
            f"script {program} failed: {recorded}"
            if recorded
            else describe_failure(program, output, getattr(exc, "return_code", None))
        )
        raise UserScriptError(
            headline,
            detail=f"{exc}\n--- last lines of the script's output ---\n{output}",
        ) from None
    except (errors.ClientError, OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"script mode could not start {program}: {first}", detail=str(exc)) from exc
