"""Shared fixtures: a fresh fake /opt/ml per test, the Adult splits from ../shared, the entry points."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("XGB_BYOC_SHARED", REPO.parent / "shared"))
ADULT = SHARED / "data" / "adult"
BIN = Path(sys.executable).parent
IN_CI = os.environ.get("CI", "").lower() == "true"

#: The lab's built-in hyperparameters (task 1).
LAB_BUILTIN_HP = {
    "max_depth": "5",
    "eta": "0.2",
    "gamma": "4",
    "min_child_weight": "6",
    "subsample": "0.7",
    "objective": "binary:logistic",
    "num_round": "800",
}


def entry_point(name: str) -> str:
    path = BIN / name
    if not path.exists():
        pytest.fail(f"console script {name!r} is not installed next to {sys.executable}; run `make test`")
    return str(path)


def xgb_byoc(
    workdir: Path, *args: str, timeout: float = 600, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``xgb-byoc ARGS`` run in ``workdir`` with its jobs folder at ``workdir/jobs``; never raises on failure."""
    return subprocess.run(
        [entry_point("xgb-byoc"), *args],
        cwd=workdir,
        env={**os.environ, "XGB_BYOC_JOBS_DIR": str(workdir / "jobs"), **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="session")
def adult_dir() -> Path:
    """The lab's processed Adult splits; skipped when absent, a failure in CI."""
    if not (ADULT / "adult_data_processed_train.csv").exists():
        message = f"UCI Adult splits not found in {ADULT} (expected ../shared/data/adult beside the repo)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return ADULT


@dataclass
class MlTree:
    """A fresh /opt/ml tree under a temporary directory, and the `train` entry point run over it."""

    base: Path

    def hyperparameters(self, values: Mapping[str, object]) -> MlTree:
        cfg = self.base / "input" / "config"
        cfg.mkdir(parents=True, exist_ok=True)
        (cfg / "hyperparameters.json").write_text(json.dumps(dict(values)))
        return self

    def channel(
        self, name: str, files: Iterable[Path | tuple[str, str | bytes]], content_type: str | None = "text/csv"
    ) -> MlTree:
        folder = self.base / "input" / "data" / name
        folder.mkdir(parents=True, exist_ok=True)
        for item in files:
            if isinstance(item, Path):
                shutil.copy(item, folder / item.name)
            else:
                target = folder / item[0]
                target.parent.mkdir(parents=True, exist_ok=True)
                data = item[1]
                target.write_bytes(data if isinstance(data, bytes) else data.encode())
        cfg_file = self.base / "input" / "config" / "inputdataconfig.json"
        cfg_file.parent.mkdir(parents=True, exist_ok=True)
        config = json.loads(cfg_file.read_text()) if cfg_file.exists() else {}
        config[name] = {"TrainingInputMode": "File", "S3DistributionType": "FullyReplicated"}
        if content_type:
            config[name]["ContentType"] = content_type
        cfg_file.write_text(json.dumps(config))
        return self

    def resources(self, current: str, hosts: Sequence[str]) -> MlTree:
        cfg = self.base / "input" / "config"
        cfg.mkdir(parents=True, exist_ok=True)
        (cfg / "resourceconfig.json").write_text(json.dumps({"current_host": current, "hosts": list(hosts)}))
        return self

    def run_train(self, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "SAGEMAKER_BASE_DIR": str(self.base)}
        return subprocess.run(
            [entry_point("train")], env=env, capture_output=True, text=True, timeout=timeout, check=False
        )

    @property
    def model_dir(self) -> Path:
        return self.base / "model"

    @property
    def output(self) -> Path:
        return self.base / "output"

    def metrics(self) -> dict[str, float]:
        return json.loads((self.output / "data" / "metrics.json").read_text())

    def manifest(self) -> dict[str, object]:
        return json.loads((self.model_dir / "manifest.json").read_text())

    def failure(self) -> str:
        return (self.output / "failure").read_text()


@pytest.fixture
def ml_root(tmp_path: Path) -> MlTree:
    base = tmp_path / "opt_ml"
    base.mkdir()
    return MlTree(base)


# ------------------------------------------------------------------------------------------ serving


def free_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Response:
    status: int
    body: bytes
    headers: dict[str, str]

    def json(self) -> object:
        return json.loads(self.body)


@dataclass
class Server:
    """A real `serve` process (gunicorn) on 127.0.0.1, and a small HTTP client for it."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: Mapping[str, str] | None = None
    ) -> Response:
        import http.client

        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=dict(headers or {}))
            resp = conn.getresponse()
            return Response(resp.status, resp.read(), {k.lower(): v for k, v in resp.getheaders()})
        finally:
            conn.close()

    def invoke(self, body: bytes, content_type: str | None = "text/csv", **headers: str) -> Response:
        all_headers = {k.replace("_", "-"): v for k, v in headers.items()}
        if content_type is not None:
            all_headers["Content-Type"] = content_type
        return self.request("POST", "/invocations", body, all_headers)

    def stop(self) -> None:
        import signal

        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


def start_server(
    model_base: Path, log: Path, env: Mapping[str, str] | None = None, wait: bool = True, command: str | None = None
) -> Server:
    import time

    port = free_port()
    full_env = {
        **os.environ,
        "SAGEMAKER_BASE_DIR": str(model_base),
        "SAGEMAKER_BIND_TO_PORT": str(port),
        "XGB_BYOC_BIND_HOST": "127.0.0.1",
        "SAGEMAKER_MODEL_SERVER_WORKERS": "2",
        **(env or {}),
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [command or entry_point("serve")],
            env=full_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(process, port, log)
    if not wait:
        return server
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"serve exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if server.request("GET", "/ping").status == 200:
                return server
        except OSError:
            pass
        time.sleep(0.1)
    server.stop()
    pytest.fail(f"serve did not answer /ping within 60 s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def adult_model(tmp_path_factory: pytest.TempPathFactory, adult_dir: Path) -> MlTree:
    """A model trained by the real `train` on the Adult splits (lab hyperparameters, 3-fold CV)."""
    tree = MlTree(tmp_path_factory.mktemp("adult_model"))
    tree.hyperparameters({**LAB_BUILTIN_HP, "num_round": "300", "kfold": "3", "eval_metric": "auc"})
    tree.channel("train", [adult_dir / "adult_data_processed_train.csv"])
    tree.channel("validation", [adult_dir / "adult_data_processed_validation.csv"])
    result = tree.run_train()
    assert result.returncode == 0, result.stderr[-3000:]
    return tree


@pytest.fixture(scope="session")
def served_model(adult_model: MlTree, tmp_path_factory: pytest.TempPathFactory) -> Iterable[Server]:
    """The real `serve` over the Adult model: gunicorn, 2 workers, 127.0.0.1, a free port."""
    server = start_server(adult_model.base, tmp_path_factory.mktemp("serve") / "serve.log")
    yield server
    server.stop()


# ------------------------------------------------------------------------------------------ AWS (moto)


@dataclass
class Moto:
    """moto's ThreadedMotoServer on 127.0.0.1 with request recording: assert on what was SENT."""

    url: str
    recording: Path

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "AWS_ENDPOINT_URL": self.url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        }

    def _call(self, path: str, method: str = "POST") -> bytes:
        import urllib.request

        with urllib.request.urlopen(urllib.request.Request(self.url + path, method=method), timeout=30) as resp:
            return bytes(resp.read())

    def reset(self) -> None:
        """Forget all AWS state and all recorded requests."""
        self._call("/moto-api/reset")
        self.restart_recording()

    def restart_recording(self) -> None:
        """Forget the recorded requests, keep the AWS state."""
        self._call("/moto-api/recorder/reset-recording")
        self._call("/moto-api/recorder/start-recording")

    def client(self, service: str):
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def requests(self) -> list[dict[str, object]]:
        """Every request recorded since the last reset, with its decoded body."""
        import base64

        lines = self._call("/moto-api/recorder/download-recording", "GET").decode().splitlines()
        out = []
        for line in lines:
            if not line.strip():
                continue
            entry = json.loads(line)
            body = entry.get("body") or ""
            if entry.get("body_encoded") and body:
                body = base64.b64decode(body).decode(errors="replace")
            entry["body"] = body
            out.append(entry)
        return out

    def actions(self) -> list[str]:
        """The API action of each recorded request (query protocol Action= or JSON X-Amz-Target)."""
        import urllib.parse

        names = []
        for entry in self.requests():
            headers = {k.lower(): v for k, v in dict(entry["headers"]).items()}  # type: ignore[call-overload]
            target = headers.get("x-amz-target")
            if target:
                names.append(str(target).split(".")[-1])
                continue
            action = urllib.parse.parse_qs(str(entry["body"])).get("Action")
            names.append(action[0] if action else f"{entry['method']} {entry['url']}")
        return names


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterable[Moto]:
    recording = tmp_path_factory.mktemp("moto") / "recording"
    os.environ["MOTO_RECORDER_FILEPATH"] = str(recording)
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield Moto(f"http://{host}:{port}", recording)
    server.stop()


@pytest.fixture
def aws(moto_server: Moto) -> Moto:
    moto_server.reset()
    return moto_server


# ---------------------------------------------------------------------------------------------- docker


def docker_engine() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=60, check=False).returncode == 0


docker_only = pytest.mark.skipif(not docker_engine(), reason="no Docker engine answers here")


@pytest.fixture(scope="session")
def built_image() -> Iterable[str]:
    """The image, built from this checkout (docker-marked tests only)."""
    tag = "xgboost-byoc:test"
    subprocess.run(["docker", "build", "--platform", "linux/amd64", "-t", tag, str(REPO)], check=True, timeout=1800)
    yield tag


@pytest.fixture(scope="session")
def small_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``train/`` and ``validation/`` CSV channels from scikit-learn's breast-cancer set (label first)."""
    out = tmp_path_factory.mktemp("small_data")
    subprocess.run([sys.executable, str(REPO / "local_test" / "make_test_dir.py"), "--out", str(out)], check=True)
    return out / "input" / "data"


# ------------------------------------------------------------------------------------------ several hosts


def host_trees(root: Path, n: int) -> list[MlTree]:
    """One /opt/ml tree per host (algo-1 … algo-N), each with its resourceconfig.json."""
    hosts = [f"algo-{i + 1}" for i in range(n)]
    return [MlTree(root / host).resources(host, hosts) for host in hosts]


@dataclass
class HostProcess:
    host: str
    proc: subprocess.Popen[str]
    log: Path

    def text(self) -> str:
        return self.log.read_text()


def start_hosts(trees: Sequence[MlTree], *, env: Mapping[str, str] | None = None) -> list[HostProcess]:
    """Start `train` on every tree at once: N hosts on 127.0.0.1 sharing a fresh tracker port.

    Each host gets one XGBoost thread (they share this machine's cores)."""
    configs = [json.loads((t.base / "input/config/resourceconfig.json").read_text()) for t in trees]
    hosts = [c["current_host"] for c in configs]
    common = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "XGB_BYOC_TRACKER_PORT": str(free_port()),
        "XGB_BYOC_HOST_ADDRESSES": ",".join(f"{h}=127.0.0.1" for h in configs[0]["hosts"]),
        **(env or {}),
    }
    started = []
    for host, tree in zip(hosts, trees, strict=True):
        log = tree.base.parent / f"{host}.log"
        with log.open("w") as out:
            proc = subprocess.Popen(
                [entry_point("train")],
                env={**common, "SAGEMAKER_BASE_DIR": str(tree.base)},
                stdout=out,
                stderr=subprocess.STDOUT,
                text=True,
            )
        started.append(HostProcess(host, proc, log))
    return started


def wait_hosts(started: Sequence[HostProcess], timeout: float = 600) -> list[subprocess.CompletedProcess[str]]:
    """Wait for every host (bounded); past ``timeout`` every one still running is killed by its PID."""
    import time

    deadline = time.monotonic() + timeout
    results = []
    for host in started:
        try:
            code = host.proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            for other in started:
                other.proc.kill()
            code = host.proc.wait()
        text = host.text()
        results.append(subprocess.CompletedProcess(host.proc.args, code, text, text))
    return results


def run_hosts(
    trees: Sequence[MlTree], *, timeout: float = 600, env: Mapping[str, str] | None = None
) -> list[subprocess.CompletedProcess[str]]:
    return wait_hosts(start_hosts(trees, env=env), timeout)
