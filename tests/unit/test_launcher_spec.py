from __future__ import annotations

from pathlib import Path

import pytest

from xgboost_byoc.errors import UserError
from xgboost_byoc.launcher.spec import (
    JOB_NAME_LIMIT,
    JobSpec,
    check_job_name,
    job_name,
    load_config_file,
    parse_hp_args,
)


def test_generated_job_names_are_unique_and_within_sagemakers_limits() -> None:
    name = job_name("my_model.v2 " * 10, now=1_700_000_000.123)
    assert len(name) <= JOB_NAME_LIMIT and check_job_name(name) == name
    assert name.endswith("20231114-221320-123")
    assert job_name("x", now=1.0) != job_name("x", now=1.001)


@pytest.mark.parametrize("bad", ["-lead", "has space", "x" * 64, "under_score"])
def test_bad_job_names_are_refused(bad: str) -> None:
    with pytest.raises(UserError, match="must be 1-63 letters"):
        check_job_name(bad)


def test_hp_args_and_config_files(tmp_path: Path) -> None:
    assert parse_hp_args(["eta=0.1", "objective=binary:logistic"]) == {"eta": "0.1", "objective": "binary:logistic"}
    with pytest.raises(UserError, match="is not name=value"):
        parse_hp_args(["eta"])
    (tmp_path / "hp.toml").write_text("[hyperparameters]\neta = 0.1\nnum_round = 800\nverbose = true\n")
    assert load_config_file(tmp_path / "hp.toml") == {"eta": "0.1", "num_round": "800", "verbose": "true"}
    (tmp_path / "hp.yaml").write_text("eta: 0.2\neval_metric: [auc, logloss]\n")
    assert load_config_file(tmp_path / "hp.yaml") == {"eta": "0.2", "eval_metric": "auc,logloss"}
    (tmp_path / "hp.ini").write_text("eta=1")
    with pytest.raises(UserError, match=r"use \.toml, \.yaml or \.yml"):
        load_config_file(tmp_path / "hp.ini")


def test_spec_validates_algorithm_hyperparameters_and_builds_metric_definitions(tmp_path: Path) -> None:
    data = tmp_path / "train.csv"
    data.write_text("1,2\n")
    spec = JobSpec.build(
        hyperparameters={"num_round": "5", "eval_metric": "auc", "kfold": "3"},
        channels={"train": str(data)},
        output=str(tmp_path),
    )
    assert spec.mode == "algorithm"
    assert [d["Name"] for d in spec.metric_definitions] == ["train:auc", "validation:auc", "cv:auc", "cv:auc_std"]
    with pytest.raises(UserError, match="unknown hyperparameter"):
        JobSpec.build(
            hyperparameters={"num_round": "5", "etaa": "1"}, channels={"train": str(data)}, output=str(tmp_path)
        )
    with pytest.raises(UserError, match="no such file or folder"):
        JobSpec.build(
            hyperparameters={"num_round": "5"}, channels={"train": str(tmp_path / "nope")}, output=str(tmp_path)
        )


def test_ctrl_c_ends_the_cli_with_130_and_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from xgboost_byoc.launcher import cli

    def interrupted(args: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_jobs", interrupted)
    assert cli.main(["jobs"]) == 130
    assert capsys.readouterr().err == "xgb-byoc: interrupted\n"
