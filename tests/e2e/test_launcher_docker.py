"""xgb-byoc --backend docker: the command it builds over the materialised tree, its errors without an
engine, and (docker-marked, where an engine answers) a real ``docker run IMAGE train``."""

from __future__ import annotations

import json
import os
import subprocess
import tarfile
from pathlib import Path

import pytest

from tests.conftest import REPO, docker_only, xgb_byoc

pytestmark = [pytest.mark.e2e]


def spec_for(tmp_path: Path, data: Path, **kwargs: object):  # type: ignore[no-untyped-def]
    from xgboost_byoc.launcher.spec import JobSpec

    return JobSpec.build(
        hyperparameters={"num_round": "10", "objective": "binary:logistic"},
        channels={"train": str(data / "train"), "validation": str(next((data / "validation").iterdir()))},
        output=str(tmp_path / "out"),
        name="dock1",
        image="xgboost-byoc:test",
        **kwargs,  # type: ignore[arg-type]
    )


def test_command_mounts_tree_channels_read_only_and_runs_train_as_the_caller(tmp_path: Path, small_data: Path) -> None:
    from xgboost_byoc.launcher.docker import docker_command
    from xgboost_byoc.launcher.local import materialise

    spec = spec_for(tmp_path, small_data)
    base = materialise(spec, tmp_path / "job", link_channels=False)
    command = docker_command(spec, base, docker="docker", user="1000:1000")
    validation = next((small_data / "validation").iterdir())
    assert command == [
        "docker", "run", "--rm", "--name", "dock1",
        "-v", f"{base.resolve()}:/opt/ml",
        "-v", f"{(small_data / 'train').resolve()}:/opt/ml/input/data/train:ro",
        "-v", f"{validation.resolve()}:/opt/ml/input/data/validation/{validation.name}:ro",
        "--user", "1000:1000", "-e", "PYTHONUNBUFFERED=1", "xgboost-byoc:test", "train",
    ]  # fmt: skip
    # the mount points exist, owned by the caller (docker would create them as root)
    assert (base / "input" / "data" / "train").is_dir()
    assert (base / "input" / "data" / "validation" / validation.name).is_file()
    assert not any((base / "input" / "data" / "train").iterdir())  # no host symlinks a container could not follow
    config = json.loads((base / "input" / "config" / "inputdataconfig.json").read_text())
    assert set(config) == {"train", "validation"}


def test_script_mode_code_is_mounted_and_named_at_opt_ml_code(tmp_path: Path, small_data: Path) -> None:
    from xgboost_byoc.launcher.docker import CODE_DIR, docker_command
    from xgboost_byoc.launcher.local import materialise

    script = REPO / "examples" / "script_mode" / "train_kfold.py"
    spec = spec_for(tmp_path, small_data, entry_point=script)
    base = materialise(spec, tmp_path / "job", link_channels=False, code_dir=CODE_DIR)
    command = docker_command(spec, base, docker="docker", user="1000:1000")
    assert f"{script.parent.resolve()}:/opt/ml/code:ro" in command
    hp = json.loads((base / "input" / "config" / "hyperparameters.json").read_text())
    assert hp["sagemaker_program"] == "train_kfold.py" and hp["sagemaker_submit_directory"] == "/opt/ml/code"


def run_cli(
    tmp_path: Path, data: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return xgb_byoc(
        tmp_path, "train", "--backend", "docker", "--train", str(data / "train"), *args, timeout=900, env=env
    )


def test_without_image_docker_or_engine_the_error_says_which(tmp_path: Path, small_data: Path) -> None:
    result = run_cli(tmp_path, small_data, "--hp", "num_round=5")
    assert result.returncode == 2
    assert result.stderr.startswith("xgb-byoc: the docker backend needs --image")

    result = run_cli(
        tmp_path, small_data, "--hp", "num_round=5", "--image", "x:1", env={"XGB_BYOC_DOCKER": "no-such-docker-command"}
    )
    assert result.returncode == 2
    assert "the docker backend needs the docker command on PATH" in result.stderr

    # a docker CLI without an engine: what `docker info` says reaches the user
    fake = tmp_path / "bin" / "docker"
    fake.parent.mkdir()
    fake.write_text(
        '#!/bin/sh\necho "$@" >> "$(dirname "$0")/calls"\n'
        "echo 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?' >&2\n"
        "exit 1\n"
    )
    fake.chmod(0o755)
    result = run_cli(
        tmp_path,
        small_data,
        "--hp",
        "num_round=5",
        "--image",
        "x:1",
        env={"PATH": f"{fake.parent}{os.pathsep}{os.environ['PATH']}"},
    )
    assert result.returncode == 2
    assert "no Docker engine answers (Cannot connect to the Docker daemon" in result.stderr
    assert (fake.parent / "calls").read_text() == "info --format {{.ServerVersion}}\n"  # nothing was run
    assert not (tmp_path / "jobs").exists()


@pytest.mark.docker
@docker_only
def test_docker_backend_trains_in_the_image(built_image: str, tmp_path: Path, small_data: Path) -> None:
    result = run_cli(
        tmp_path,
        small_data,
        "--validation", str(small_data / "validation"), "--image", built_image,
        "--hp", "num_round=20", "--hp", "objective=binary:logistic", "--hp", "eval_metric=auc",
        "--job-name", "in-docker",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    job = json.loads((tmp_path / "jobs" / "in-docker" / "job.json").read_text())
    assert job["Backend"] == "docker" and job["TrainingJobStatus"] == "Completed"
    assert {m["MetricName"] for m in job["FinalMetricDataList"]} >= {"train:auc", "validation:auc"}
    with tarfile.open(job["ModelArtifacts"]) as tar:
        assert {"xgboost-model", "manifest.json"} <= set(tar.getnames())
