"""build_and_push.sh against moto's server on 127.0.0.1: the AWS calls it makes, what it prints.

Docker cannot run here: the dry run needs no docker, and the real run's docker commands go to a
recording stand-in named `docker` (it only records its arguments and stdin). The image itself is
built and run by the docker-marked tests in tests/contract/test_image.py where an engine exists.
"""

from __future__ import annotations

import base64
import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO, Moto

pytestmark = pytest.mark.e2e
REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
SCRIPT = str(REPO / "build_and_push.sh")


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SCRIPT, *args], env=env, capture_output=True, text=True, timeout=180, check=False)


def test_dry_run_prints_every_command_and_the_image_uri(aws: Moto) -> None:
    result = run(aws.env(), "--dry-run", "xgboost-byoc", "v1")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1] == f"{REGISTRY}/xgboost-byoc:v1"
    assert (
        f"+ aws ecr get-login-password --region us-east-1 | docker login --username AWS --password-stdin {REGISTRY}"
        in lines
    )
    assert (
        "+ docker build --platform linux/amd64 --build-arg XGBOOST_PACKAGE=xgboost-cpu -t xgboost-byoc:v1 " + str(REPO)
        in lines
    )
    assert f"+ docker push {REGISTRY}/xgboost-byoc:v1" in lines
    assert any(
        line.startswith("+ docker run --rm --platform linux/amd64 -v ") and line.endswith("xgboost-byoc:v1 train")
        for line in lines
    )
    assert aws.actions() == ["GetCallerIdentity"]  # a dry run asks STS for the account and nothing else


def test_dry_run_without_region_explains(aws: Moto) -> None:
    env = {k: v for k, v in aws.env().items() if k not in ("AWS_REGION", "AWS_DEFAULT_REGION")}
    result = run(env, "--dry-run", "xgboost-byoc")
    assert result.returncode == 1 and "no AWS region: set AWS_REGION" in result.stderr


def test_dry_run_without_credentials_explains(aws: Moto) -> None:
    env = {k: v for k, v in aws.env().items() if not k.startswith(("AWS_ACCESS", "AWS_SECRET", "AWS_SESSION"))}
    result = run(env, "--dry-run", "xgboost-byoc")
    assert (
        result.returncode == 1 and "cannot read the AWS account from STS (are credentials configured?)" in result.stderr
    )


def test_missing_aws_cli_is_explained(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": "/usr/bin:/bin" if not Path("/usr/bin/aws").exists() else str(tmp_path)}
    result = subprocess.run(
        ["/bin/bash", SCRIPT, "--dry-run", "x"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 1 and "the AWS CLI is not installed" in result.stderr


@pytest.mark.parametrize("name", ["UPPER", "-leading", "a b"])
def test_invalid_repository_name_is_refused(aws: Moto, name: str) -> None:
    result = run(aws.env(), "--dry-run", name)
    assert result.returncode == 1 and "is not a valid ECR repository name" in result.stderr


def test_usage_without_arguments(aws: Moto) -> None:
    result = run(aws.env())
    assert result.returncode == 2 and "usage:" in result.stderr


@pytest.fixture
def docker_stand_in(tmp_path: Path) -> Path:
    """A `docker` that records its arguments (and, for login, its stdin) instead of running anything."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "docker.log"
    script = bin_dir / "docker"
    script.write_text(
        "#!/usr/bin/env bash\n"
        f'echo "ARGS $*" >> "{log}"\n'
        f'if [ "$1" = login ]; then echo "STDIN $(cat)" >> "{log}"; fi\n'
        "exit 0\n"
    )
    script.chmod(0o755)
    return tmp_path


def test_real_run_creates_the_repository_logs_in_on_stdin_and_pushes(aws: Moto, docker_stand_in: Path) -> None:
    env = {**aws.env(), "SKIP_SMOKE_TEST": "1"}
    env["PATH"] = f"{docker_stand_in / 'bin'}{os.pathsep}{env['PATH']}"
    result = run(env, "xgboost-byoc", "v2")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == f"{REGISTRY}/xgboost-byoc:v2"
    actions = aws.actions()
    assert actions == ["GetCallerIdentity", "DescribeRepositories", "CreateRepository", "GetAuthorizationToken"]
    docker = (docker_stand_in / "docker.log").read_text().splitlines()
    assert docker[0] == "ARGS info"
    assert docker[1].startswith("ARGS build --platform linux/amd64 ")
    assert f"ARGS login --username AWS --password-stdin {REGISTRY}" in docker
    password = next(line for line in docker if line.startswith("STDIN ")).removeprefix("STDIN ")
    token = aws.client("ecr").get_authorization_token()["authorizationData"][0]["authorizationToken"]
    assert base64.b64decode(token).decode() == f"AWS:{password}"  # ECR's password reached docker on stdin...
    assert password not in result.stdout and password not in result.stderr  # ...and was printed nowhere
    assert not any(password in line for line in docker if line.startswith("ARGS"))  # nor put in argv
    assert f"ARGS push {REGISTRY}/xgboost-byoc:v2" in docker

    # a second run finds the repository and does not create it again
    aws.restart_recording()
    assert run(env, "xgboost-byoc", "v2").returncode == 0
    assert aws.actions() == ["GetCallerIdentity", "DescribeRepositories", "GetAuthorizationToken"]


def test_real_run_without_docker_engine_says_so(aws: Moto, tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "docker").write_text("#!/usr/bin/env bash\nexit 1\n")
    (bin_dir / "docker").chmod(0o755)
    env = {**aws.env(), "PATH": f"{bin_dir}{os.pathsep}{aws.env()['PATH']}"}
    result = run(env, "xgboost-byoc")
    assert result.returncode == 1 and "cannot reach a Docker engine" in result.stderr
    assert aws.actions() == []  # nothing was asked of AWS before the engine check
