"""xgb-byoc with the local backend on the lab's Adult splits: task 1 (built-in style), task 2 (script
mode), the compare table; artifacts unpack and serve."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import classification_report, roc_auc_score

from tests.conftest import LAB_BUILTIN_HP, REPO, start_server, xgb_byoc

pytestmark = [pytest.mark.e2e, pytest.mark.adult]


@pytest.fixture(scope="module")
def lab_jobs(tmp_path_factory: pytest.TempPathFactory, adult_dir: Path) -> Path:
    workdir = tmp_path_factory.mktemp("launcher")
    hp = [arg for name, value in LAB_BUILTIN_HP.items() for arg in ("--hp", f"{name}={value}")]
    builtin = xgb_byoc(
        workdir,
        "train",
        "--train",
        str(adult_dir / "adult_data_processed_train.csv"),
        "--validation",
        str(adult_dir / "adult_data_processed_validation.csv"),
        *hp,
        "--job-name",
        "task1",
    )
    assert builtin.returncode == 0, builtin.stdout[-2000:] + builtin.stderr[-2000:]
    script = xgb_byoc(
        workdir,
        "train",
        "--train",
        str(adult_dir / "adult_data_processed_train_wheaders.csv"),
        "--validation",
        str(adult_dir / "adult_data_processed_validation_wheaders.csv"),
        "--entry-point",
        str(REPO / "examples/script_mode/train_kfold.py"),
        "--hp",
        "num_round=300",
        "--hp",
        "eta=0.1",
        "--hp",
        "kfold=3",
        "--hp",
        "early_stopping_rounds=20",
        "--job-name",
        "task2",
        "--quiet",
    )
    assert script.returncode == 0, script.stdout[-2000:] + script.stderr[-2000:]
    assert "validation:logloss" in builtin.stdout and "| [799]" in builtin.stdout  # summary and the streamed log
    return workdir


def job(workdir: Path, name: str) -> dict[str, object]:
    return json.loads((workdir / "jobs" / name / "job.json").read_text())


def test_jobs_complete_with_sagemaker_shaped_records(lab_jobs: Path) -> None:
    for name, mode in (("task1", "algorithm"), ("task2", "script")):
        record = job(lab_jobs, name)
        assert record["TrainingJobStatus"] == "Completed" and record["Mode"] == mode
        assert Path(str(record["ModelArtifacts"])).name == "model.tar.gz"
        assert float(str(record["TrainingElapsedTimeSeconds"])) > 0
    listing = xgb_byoc(lab_jobs, "jobs")
    assert listing.returncode == 0 and "task1" in listing.stdout and "task2" in listing.stdout


def test_final_metrics_are_read_from_the_log_with_sagemakers_regexes(lab_jobs: Path, tmp_path: Path) -> None:
    record = job(lab_jobs, "task1")
    final = {m["MetricName"]: m["Value"] for m in record["FinalMetricDataList"]}  # type: ignore[union-attr]
    with tarfile.open(str(record["OutputArtifacts"])) as tar:
        tar.extractall(tmp_path, filter="data")
    metrics = json.loads((tmp_path / "data" / "metrics.json").read_text())
    assert set(final) == {"train:logloss", "validation:logloss"}
    for name, value in final.items():
        assert value == pytest.approx(metrics[name], abs=5e-7)
    assert (tmp_path / "data" / "report.html").exists()


def test_model_tarball_unpacks_and_serves(lab_jobs: Path, tmp_path: Path, adult_dir: Path) -> None:
    base = tmp_path / "opt_ml"
    with tarfile.open(str(job(lab_jobs, "task1")["ModelArtifacts"])) as tar:
        tar.extractall(base / "model", filter="data")
    server = start_server(base, tmp_path / "serve.log", env={"SAGEMAKER_MODEL_SERVER_WORKERS": "1"})
    try:
        rows = (adult_dir / "adult_data_processed_test.csv").read_text().splitlines()[:5]
        response = server.invoke("\n".join(r.split(",", 1)[1] for r in rows).encode())
    finally:
        server.stop()
    assert response.status == 200 and len(response.body.splitlines()) == 5


def test_compare_table_equals_scikit_learn(lab_jobs: Path, adult_dir: Path) -> None:
    import xgboost as xgb

    test = adult_dir / "adult_data_processed_test.csv"
    result = xgb_byoc(lab_jobs, "compare", "task1", "task2", "--test", str(test), "--format", "json")
    assert result.returncode == 0, result.stderr
    columns = json.loads(result.stdout)
    data = np.loadtxt(test, delimiter=",", dtype=np.float32)
    y = data[:, 0]
    for column in columns:
        record = job(lab_jobs, column["model"])
        with tarfile.open(str(record["ModelArtifacts"])) as tar:
            model_bytes = tar.extractfile("xgboost-model").read()  # type: ignore[union-attr]
        booster = xgb.Booster()
        booster.load_model(bytearray(model_bytes))
        prob = booster.predict(xgb.DMatrix(data[:, 1:]))
        expected = classification_report(y, prob >= column["threshold"], output_dict=True)
        assert column["class 1 precision"] == pytest.approx(expected["1.0"]["precision"])
        assert column["class 0 recall"] == pytest.approx(expected["0.0"]["recall"])
        assert column["macro avg f1"] == pytest.approx(expected["macro avg"]["f1-score"])
        assert column["weighted avg f1"] == pytest.approx(expected["weighted avg"]["f1-score"])
        assert column["accuracy"] == pytest.approx(expected["accuracy"])
        assert column["auc"] == pytest.approx(roc_auc_score(y, prob))
    assert [(c["model"], c["threshold"] == 0.5) for c in columns] == [
        ("task1", False),
        ("task1", True),
        ("task2", False),
        ("task2", True),
    ]
    table = xgb_byoc(lab_jobs, "compare", "task1", "task2", "--test", str(test))
    assert "macro avg f1" in table.stdout and "task2@" in table.stdout


def test_bad_hyperparameters_fail_before_a_job_starts(tmp_path: Path, adult_dir: Path) -> None:
    result = xgb_byoc(
        tmp_path,
        "train",
        "--train",
        str(adult_dir / "adult_data_processed_train.csv"),
        "--hp",
        "num_round=5",
        "--hp",
        "max_dept=3",
    )
    assert result.returncode == 2 and "did you mean 'max_depth'?" in result.stderr
    assert not (tmp_path / "jobs").exists()


def test_a_failing_job_reports_its_failure(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("1,2\n2,3\n")
    result = xgb_byoc(
        tmp_path,
        "train",
        "--train",
        str(bad),
        "--hp",
        "num_round=5",
        "--hp",
        "objective=binary:logistic",
        "--job-name",
        "bad",
    )
    assert result.returncode == 1
    assert "Failed" in result.stdout and "label 2 must be 0 or 1" in result.stdout
    record = job(tmp_path, "bad")
    assert record["TrainingJobStatus"] == "Failed" and "ModelArtifacts" not in record


def test_local_backend_says_what_it_cannot_do(tmp_path: Path, adult_dir: Path) -> None:
    train = str(adult_dir / "adult_data_processed_train.csv")
    result = xgb_byoc(tmp_path, "train", "--train", train, "--hp", "num_round=5", "--instance-count", "0")
    assert result.returncode == 2
    assert "--instance-count must be at least 1" in result.stderr
    assert not (tmp_path / "jobs").exists() or not any((tmp_path / "jobs").iterdir())


def test_instance_count_runs_hosts_as_processes_here(tmp_path: Path, adult_dir: Path) -> None:
    hp = [arg for name, value in {**LAB_BUILTIN_HP, "num_round": "100"}.items() for arg in ("--hp", f"{name}={value}")]
    result = xgb_byoc(
        tmp_path,
        "train",
        "--train",
        str(adult_dir / "adult_data_processed_train.csv"),
        "--validation",
        str(adult_dir / "adult_data_processed_validation.csv"),
        *hp,
        "--instance-count",
        "2",
        "--job-name",
        "two-hosts",
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    job_dir = tmp_path / "jobs" / "two-hosts"
    job = json.loads((job_dir / "job.json").read_text())
    assert job["InstanceCount"] == 2 and job["ExitCodes"] == {"algo-1": 0, "algo-2": 0}
    assert {m["MetricName"] for m in job["FinalMetricDataList"]} >= {"train:logloss", "validation:logloss"}
    for host in ("algo-1", "algo-2"):
        log = (job_dir / f"train-{host}.log").read_text()
        assert f"distributed training: host {host} is" in log
        assert f"{host} | [99]\t" in result.stdout  # both hosts' logs streamed, each line with its host
    config = json.loads((job_dir / "opt_ml" / "algo-2" / "input" / "config" / "resourceconfig.json").read_text())
    assert config == {"current_host": "algo-2", "hosts": ["algo-1", "algo-2"], "network_interface_name": "lo"}
    with tarfile.open(job["ModelArtifacts"]) as tar:
        assert sorted(tar.getnames()) == ["manifest.json", "xgboost-model"]
    metrics = json.loads((job_dir / "opt_ml" / "algo-1" / "output" / "data" / "metrics.json").read_text())
    rows = sum(1 for _ in (adult_dir / "adult_data_processed_train.csv").open())
    assert sum(metrics["rows_per_host"]["train"].values()) == rows
