from __future__ import annotations

import json
from pathlib import Path

import pytest

from xgboost_byoc.config import load_job_config, normalize_hyperparameter_value
from xgboost_byoc.errors import UserError
from xgboost_byoc.paths import Paths


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("binary:logistic", "binary:logistic"),  # SageMaker API / SDK v3 tuner: plain str()
        ('"binary:logistic"', "binary:logistic"),  # SDK v2 and v3 train(): JSON-encoded
        ("0.2", "0.2"),
        ('"0.2"', "0.2"),
        ('["auc", "logloss"]', "auc,logloss"),
        (0.2, "0.2"),  # hand-written files
        (800, "800"),
        (True, "true"),
        ("True", "True"),  # parsed as a boolean later, in any case
        (["auc", "logloss"], "auc,logloss"),
        ('"unterminated', '"unterminated'),
    ],
)
def test_normalises_every_client_encoding(raw: object, expected: str) -> None:
    assert normalize_hyperparameter_value(raw) == expected


def test_paths_follow_sagemaker_base_dir(tmp_path: Path) -> None:
    paths = Paths.from_env({"SAGEMAKER_BASE_DIR": str(tmp_path)})
    assert paths.hyperparameters_file == tmp_path / "input/config/hyperparameters.json"
    assert paths.channel_dir("train") == tmp_path / "input/data/train"
    assert paths.failure_file == tmp_path / "output/failure"
    assert Paths.from_env({}).base == Path("/opt/ml")


def test_reads_channels_and_resources_from_config_files(tmp_path: Path) -> None:
    cfg = tmp_path / "input/config"
    cfg.mkdir(parents=True)
    (cfg / "hyperparameters.json").write_text(json.dumps({"eta": '"0.1"', "num_round": 5}))
    (cfg / "inputdataconfig.json").write_text(
        json.dumps({"train": {"ContentType": "text/csv", "TrainingInputMode": "File"}})
    )
    (cfg / "resourceconfig.json").write_text(json.dumps({"current_host": "algo-2", "hosts": ["algo-1", "algo-2"]}))
    (cfg / "checkpointconfig.json").write_text(json.dumps({"LocalPath": "/tmp/ck", "S3Uri": "s3://b/ck"}))
    job = load_job_config(Paths(tmp_path))
    assert job.hyperparameters == {"eta": "0.1", "num_round": "5"}
    assert job.channels["train"].content_type == "text/csv"
    assert job.resources.current_host == "algo-2" and job.resources.hosts == ("algo-1", "algo-2")
    assert job.checkpoint is not None and str(job.checkpoint.local_path) == "/tmp/ck"


def test_channels_default_to_data_folders_without_inputdataconfig(tmp_path: Path) -> None:
    (tmp_path / "input/data/train").mkdir(parents=True)
    (tmp_path / "input/data/validation").mkdir(parents=True)
    job = load_job_config(Paths(tmp_path))
    assert sorted(job.channels) == ["train", "validation"]
    assert job.channels["train"].content_type is None
    assert job.checkpoint is None


def test_invalid_json_names_file_and_position(tmp_path: Path) -> None:
    cfg = tmp_path / "input/config"
    cfg.mkdir(parents=True)
    (cfg / "hyperparameters.json").write_text('{"eta": 0.1,}')
    with pytest.raises(UserError, match=r"hyperparameters.json is not valid JSON: .* line 1 column"):
        load_job_config(Paths(tmp_path))
