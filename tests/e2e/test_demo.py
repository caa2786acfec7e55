"""`make demo`'s script end to end, over a temporary test tree and a free port: every step of the lab's
story runs and prints what the README promises; its server is stopped when it ends."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, free_port

pytestmark = [pytest.mark.e2e]


def test_demo_tells_the_whole_story(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "TEST_DIR": str(tmp_path / "test_dir"), "PORT": str(port), "PYTHON": sys.executable}
    env.pop("XGB_BYOC_JOBS_DIR", None)
    config = REPO / "local_test" / "test_dir" / "input" / "config"  # committed: what the demo trains with
    shutil.copytree(config, tmp_path / "test_dir" / "input" / "config")
    proc = subprocess.Popen(
        [str(REPO / "local_test" / "demo.sh")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # the demo's server too is in this group, to stop it if the demo hangs
    )
    try:
        out, _ = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 0, out[-4000:]
    for step in range(1, 6):
        assert f"== {step}. " in out
    assert "cv:auc" in out and '"error"' in out  # training metrics; the bad request's one-line JSON error
    tuning = re.search(r"tuning job (demo-tune-\S+) done in", out)
    assert tuning, out[-3000:]
    assert f"tuning job {tuning.group(1)}: its best trial is {tuning.group(1)}-" in out
    header = next(line for line in out.splitlines() if line.startswith("metric "))
    assert "builtin-demo@" in header and "script-demo@" in header and f"{tuning.group(1)}-" in header
    assert re.search(r"^accuracy\s+0\.9\d+", out, re.MULTILINE)  # held-out accuracy of the first model
    assert (tmp_path / "test_dir" / "test.csv").is_file()
    assert (tmp_path / "xgb-byoc-jobs" / tuning.group(1) / "tuning_results.csv").is_file()
    with pytest.raises(OSError):  # the demo's server was stopped with it
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
