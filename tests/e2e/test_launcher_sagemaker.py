"""xgb-byoc --backend sagemaker against moto's ThreadedMotoServer on 127.0.0.1.

The launcher runs in this process with every socket connect outside loopback refused, so nothing can
reach AWS (nor the SDK's telemetry). Assertions are on the requests the launcher SENT (moto's recorder):
moto completes jobs instantly and rewrites metric definitions, so its job state proves nothing.
"""

from __future__ import annotations

import io
import json
import socket
import tarfile
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import LAB_BUILTIN_HP, REPO, MlTree, Moto

pytestmark = [pytest.mark.e2e]
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/xgboost-byoc:v1"
ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
BUCKET = "lab-bucket"
OUTPUT = f"s3://{BUCKET}/jobs"
TARGET = ["--backend", "sagemaker", "--image", IMAGE, "--role", ROLE, "--output", OUTPUT]


@pytest.fixture
def launcher(aws: Moto, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Moto]:
    """moto reset, a bucket, AWS env pointing at moto, a jobs folder, and no way off loopback."""
    for name, value in aws.env().items():
        if name.startswith("AWS_"):
            monkeypatch.setenv(name, value)
    monkeypatch.setenv("XGB_BYOC_JOBS_DIR", str(tmp_path / "jobs"))
    monkeypatch.chdir(tmp_path)
    aws.client("s3").create_bucket(Bucket=BUCKET)
    aws.restart_recording()
    real_connect = socket.socket.connect
    refused: list[Any] = []

    def loopback_only(sock: socket.socket, address: Any) -> Any:
        if isinstance(address, tuple) and address[0] not in ("127.0.0.1", "::1", "localhost"):
            refused.append(address)
            raise OSError(f"test: connection to {address} refused (loopback only)")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", loopback_only)
    yield aws
    assert refused == [], f"the launcher tried to leave loopback: {refused}"


def xgb_byoc(*args: str) -> int:
    from xgboost_byoc.launcher.cli import main

    return main(list(args))


def sent(aws: Moto, action: str) -> list[dict[str, Any]]:
    """The JSON bodies of the recorded SageMaker requests for one action."""
    out = []
    for entry in aws.requests():
        headers = {k.lower(): v for k, v in dict(entry["headers"]).items()}  # type: ignore[call-overload]
        if str(headers.get("x-amz-target", "")).endswith(f".{action}"):
            out.append(json.loads(str(entry["body"])))
    return out


def puts(aws: Moto) -> list[str]:
    """The S3 keys the launcher PUT, in order."""
    keys = []
    for entry in aws.requests():
        if entry["method"] == "PUT":
            path = urllib.parse.urlparse(str(entry["url"])).path
            keys.append(urllib.parse.unquote(path))
    return keys


def test_builtin_job_sends_our_image_string_hyperparameters_and_metric_definitions(
    launcher: Moto, adult_dir: Path, adult_model: MlTree, capsys: pytest.CaptureFixture[str]
) -> None:
    from xgboost_byoc.metrics import metric_definitions

    train = adult_dir / "adult_data_processed_train.csv"
    validation = adult_dir / "adult_data_processed_validation.csv"
    # SageMaker would write model.tar.gz when the job ends; moto ends jobs at once, so it is there first
    model_tar = io.BytesIO()
    with tarfile.open(fileobj=model_tar, mode="w:gz") as tar:
        for path in sorted((adult_model.base / "model").iterdir()):
            tar.add(path, arcname=path.name)
    launcher.client("s3").put_object(Bucket=BUCKET, Key="jobs/task1/output/model.tar.gz", Body=model_tar.getvalue())
    launcher.restart_recording()

    hp = [arg for name, value in {**LAB_BUILTIN_HP, "kfold": "5"}.items() for arg in ("--hp", f"{name}={value}")]
    code = xgb_byoc(
        "train", "--train", str(train), "--validation", str(validation), *hp, *TARGET,
        "--job-name", "task1", "--instance-type", "ml.m5.2xlarge", "--max-runtime", "3600",
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out

    assert puts(launcher) == [
        f"/{BUCKET}/jobs/task1/input/train/{train.name}",
        f"/{BUCKET}/jobs/task1/input/validation/{validation.name}",
    ]
    [request] = sent(launcher, "CreateTrainingJob")
    assert request["TrainingJobName"] == "task1"
    assert request["RoleArn"] == ROLE
    spec = request["AlgorithmSpecification"]
    assert spec["TrainingImage"] == IMAGE and spec["TrainingInputMode"] == "File"
    # binary:logistic is scored by logloss unless eval_metric says otherwise (XGBoost's default), k-fold adds cv:
    assert spec["MetricDefinitions"] == metric_definitions(["logloss"], kfold=True)
    assert request["HyperParameters"] == {**LAB_BUILTIN_HP, "kfold": "5"}
    assert all(isinstance(v, str) for v in request["HyperParameters"].values())
    assert [
        (c["ChannelName"], c["DataSource"]["S3DataSource"]["S3Uri"], c["DataSource"]["S3DataSource"]["S3DataType"])
        for c in request["InputDataConfig"]
    ] == [
        ("train", f"{OUTPUT}/task1/input/train/", "S3Prefix"),
        ("validation", f"{OUTPUT}/task1/input/validation/", "S3Prefix"),
    ]
    assert request["OutputDataConfig"] == {"S3OutputPath": OUTPUT}
    assert request["ResourceConfig"] == {"InstanceType": "ml.m5.2xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30}
    assert request["StoppingCondition"] == {"MaxRuntimeInSeconds": 3600}
    assert sent(launcher, "DescribeTrainingJob"), "the launcher follows the job"

    # the uploaded objects are the files, byte for byte
    body = launcher.client("s3").get_object(Bucket=BUCKET, Key=f"jobs/task1/input/train/{train.name}")["Body"]
    assert body.read() == train.read_bytes()
    # the model was downloaded into the local jobs folder, and compare reads it by job name
    job = json.loads((Path("jobs") / "task1" / "job.json").read_text())
    assert job["Backend"] == "sagemaker" and job["TrainingJobStatus"] == "Completed"
    assert Path(job["ModelArtifacts"]).read_bytes() == model_tar.getvalue()
    assert "model (S3)" in out and f"{OUTPUT}/task1/output/model.tar.gz" in out
    assert xgb_byoc("compare", "task1", "--test", str(adult_dir / "adult_data_processed_test.csv")) == 0
    assert "macro avg" in capsys.readouterr().out
    # the name is taken here: refused before any request (SageMaker would refuse it too)
    launcher.restart_recording()
    assert xgb_byoc("train", "--train", str(train), "--hp", "num_round=5", *TARGET, "--job-name", "task1") == 2
    assert "a job named task1 exists already" in capsys.readouterr().err
    assert launcher.requests() == []


def test_script_job_ships_sourcedir_and_names_it_for_the_toolkit(
    launcher: Moto, small_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "code"
    (source / "lib").mkdir(parents=True)
    (source / "train.py").write_text("import lib.helpers\n")
    (source / "lib" / "helpers.py").write_text("X = 1\n")
    (source / "lib" / "__pycache__").mkdir()
    (source / "lib" / "__pycache__" / "helpers.cpython-311.pyc").write_bytes(b"\0")
    data = small_data / "train"
    code = xgb_byoc(
        "train", "--train", str(data), "--test", str(small_data / "validation"),
        "--entry-point", str(source / "train.py"), "--source-dir", str(source),
        "--hp", "num_round=50", *TARGET, "--job-name", "script1", "--no-wait",
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    assert "describe-training-job --training-job-name script1" in out
    # a test channel goes up and in like the others (the script reads it as SM_CHANNEL_TEST)
    assert f"/{BUCKET}/jobs/script1/input/test/breast_cancer_validation.csv" in puts(launcher)
    [request] = sent(launcher, "CreateTrainingJob")
    assert [c["ChannelName"] for c in request["InputDataConfig"]] == ["train", "test"]
    uri = f"{OUTPUT}/script1/source/sourcedir.tar.gz"
    assert request["HyperParameters"] == {
        "num_round": "50",
        "sagemaker_program": "train.py",
        "sagemaker_submit_directory": uri,
        "sagemaker_region": "us-east-1",
    }
    # the image's own entry point runs: no ContainerEntrypoint override (unlike the SDK's ModelTrainer)
    assert "ContainerEntrypoint" not in request["AlgorithmSpecification"]
    assert request["AlgorithmSpecification"]["MetricDefinitions"][0]["Name"] == "train:auc"
    archive = launcher.client("s3").get_object(Bucket=BUCKET, Key="jobs/script1/source/sourcedir.tar.gz")
    with tarfile.open(fileobj=io.BytesIO(archive["Body"].read())) as tar:
        assert sorted(tar.getnames()) == ["lib/helpers.py", "train.py"]


def test_lab_tuning_job_states_ranges_strategy_limits_and_metric_definitions(
    launcher: Moto, adult_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = REPO / "tests" / "contract" / "scripts" / "lab_train.py"
    code = xgb_byoc(
        "tune",
        "--train", str(adult_dir / "adult_data_processed_train_wheaders.csv"),
        "--validation", str(adult_dir / "adult_data_processed_validation_wheaders.csv"),
        "--entry-point", str(script), "--hp", "num_round=800", "--hp", "max_depth=5",
        "--range", "max_depth=int:6:9", "--range", "eta=continuous:0.01:0.03",
        "--objective", "validation:auc", "--strategy", "Random", "--max-jobs", "6", "--max-parallel-jobs", "3",
        "--seed", "7", "--job-name", "lab-tuning-with-a-rather-long-name", *TARGET, "--no-wait",
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    [request] = sent(launcher, "CreateHyperParameterTuningJob")
    name = request["HyperParameterTuningJobName"]
    assert len(name) <= 32 and name.startswith("lab-tuning")
    config = request["HyperParameterTuningJobConfig"]
    assert config["Strategy"] == "Random"
    assert config["RandomSeed"] == 7
    assert config["HyperParameterTuningJobObjective"] == {"Type": "Maximize", "MetricName": "validation:auc"}
    assert config["ResourceLimits"] == {"MaxNumberOfTrainingJobs": 6, "MaxParallelTrainingJobs": 3}
    ranges = config["ParameterRanges"]
    assert ranges["IntegerParameterRanges"] == [
        {"Name": "max_depth", "MinValue": "6", "MaxValue": "9", "ScalingType": "Auto"}
    ]
    assert ranges["ContinuousParameterRanges"] == [
        {"Name": "eta", "MinValue": "0.01", "MaxValue": "0.03", "ScalingType": "Auto"}
    ]
    definition = request["TrainingJobDefinition"]
    statics = definition["StaticHyperParameters"]
    assert "max_depth" not in statics  # a tuned hyperparameter is not also fixed
    assert statics["num_round"] == "800" and statics["sagemaker_program"] == "lab_train.py"
    assert statics["sagemaker_submit_directory"] == f"{OUTPUT}/{name}/source/sourcedir.tar.gz"
    assert all(isinstance(v, str) for v in statics.values())
    algorithm = definition["AlgorithmSpecification"]
    assert algorithm["TrainingImage"] == IMAGE
    names = [d["Name"] for d in algorithm["MetricDefinitions"]]
    assert "validation:auc" in names  # the tuner's objective is among the definitions SageMaker gets
    regex = next(d["Regex"] for d in algorithm["MetricDefinitions"] if d["Name"] == "validation:auc")
    import re

    assert re.match(regex, "[12]#011train-auc:0.91#011validation-auc:0.93120").group(1) == "0.93120"  # type: ignore[union-attr]
    assert [c["ChannelName"] for c in definition["InputDataConfig"]] == ["train", "validation"]
    assert definition["ResourceConfig"]["InstanceCount"] == 1
    assert f"/{BUCKET}/jobs/{name}/input/train/adult_data_processed_train_wheaders.csv" in puts(launcher)


def test_tuning_follows_the_job_and_lists_its_training_jobs(
    launcher: Moto, small_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = small_data
    code = xgb_byoc(
        "tune", "--train", str(data / "train"), "--validation", str(data / "validation"),
        "--hp", "num_round=20", "--range", "max_depth=int:2:4", "--range", "objective=categorical:binary:logistic",
        "--objective", "validation:auc", "--strategy", "Grid", *TARGET, "--job-name", "grid",
    )  # fmt: skip
    captured = capsys.readouterr()
    [request] = sent(launcher, "CreateHyperParameterTuningJob")
    config = request["HyperParameterTuningJobConfig"]
    assert config["Strategy"] == "Grid" and config["ResourceLimits"] == {"MaxParallelTrainingJobs": 3}
    assert config["ParameterRanges"]["CategoricalParameterRanges"] == [
        {"Name": "objective", "Values": ["binary:logistic"]}
    ]
    assert sent(launcher, "DescribeHyperParameterTuningJob")
    listed = sent(launcher, "ListTrainingJobsForHyperParameterTuningJob")
    assert listed and listed[0]["HyperParameterTuningJobName"] == request["HyperParameterTuningJobName"]
    # moto has no ListTrainingJobsForHyperParameterTuningJob: the launcher says which call failed, plainly
    assert code == 2
    assert captured.err.startswith("xgb-byoc: ListTrainingJobsForHyperParameterTuningJob grid-")


def test_result_rows_follow_sagemakers_analytics_columns() -> None:
    from datetime import UTC, datetime

    from xgboost_byoc.launcher.sagemaker import result_rows

    start = datetime(2026, 12, 3, 10, 0, 0, tzinfo=UTC)
    end = datetime(2026, 12, 3, 10, 1, 30, tzinfo=UTC)
    rows = result_rows(
        [
            {
                "TrainingJobName": "lab-001-abc",
                "TrainingJobStatus": "Completed",
                "TunedHyperParameters": {"max_depth": "7", "eta": '"0.02"'},
                "FinalHyperParameterTuningJobObjectiveMetric": {"MetricName": "validation:auc", "Value": 0.93},
                "TrainingStartTime": start,
                "TrainingEndTime": end,
            },
            {"TrainingJobName": "lab-002-abc", "TrainingJobStatus": "Failed", "TunedHyperParameters": {}},
        ]
    )
    assert rows[0] == {
        "max_depth": "7",
        "eta": "0.02",
        "TrainingJobName": "lab-001-abc",
        "TrainingJobStatus": "Completed",
        "FinalObjectiveValue": 0.93,
        "TrainingStartTime": "2026-12-03T10:00:00+00:00",
        "TrainingEndTime": "2026-12-03T10:01:30+00:00",
        "TrainingElapsedTimeSeconds": 90.0,
    }
    assert rows[1]["FinalObjectiveValue"] is None and rows[1]["TrainingElapsedTimeSeconds"] is None


def test_cloudwatch_log_is_streamed_and_a_missing_model_is_named(
    launcher: Moto, small_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    logs = launcher.client("logs")
    logs.create_log_group(logGroupName="/aws/sagemaker/TrainingJobs")
    logs.create_log_stream(logGroupName="/aws/sagemaker/TrainingJobs", logStreamName="logged/algo-1-1733220000")
    lines = ["[0]#011train-auc:0.95#011validation-auc:0.94", "[1]#011train-auc:0.97#011validation-auc:0.95"]
    logs.put_log_events(
        logGroupName="/aws/sagemaker/TrainingJobs",
        logStreamName="logged/algo-1-1733220000",
        logEvents=[{"timestamp": int(time.time() * 1000) + i, "message": line} for i, line in enumerate(lines)],
    )
    data = small_data / "train"
    code = xgb_byoc("train", "--train", str(data), "--hp", "num_round=2", *TARGET, "--job-name", "logged")
    captured = capsys.readouterr()
    assert "  | [1]#011train-auc:0.97#011validation-auc:0.95" in captured.out
    assert "GetLogEvents" in launcher.actions()
    # nothing wrote model.tar.gz (SageMaker would have): the launcher says so instead of a traceback
    assert code == 2
    assert captured.err == f"xgb-byoc: job logged completed but {OUTPUT}/logged/output/model.tar.gz does not exist\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--backend", "sagemaker"], "--image URI (the image in ECR"),
        (["--backend", "sagemaker"], "--role ARN"),
        (["--backend", "sagemaker"], "--output s3://bucket/prefix"),
        (["--backend", "sagemaker", "--role", "SageMakerRole"], "is not an IAM role ARN"),
        ([*TARGET[:-1], "s3://"], "is not an s3://bucket"),
    ],
)
def test_missing_or_wrong_settings_fail_before_any_request(
    launcher: Moto, small_data: Path, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    data = small_data / "train"
    assert xgb_byoc("train", "--train", str(data), "--hp", "num_round=2", *args) == 2
    assert message in capsys.readouterr().err
    assert puts(launcher) == [] and sent(launcher, "CreateTrainingJob") == []


def test_no_region_and_no_sdk_are_named(
    launcher: Moto, small_data: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = small_data / "train"
    args = ["train", "--train", str(data), "--hp", "num_round=2", *TARGET]
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    assert xgb_byoc(*args) == 2
    assert "no AWS region: pass --region or set AWS_REGION" in capsys.readouterr().err
    monkeypatch.setitem(__import__("sys").modules, "sagemaker.core", None)
    assert xgb_byoc(*args, "--region", "us-east-1") == 2
    assert "pip install 'xgboost-byoc[launcher]'" in capsys.readouterr().err
    assert puts(launcher) == []


def test_several_instances_are_asked_for_with_replicated_channels(
    launcher: Moto, small_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--train", str(small_data / "train"), "--hp", "num_round=5", "--instance-count", "3"]
    assert xgb_byoc("train", *args, *TARGET, "--job-name", "three", "--no-wait") == 0, capsys.readouterr()
    [request] = sent(launcher, "CreateTrainingJob")
    assert request["ResourceConfig"]["InstanceCount"] == 3
    # every host gets every file; the image gives host r of n the rows r, r + n, ... (no row twice)
    assert request["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3DataDistributionType"] == "FullyReplicated"


def test_local_backend_downloads_s3_channels_and_uploads_its_artifacts(
    launcher: Moto, small_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    s3 = launcher.client("s3")
    train = next((small_data / "train").iterdir())
    s3.put_object(Bucket=BUCKET, Key=f"data/train/part-1/{train.name}", Body=train.read_bytes())
    launcher.restart_recording()
    code = xgb_byoc(
        "train", "--train", f"s3://{BUCKET}/data/train/", "--hp", "num_round=10", "--hp", "objective=binary:logistic",
        "--output", f"s3://{BUCKET}/local-out", "--job-name", "from-s3", "--quiet",
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    job = json.loads((Path("jobs") / "from-s3" / "job.json").read_text())
    assert job["Channels"] == {"train": f"s3://{BUCKET}/data/train/"}  # as given
    downloaded = Path("jobs") / "from-s3" / "s3-input" / "train" / "part-1" / train.name
    assert downloaded.read_bytes() == train.read_bytes()  # sub-folders kept, bytes kept
    assert job["S3ModelArtifacts"] == f"s3://{BUCKET}/local-out/from-s3/output/model.tar.gz"
    assert puts(launcher) == [
        f"/{BUCKET}/local-out/from-s3/output/model.tar.gz",
        f"/{BUCKET}/local-out/from-s3/output/output.tar.gz",
    ]
    uploaded = s3.get_object(Bucket=BUCKET, Key="local-out/from-s3/output/model.tar.gz")["Body"].read()
    assert uploaded == Path(job["ModelArtifacts"]).read_bytes()
    with tarfile.open(fileobj=io.BytesIO(uploaded)) as tar:
        assert sorted(tar.getnames()) == ["manifest.json", "xgboost-model"]


def test_local_backend_names_an_empty_s3_channel(launcher: Moto, capsys: pytest.CaptureFixture[str]) -> None:
    code = xgb_byoc("train", "--train", f"s3://{BUCKET}/nothing/", "--hp", "num_round=10", "--job-name", "empty")
    assert code == 2
    assert capsys.readouterr().err == f"xgb-byoc: s3://{BUCKET}/nothing/: no objects there\n"
    assert not (Path("jobs") / "empty").exists()  # the name is free for the next try
