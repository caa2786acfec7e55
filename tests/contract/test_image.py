"""The image's contract without a Docker engine: the wheel installed into a fresh venv by the very script
the Dockerfile's builder stage runs (container/install.sh), then the final stage's commands — `train` over
a temporary /opt/ml, `serve` + /ping + a prediction. Docker-marked tests build and run the real image
wherever an engine answers, and skip here."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.conftest import REPO, MlTree, docker_only, start_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def image_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel installed by container/install.sh, as in the Dockerfile."""
    work = tmp_path_factory.mktemp("image")
    wheels = work / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "--wheel-dir", str(wheels), str(REPO)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    result = subprocess.run(
        [str(REPO / "container" / "install.sh"), str(venv), str(wheels)],
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return venv


def test_install_puts_our_train_on_path_despite_the_toolkits(image_venv: Path) -> None:
    script = (image_venv / "bin" / "train").read_text()
    assert "xgboost_byoc.training.main" in script and "sagemaker_training" not in script
    toolkit = subprocess.run(
        [str(image_venv / "bin" / "python"), "-c", "import sagemaker_training, gethostname"], check=False
    )
    assert toolkit.returncode == 0  # the script-mode toolkit and its compiled extension are there too


def test_image_train_then_serve(image_venv: Path, tmp_path: Path) -> None:
    rng_rows = "\n".join(f"{int(i % 7 < 3)},{i % 7},{(i * 13) % 11}" for i in range(300))
    tree = MlTree(tmp_path / "opt_ml")
    tree.hyperparameters({"objective": "binary:logistic", "num_round": "20", "kfold": "3"})
    tree.channel("train", [("train.csv", rng_rows)])
    env = {
        **os.environ,
        "SAGEMAKER_BASE_DIR": str(tree.base),
        "PATH": f"{image_venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
    }
    result = subprocess.run(["train"], env=env, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tree.output / "success").exists() and (tree.model_dir / "xgboost-model").exists()

    serve_env = {"PATH": env["PATH"], "SAGEMAKER_MODEL_SERVER_WORKERS": "1"}
    server = start_server(tree.base, tmp_path / "serve.log", env=serve_env, command=str(image_venv / "bin" / "serve"))
    try:
        assert server.request("GET", "/ping").status == 200
        response = server.invoke(b"1,5\n5,1\n")
    finally:
        server.stop()
    assert response.status == 200 and len(response.body.splitlines()) == 2


def readable_by_everyone(path: Path) -> bool:
    """Whether an unprivileged user can reach ``path`` (every parent searchable by others)."""
    return all(parent.stat().st_mode & 0o001 for parent in [path, *path.parents])


@pytest.mark.skipif(os.geteuid() != 0, reason="dropping privileges needs root (as in the image)")
@pytest.mark.skipif(
    not readable_by_everyone(Path(sys.base_prefix)),
    reason=f"this Python ({sys.base_prefix}) is not readable by other users, so workers cannot run as one "
    "(in the image Python lives in /usr/local)",
)
def test_serve_workers_drop_root_for_the_serve_user(image_venv: Path) -> None:
    base = Path(tempfile.mkdtemp(prefix="xgb-byoc-user-"))
    try:
        base.chmod(0o755)
        tree = MlTree(base / "opt_ml")
        tree.hyperparameters({"objective": "binary:logistic", "num_round": "5"})
        tree.channel("train", [("train.csv", "\n".join(f"{i % 2},{i}" for i in range(50)))])
        env = {**os.environ, "SAGEMAKER_BASE_DIR": str(tree.base)}
        assert (
            subprocess.run(
                [str(image_venv / "bin" / "train")], env=env, capture_output=True, timeout=300, check=False
            ).returncode
            == 0
        )
        for path in [base, *base.rglob("*")]:
            path.chmod(path.stat().st_mode | 0o005)
        server = start_server(
            tree.base,
            base / "serve.log",
            command=str(image_venv / "bin" / "serve"),
            env={"XGB_BYOC_SERVE_USER": "nobody", "SAGEMAKER_MODEL_SERVER_WORKERS": "1"},
        )
        try:
            assert server.invoke(b"1\n").status == 200
            workers = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children").read_text().split()
            uids = {Path(f"/proc/{pid}/status").read_text().split("Uid:")[1].split()[0] for pid in workers}
        finally:
            server.stop()
        import pwd

        assert uids == {str(pwd.getpwnam("nobody").pw_uid)}
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_dockerignore_keeps_the_context_to_what_the_dockerfile_copies() -> None:
    rules = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert rules[0] == "*"
    allowed = {rule.lstrip("!").rstrip("/") for rule in rules if rule.startswith("!")}
    copied = set()
    for line in (REPO / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY") and "--from" not in line:
            copied |= {part.rstrip("/").split("/")[0] for part in line.split()[1:-1]}
    assert copied <= allowed, copied - allowed


@pytest.mark.docker
@docker_only
def test_docker_run_train(built_image: str, tmp_path: Path) -> None:
    tree = MlTree(tmp_path / "opt_ml")
    tree.hyperparameters({"objective": "binary:logistic", "num_round": "10", "kfold": "3"})
    tree.channel("train", [("train.csv", "\n".join(f"{i % 2},{i},{i % 5}" for i in range(200)))])
    subprocess.run(
        ["docker", "run", "--rm", "-v", f"{tree.base}:/opt/ml", built_image, "train"], check=True, timeout=600
    )
    assert (tree.output / "success").exists()
    assert json.loads((tree.model_dir / "manifest.json").read_text())["objective"] == "binary:logistic"


@pytest.mark.docker
@docker_only
def test_docker_run_serve(built_image: str, tmp_path: Path) -> None:
    import time
    import urllib.request

    from tests.conftest import free_port

    tree = MlTree(tmp_path / "opt_ml")
    tree.hyperparameters({"objective": "binary:logistic", "num_round": "10"})
    tree.channel("train", [("train.csv", "\n".join(f"{i % 2},{i}" for i in range(100)))])
    subprocess.run(
        ["docker", "run", "--rm", "-v", f"{tree.base}:/opt/ml", built_image, "train"], check=True, timeout=600
    )
    port = free_port()
    container = subprocess.run(
        [
            "docker",
            "run",
            "-d",
            "--rm",
            "-p",
            f"127.0.0.1:{port}:8080",
            "-v",
            f"{tree.base}:/opt/ml",
            built_image,
            "serve",
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout.strip()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/invocations", data=b"3\n", headers={"Content-Type": "text/csv"}
        )
        with urllib.request.urlopen(request, timeout=10) as resp:
            assert 0 <= float(resp.read()) <= 1
    finally:
        subprocess.run(["docker", "stop", container], check=False, timeout=60)
