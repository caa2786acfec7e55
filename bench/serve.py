"""Bench: the `serve` process over HTTP vs the in-process limit of the same model, in one run.

The model is the lab's built-in one (800 trees, Adult), trained here by the `train` entry point. Then:

- in-process limit: ``Booster.inplace_predict`` on 1 row and on 1000 rows, one thread;
- HTTP, `serve` with 2 workers x 1 XGBoost thread, load from wrk (Debian package ``wrk``, a C client):
  1 row at 8 connections and 1000-row CSV at 4 connections;
- server time of a 1000-row CSV vs the in-process predict of the same rows, measured in PAIRS: one
  request (connect, send, read the whole answer), then one in-process ``inplace_predict``, again and
  again, so that both halves of every pair see the same moment of this noisy machine (rounds of seconds
  each drifted apart by up to 2x). The in-process decode and encode of the same body are timed too, and a
  ``GET /ping`` in the same pairs (HTTP, gunicorn and Flask doing no work), so the figures say where the
  server's extra time goes;
- memory per worker: RSS and PSS (shared pages split between the processes sharing them).

Targets (issue 3), against AWS's XGBoost container measured on the same 2-core machine (1 row c=8:
≈900 req/s, p99 14-27 ms; 1000 rows c=4: ≈90 k rows/s, p99 72-88 ms; ≈300 MB per worker): ≥ 2x its
throughput, p99 ≤ 10 ms for 1 row, 1000-row server time ≤ 1.5x in-process predict, ≤ 150 MB per worker.
The load generator shares the 2 cores with the server: figures are lower bounds.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from common import ADULT, BIN, LAB  # bench/common.py (bench scripts run as `python bench/x.py`)

AWS = {"1 row c=8": (900.0, "req/s"), "1000 rows c=4": (90_000.0, "rows/s")}


def train_model(base: Path) -> None:
    (base / "input/config").mkdir(parents=True)
    (base / "input/data/train").mkdir(parents=True)
    (base / "input/config/hyperparameters.json").write_text(json.dumps(LAB))
    shutil.copy(ADULT / "adult_data_processed_train.csv", base / "input/data/train/train.csv")
    env = {**os.environ, "SAGEMAKER_BASE_DIR": str(base)}
    subprocess.run([str(BIN / "train")], env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def timed(fn, seconds: float = 2.0) -> float:
    """Median seconds per call of fn over ~``seconds``."""
    fn()
    samples = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def in_process(model_dir: Path, rows: np.ndarray, seconds: float = 2.0) -> dict[str, float]:
    import xgboost as xgb

    booster = xgb.Booster()
    booster.load_model(bytearray((model_dir / "xgboost-model").read_bytes()))
    booster.set_param({"nthread": 1})
    one, thousand = rows[:1], rows[:1000]
    return {
        "1 row": timed(lambda: booster.inplace_predict(one), seconds),
        "1000 rows": timed(lambda: booster.inplace_predict(thousand), seconds),
    }


def request_bytes(port: int, body: bytes) -> bytes:
    head = (
        f"POST /invocations HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: text/csv\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


def one_request(port: int, request: bytes) -> bytes:
    """Send one request on a new connection; return the answer as soon as it is complete.

    Complete means the headers and ``Content-Length`` bytes of body, as wrk (or any HTTP/1.1 client) reads
    an answer: the clock stops at the answer's last byte, not at the connection's close, which gunicorn
    sends only after its own bookkeeping (about 0.06 ms later here). An answer without a length is read to
    the close. The socket connects to the numeric address as it is, as wrk does: ``create_connection``
    would first ask ``getaddrinfo`` for it, ~0.05 ms of this client's own per request, no server time.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(10)
        sock.connect(("127.0.0.1", port))
        sock.sendall(request)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(1 << 16)
            if not chunk:
                return answer
            answer += chunk
        head = answer[: answer.index(b"\r\n\r\n") + 4]
        length = re.search(rb"\r\ncontent-length:\s*(\d+)", head, re.I)
        chunks = [answer]
        received = len(answer) - len(head)
        while length is None or received < int(length.group(1)):
            chunk = sock.recv(1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
            received += len(chunk)
    return b"".join(chunks)


def paired_server_time(
    port: int, body: bytes, model_dir: Path, rows: np.ndarray, pairs: int
) -> tuple[list[tuple[float, float]], list[float]]:
    """(server seconds, in-process predict seconds) for ``pairs`` back-to-back pairs, and the seconds of a
    ``GET /ping`` sent after each pair's predict: what HTTP, gunicorn and Flask cost with no work at all,
    at the same moment of the machine."""
    import xgboost as xgb

    booster = xgb.Booster()
    booster.load_model(bytearray((model_dir / "xgboost-model").read_bytes()))
    booster.set_param({"nthread": 1})
    request = request_bytes(port, body)
    ping = f"GET /ping HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode()
    answer = one_request(port, request)
    if not answer.startswith(b"HTTP/1.1 200") or answer.count(b"\n") < len(rows):
        sys.exit(f"the 1000-row request was not answered with 1000 lines: {answer[:300]!r}")
    booster.inplace_predict(rows)
    result, pings = [], []
    for _ in range(pairs):
        started = time.perf_counter()
        one_request(port, request)
        middle = time.perf_counter()
        booster.inplace_predict(rows)
        ended = time.perf_counter()
        one_request(port, ping)
        pings.append(time.perf_counter() - ended)
        booster.inplace_predict(rows)  # so that every request, /ping too, comes after a predict
        result.append((middle - started, ended - middle))
    return result, pings


def codec_times(body: bytes, model_dir: Path) -> tuple[float, float]:
    """Median seconds of the server's own CSV decode and encode of this body, in-process."""
    from xgboost_byoc.serving.codecs import decode_csv, encode_csv
    from xgboost_byoc.serving.predictor import load_predictor

    predictor = load_predictor(model_dir, threads=1)
    X = decode_csv(body, predictor.n_features)
    scores = predictor.predict(X, "probability")
    return timed(lambda: decode_csv(body, predictor.n_features), 1.0), timed(
        lambda: encode_csv(scores, "probability"), 1.0
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(base: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "SAGEMAKER_BASE_DIR": str(base),
        "SAGEMAKER_BIND_TO_PORT": str(port),
        "XGB_BYOC_BIND_HOST": "127.0.0.1",
        "SAGEMAKER_MODEL_SERVER_WORKERS": "2",
        "XGB_BYOC_PREDICT_THREADS": "1",
    }
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(BIN / "serve")], env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"serve exited: {log.read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(b"GET /ping HTTP/1.0\r\n\r\n")
                if b" 200 " in sock.recv(100):
                    return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    sys.exit("serve did not answer /ping")


def wrk(port: int, body_file: Path, connections: int, seconds: int, workdir: Path) -> dict[str, float]:
    script = workdir / f"post_{connections}.lua"
    script.write_text(
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "text/csv"\n'
        f'local f = io.open("{body_file}", "rb")\nwrk.body = f:read("*all")\nf:close()\n'
        "function response(status, headers, body)\n"
        '  if status ~= 200 then io.stderr:write("status " .. status .. "\\n") end\nend\n'
    )
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}/invocations",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    if "status " in out.stderr:
        sys.exit(f"non-200 answers during the load: {out.stderr[:500]}")
    text = out.stdout

    def ms(label: str) -> float:
        match = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
        if not match:
            sys.exit(f"cannot read {label} from wrk:\n{text}")
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Socket errors: (.*)", text)
    return {"rps": rps, "p50": ms("50%"), "p99": ms("99%"), "errors": 0.0 if errors is None else 1.0}


def worker_memory(master: int) -> list[tuple[int, float, float]]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    result = []
    for pid in children:
        fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:])
        rss = float(fields["Rss"].split()[0]) / 1024
        pss = float(fields["Pss"].split()[0]) / 1024
        result.append((int(pid), rss, pss))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=15, help="duration of each HTTP load (10-20 s)")
    parser.add_argument("--pairs", type=int, default=1000, help="request / in-process predict pairs (server time)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("bench/serve.py needs wrk (apt-get install wrk)")
    if not ADULT.exists():
        sys.exit(f"the Adult splits are not in {ADULT}")
    test = np.loadtxt(ADULT / "adult_data_processed_test.csv", delimiter=",", dtype=np.float32)[:, 1:]
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        base = workdir / "opt_ml"
        train_model(base)
        limits = in_process(base / "model", test)
        print(
            f"in-process inplace_predict, 1 thread: 1 row {limits['1 row'] * 1e6:.0f} us, "
            f"1000 rows {limits['1000 rows'] * 1e3:.2f} ms\n"
        )
        one = workdir / "one.csv"
        thousand = workdir / "thousand.csv"
        np.savetxt(one, test[:1], delimiter=",", fmt="%.6g")
        np.savetxt(thousand, test[:1000], delimiter=",", fmt="%.6g")
        port = free_port()
        proc = start_server(base, port, workdir / "serve.log")
        try:
            time.sleep(1)
            memory = worker_memory(proc.pid)
            runs = {
                "1 row c=8": wrk(port, one, 8, args.seconds, workdir),
                "1000 rows c=4": wrk(port, thousand, 4, args.seconds, workdir),
            }
            pairs, pings = paired_server_time(port, thousand.read_bytes(), base / "model", test[:1000], args.pairs)
            memory_after = worker_memory(proc.pid)
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
        decode, encode = codec_times(thousand.read_bytes(), base / "model")

    print(f"{'load':16} {'req/s':>9} {'rows/s':>10} {'p50 ms':>8} {'p99 ms':>8}  vs AWS")
    for name, run in runs.items():
        rows = 1 if name.startswith("1 row") else 1000
        line = f"{name:16} {run['rps']:9.0f} {run['rps'] * rows:10.0f} {run['p50']:8.2f} {run['p99']:8.2f}"
        if name in AWS:
            base_value, unit = AWS[name]
            mine = run["rps"] if unit == "req/s" else run["rps"] * rows
            line += f"  {mine / base_value:.2f}x ({unit}, target >= 2x)"
        print(line)
    remote, local = (statistics.median(column) for column in zip(*pairs, strict=True))
    ratios = [r / p for r, p in pairs]
    ratio = statistics.median(ratios)
    low, _, high = statistics.quantiles(ratios, n=4)  # the middle half of the pairs: how noisy the run was
    print(
        f"\n1000-row CSV, {len(pairs)} pairs (one request, then one in-process predict): server time median "
        f"{remote * 1e3:.2f} ms, in-process predict median {local * 1e3:.2f} ms"
        f"\n  median of the pairs' ratios {ratio:.2f}x (target <= 1.5x; middle half of the pairs {low:.2f}-{high:.2f}x)"
        f"\n  in-process decode {decode * 1e3:.2f} ms + encode {encode * 1e3:.2f} ms of the same body;"
        f"\n  a GET /ping in the same pairs (connection, gunicorn, Flask, no work) {statistics.median(pings) * 1e3:.2f} ms"
    )
    print(f"1 row p99 at c=8: {runs['1 row c=8']['p99']:.2f} ms (target <= 10 ms)")
    for (pid, rss, pss), (_, rss_after, pss_after) in zip(memory, memory_after, strict=True):
        print(
            f"worker {pid}: RSS {rss:.0f} MB -> {rss_after:.0f} MB after load, PSS {pss:.0f} -> {pss_after:.0f} MB "
            "(target <= 150 MB)"
        )


if __name__ == "__main__":
    main()
