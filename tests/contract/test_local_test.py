"""local_test/train_local.sh: generates its data and runs the installed `train` over the tree."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO, entry_point


def test_train_local_generates_data_and_trains(tmp_path: Path) -> None:
    test_dir = tmp_path / "test_dir"
    shutil.copytree(REPO / "local_test" / "test_dir" / "input" / "config", test_dir / "input" / "config")
    env = {**os.environ, "TEST_DIR": str(test_dir), "TRAIN": entry_point("train"), "PYTHON": sys.executable}
    result = subprocess.run(
        [str(REPO / "local_test" / "train_local.sh"), "some-image:latest"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert (test_dir / "output" / "success").exists()
    assert (test_dir / "model" / "xgboost-model").exists()
    rows = {  # 60/20/20, stratified: test.csv (outside input/data) is for compare, never trained on
        name: len((test_dir / path).read_text().splitlines())
        for name, path in (
            ("train", "input/data/train/breast_cancer_train.csv"),
            ("validation", "input/data/validation/breast_cancer_validation.csv"),
            ("test", "test.csv"),
        )
    }
    assert rows == {"train": 343, "validation": 113, "test": 113}
    metrics = json.loads((test_dir / "output/data/metrics.json").read_text())
    assert metrics["cv:auc"] > 0.97
    if shutil.which("docker") is None:
        assert "no Docker engine here" in result.stderr


def test_metric_definitions_cli_prints_sagemaker_json() -> None:
    result = subprocess.run(
        [entry_point("xgb-byoc"), "metric-definitions", "--hp", "eval_metric=auc,logloss", "--hp", "kfold=5"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    definitions = json.loads(result.stdout)
    assert {
        "Name": "validation:auc",
        "Regex": r".*\[[0-9]+\].*#011validation\-auc:([-+]?(?:[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?|nan|inf)).*",
    } in definitions
    assert len(definitions) == 8


def test_metric_definitions_cli_rejects_bad_hyperparameters() -> None:
    result = subprocess.run(
        [entry_point("xgb-byoc"), "metric-definitions", "--hp", "eval_metric=acu"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2 and "did you mean 'auc'?" in result.stderr


def test_serve_local_and_predict_scripts_answer(tmp_path: Path) -> None:
    import signal
    import time

    from tests.conftest import free_port

    test_dir = tmp_path / "test_dir"
    shutil.copytree(REPO / "local_test" / "test_dir" / "input" / "config", test_dir / "input" / "config")
    env = {**os.environ, "TEST_DIR": str(test_dir), "TRAIN": entry_point("train"), "PYTHON": sys.executable}
    subprocess.run([str(REPO / "local_test" / "train_local.sh")], env=env, check=True, capture_output=True, timeout=300)
    port = str(free_port())
    serve_env = {**env, "SERVE": entry_point("serve"), "PORT": port, "SAGEMAKER_MODEL_SERVER_WORKERS": "1"}
    server = subprocess.Popen(
        [str(REPO / "local_test" / "serve_local.sh")],
        env=serve_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        payload = test_dir / "payload.csv"
        answer = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and server.poll() is None:
            answer = subprocess.run(
                [str(REPO / "local_test" / "predict.sh"), str(payload)],
                env={**os.environ, "PORT": port},
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
            if answer.returncode == 0:
                break
            time.sleep(0.2)
        assert answer is not None and answer.returncode == 0, answer.stderr if answer else server.stderr
        assert len(answer.stdout.splitlines()) == 5
        assert all(0 <= float(v) <= 1 for v in answer.stdout.split())
        labels = subprocess.run(
            [str(REPO / "local_test" / "predict.sh"), str(payload)],
            env={**os.environ, "PORT": port, "OUTPUT": "predicted_label"},
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        assert set(labels.stdout.split()) <= {"0", "1"}
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def test_predict_script_explains_its_usage() -> None:
    result = subprocess.run(
        [str(REPO / "local_test" / "predict.sh")], capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 2 and "usage:" in result.stderr
