"""The local backend keeps SageMaker's MaxRuntimeInSeconds: SIGTERM at the limit, then the job's record
says Stopped / MaxRuntimeExceeded (the container checkpoints and exits 143 on SIGTERM)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.conftest import xgb_byoc

pytestmark = [pytest.mark.e2e]


def test_max_runtime_stops_a_local_job_like_sagemaker(tmp_path: Path, small_data: Path) -> None:
    started = time.monotonic()
    result = xgb_byoc(
        tmp_path,
        "train",
        "--train",
        str(small_data / "train"),
        "--hp",
        "num_round=1000000",
        "--hp",
        "objective=binary:logistic",
        "--hp",
        "max_depth=8",
        "--max-runtime",
        "4",
        "--job-name",
        "too-long",
        "--quiet",
        timeout=300,
    )
    elapsed = time.monotonic() - started
    assert result.returncode == 1, result.stdout + result.stderr
    job = json.loads((tmp_path / "jobs" / "too-long" / "job.json").read_text())
    assert job["TrainingJobStatus"] == "Stopped" and job["SecondaryStatus"] == "MaxRuntimeExceeded"
    assert job["ExitCode"] == 143  # the container's SIGTERM contract, not a SIGKILL
    assert "longer than --max-runtime 4 s" in job["FailureReason"]
    assert "failure      the job ran longer than --max-runtime 4 s" in result.stdout
    assert elapsed < 100, elapsed  # stopped by SIGTERM, long before the 120 s SIGKILL or the rounds' end
