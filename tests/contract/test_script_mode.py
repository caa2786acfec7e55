"""Script mode through the real `train` entry point: the sagemaker-training toolkit runs user scripts."""

from __future__ import annotations

import io
import json
import shutil
import tarfile
import time
from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb
from sklearn.metrics import roc_auc_score

from tests.conftest import REPO, MlTree, Moto, start_server
from xgboost_byoc.metrics import parse_log_line

pytestmark = pytest.mark.adult
SCRIPTS = Path(__file__).parent / "scripts"


def headered(adult_dir: Path, split: str) -> Path:
    return adult_dir / f"adult_data_processed_{split}_wheaders.csv"


def lab_tree(base: Path, adult_dir: Path, hyperparameters: dict[str, str]) -> MlTree:
    tree = MlTree(base)
    tree.hyperparameters(hyperparameters)
    tree.channel("train", [headered(adult_dir, "train")])
    tree.channel("validation", [headered(adult_dir, "validation")])
    return tree


ENCODINGS = {
    # the SageMaker API / a hand-written file: plain strings
    "plain": {
        "max_depth": "4",
        "eta": "0.3",
        "objective": "binary:logistic",
        "num_round": "20",
        "verbose": "true",
        "sagemaker_program": "lab_train.py",
        "sagemaker_submit_directory": str(SCRIPTS),
    },
    # SDK v3 ModelTrainer.train() and SDK v2 estimators: every value JSON-encoded
    "json": {
        "max_depth": "4",
        "eta": "0.3",
        "objective": '"binary:logistic"',
        "num_round": "20",
        "verbose": "true",
        "sagemaker_program": '"lab_train.py"',
        "sagemaker_submit_directory": json.dumps(str(SCRIPTS)),
    },
    # SDK v3 tuner: str() of Python values
    "str": {
        "max_depth": "4",
        "eta": "0.3",
        "objective": "binary:logistic",
        "num_round": "20",
        "verbose": "True",
        "sagemaker_program": "lab_train.py",
        "sagemaker_submit_directory": str(SCRIPTS),
    },
}


def script_args(stdout: str) -> dict[str, object]:
    line = next(line for line in stdout.splitlines() if line.startswith("ARGS "))
    return json.loads(line.removeprefix("ARGS "))


def test_lab_script_runs_unmodified_in_all_three_encodings(tmp_path: Path, adult_dir: Path) -> None:
    seen = {}
    for name, hyperparameters in ENCODINGS.items():
        tree = lab_tree(tmp_path / name, adult_dir, hyperparameters)
        result = tree.run_train()
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
        assert (tree.output / "success").exists()
        assert (tree.model_dir / "xgboost-model.json").exists()
        seen[name] = script_args(result.stdout)
        logged = [parse_log_line(line, ["validation:auc"]) for line in result.stdout.splitlines()]
        values = [v["validation:auc"] for v in logged if v]
        assert len(values) == 20 and 0.85 < values[-1] < 1
    assert seen["plain"] == seen["json"] == seen["str"]
    assert seen["plain"]["objective"] == "binary:logistic" and seen["plain"]["max_depth"] == 4
    assert seen["plain"]["verbose"] == "True"  # the toolkit JSON-decodes, then str()s: true and True agree


def test_example_script_trains_with_honest_kfold_and_its_model_serves(tmp_path: Path, adult_dir: Path) -> None:
    hyperparameters = {
        "sagemaker_program": "train_kfold.py",
        "sagemaker_submit_directory": str(REPO / "examples" / "script_mode"),
        "num_round": "300",
        "eta": "0.1",
        "kfold": "3",
        "early_stopping_rounds": "20",
    }
    tree = lab_tree(tmp_path / "opt_ml", adult_dir, hyperparameters)
    result = tree.run_train()
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    metrics = tree.metrics()
    assert metrics["cv:auc"] > 0.91 and metrics["cv:folds"] == 3
    manifest = tree.manifest()
    assert manifest["feature_names"] == [f"col{i}" for i in range(2, 15)]
    assert manifest["threshold"]["source"] == "out-of-fold predictions"
    test = np.loadtxt(headered(adult_dir, "test"), delimiter=",", skiprows=1, dtype=np.float32)
    server = start_server(tree.base, tmp_path / "serve.log", env={"SAGEMAKER_MODEL_SERVER_WORKERS": "1"})
    try:
        body = "\n".join(",".join(f"{v:.9g}" for v in row) for row in test[:200, 1:]).encode()
        response = server.invoke(body)
    finally:
        server.stop()
    assert response.status == 200
    prob = np.array([float(v) for v in response.body.split()])
    booster = xgb.Booster()
    booster.load_model(bytearray((tree.model_dir / "xgboost-model").read_bytes()))
    np.testing.assert_allclose(prob, booster.predict(xgb.DMatrix(test[:200, 1:])), atol=1e-6)
    assert roc_auc_score(test[:200, 0], prob) > 0.85


def test_failing_script_names_script_exception_and_message(ml_root: MlTree) -> None:
    ml_root.hyperparameters({"sagemaker_program": "raises.py", "sagemaker_submit_directory": str(SCRIPTS)})
    ml_root.channel("train", [("a.csv", "1,2\n")])
    result = ml_root.run_train()
    assert result.returncode == 2
    first_line = ml_root.failure().splitlines()[0]
    assert first_line == "script raises.py failed: ValueError: the answer is 41, not 42"
    assert "Traceback" in ml_root.failure()  # the detail keeps the script's traceback
    assert not (ml_root.output / "success").exists()


def test_missing_script_is_a_clear_failure(ml_root: MlTree) -> None:
    ml_root.hyperparameters({"sagemaker_program": "nope.py", "sagemaker_submit_directory": str(SCRIPTS)})
    ml_root.channel("train", [("a.csv", "1,2\n")])
    result = ml_root.run_train()
    assert result.returncode == 2
    assert ml_root.failure().splitlines()[0].startswith("script nope.py failed")


def test_program_from_environment_variable(ml_root: MlTree, adult_dir: Path) -> None:
    import os
    import subprocess

    from tests.conftest import entry_point

    ml_root.hyperparameters({"num_round": "5", "sagemaker_submit_directory": str(SCRIPTS)})
    ml_root.channel("train", [headered(adult_dir, "train")]).channel("validation", [headered(adult_dir, "validation")])
    env = {**os.environ, "SAGEMAKER_BASE_DIR": str(ml_root.base), "SAGEMAKER_PROGRAM": "lab_train.py"}
    result = subprocess.run([entry_point("train")], env=env, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert script_args(result.stdout)["num_round"] == 5


def test_code_from_an_s3_tarball_runs(aws: Moto, ml_root: MlTree, adult_dir: Path) -> None:
    import subprocess

    from tests.conftest import entry_point

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        tar.add(SCRIPTS / "lab_train.py", arcname="lab_train.py")
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="code-bucket")
    s3.put_object(Bucket="code-bucket", Key="jobs/j1/source/sourcedir.tar.gz", Body=buffer.getvalue())
    aws.restart_recording()
    ml_root.hyperparameters(
        {
            "num_round": "5",
            "sagemaker_program": "lab_train.py",
            "sagemaker_submit_directory": "s3://code-bucket/jobs/j1/source/sourcedir.tar.gz",
        }
    )
    ml_root.channel("train", [headered(adult_dir, "train")]).channel("validation", [headered(adult_dir, "validation")])
    env = {**aws.env(), "SAGEMAKER_BASE_DIR": str(ml_root.base), "S3_ENDPOINT_URL": aws.url}
    result = subprocess.run([entry_point("train")], env=env, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert (ml_root.model_dir / "xgboost-model.json").exists()
    gets = [r for r in aws.requests() if r["method"] == "GET" and "sourcedir.tar.gz" in str(r["url"])]
    assert gets, aws.actions()  # the code was fetched from (moto's) S3
    assert (ml_root.base / "code" / "lab_train.py").exists()


def test_script_mode_timing_is_reported(tmp_path: Path, adult_dir: Path) -> None:
    """Not a timed assertion: records wall times for the note (script-mode job vs the script run directly)."""
    import os
    import subprocess
    import sys

    tree = lab_tree(tmp_path / "opt_ml", adult_dir, ENCODINGS["plain"])
    started = time.perf_counter()
    assert tree.run_train().returncode == 0
    job = time.perf_counter() - started
    model_dir = tmp_path / "direct"
    model_dir.mkdir()
    env = {
        **os.environ,
        "SM_MODEL_DIR": str(model_dir),
        "SM_CHANNEL_TRAIN": str(tree.base / "input/data/train"),
        "SM_CHANNEL_VALIDATION": str(tree.base / "input/data/validation"),
    }
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, str(SCRIPTS / "lab_train.py"), "--max_depth", "4", "--eta", "0.3", "--num_round", "20"],
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    direct = time.perf_counter() - started
    print(f"\nscript-mode job {job:.2f} s vs direct python {direct:.2f} s")
    assert (model_dir / "xgboost-model.json").exists()
    shutil.rmtree(model_dir)


def test_code_from_a_local_tarball_runs(ml_root: MlTree, adult_dir: Path, tmp_path: Path) -> None:
    archive = tmp_path / "sourcedir.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(SCRIPTS / "lab_train.py", arcname="lab_train.py")
    ml_root.hyperparameters(
        {"num_round": "5", "sagemaker_program": "lab_train.py", "sagemaker_submit_directory": str(archive)}
    )
    ml_root.channel("train", [headered(adult_dir, "train")]).channel("validation", [headered(adult_dir, "validation")])
    result = ml_root.run_train()
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert (ml_root.model_dir / "xgboost-model.json").exists()
