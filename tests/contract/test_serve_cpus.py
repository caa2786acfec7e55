"""The real `serve`: each gunicorn worker bound to a CPU of its own, a restarted worker to its predecessor's."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb

from tests.conftest import Server, start_server

CPUS = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
pytestmark = pytest.mark.skipif(len(CPUS) < 2, reason="binding two workers to CPUs of their own needs two CPUs")


@pytest.fixture(scope="module")
def model_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4)).astype(np.float32)
    booster = xgb.train({"objective": "binary:logistic"}, xgb.DMatrix(X, label=X[:, 0] > 0), num_boost_round=3)
    base = tmp_path_factory.mktemp("opt_ml")
    (base / "model").mkdir()
    booster.save_model(str(base / "model" / "xgboost-model.json"))
    return base


def workers(server: Server) -> list[int]:
    master = server.process.pid
    return [int(pid) for pid in Path(f"/proc/{master}/task/{master}/children").read_text().split()]


def wait_for_workers(server: Server, count: int, other_than: tuple[int, ...] = ()) -> list[int]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        pids = workers(server)
        if len(pids) == count and not set(pids) & set(other_than) and server.request("GET", "/ping").status == 200:
            return pids
        time.sleep(0.2)
    pytest.fail(f"gunicorn did not have {count} workers within 60 s:\n{server.log.read_text()[-3000:]}")


def test_each_worker_is_bound_to_a_cpu_of_its_own_and_a_restarted_one_to_the_same(
    model_base: Path, tmp_path: Path
) -> None:
    env = {"SAGEMAKER_MODEL_SERVER_WORKERS": "2", "XGB_BYOC_PREDICT_THREADS": "1"}
    server = start_server(model_base, tmp_path / "serve.log", env=env)
    try:
        pids = wait_for_workers(server, 2)
        bound = {pid: os.sched_getaffinity(pid) for pid in pids}
        assert sorted(bound.values(), key=min) == [{CPUS[0]}, {CPUS[1]}], bound
        assert server.invoke(b"0.5,0,0,0\n-0.5,0,0,0\n").status == 200

        killed = pids[0]
        os.kill(killed, signal.SIGKILL)
        (replacement,) = set(wait_for_workers(server, 2, other_than=(killed,))) - set(pids)
        assert os.sched_getaffinity(replacement) == bound[killed]
        assert server.invoke(b"0.5,0,0,0\n").status == 200
    finally:
        server.stop()
    log = server.log.read_text()
    assert "each bound to CPUs of its own" in log
    assert log.count("bound to CPU ") == 3, log[-3000:]


def test_pin_workers_false_leaves_the_workers_where_the_kernel_puts_them(model_base: Path, tmp_path: Path) -> None:
    env = {"SAGEMAKER_MODEL_SERVER_WORKERS": "2", "XGB_BYOC_PREDICT_THREADS": "1", "XGB_BYOC_PIN_WORKERS": "false"}
    server = start_server(model_base, tmp_path / "serve.log", env=env)
    try:
        pids = wait_for_workers(server, 2)
        assert all(os.sched_getaffinity(pid) == set(CPUS) for pid in pids)
    finally:
        server.stop()
    assert "not bound to CPUs (XGB_BYOC_PIN_WORKERS=false)" in server.log.read_text()


def test_pin_workers_true_that_cannot_fit_stops_serve_with_the_reason(model_base: Path, tmp_path: Path) -> None:
    env = {
        "SAGEMAKER_MODEL_SERVER_WORKERS": str(len(CPUS) + 1),
        "XGB_BYOC_PREDICT_THREADS": "1",
        "XGB_BYOC_PIN_WORKERS": "true",
    }
    server = start_server(model_base, tmp_path / "serve.log", env=env, wait=False)
    assert server.process.wait(timeout=60) == 1
    assert f"needs workers x threads <= CPUs, but {len(CPUS) + 1} x 1 > {len(CPUS)}" in server.log.read_text()
