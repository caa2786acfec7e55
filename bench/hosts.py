"""Bench: one model trained by 1, 2 and 3 hosts — `train` processes on this machine, joined by XGBoost's
tracker on 127.0.0.1 — on a synthetic 2 M-row set (parquet, 20 features, binary label).

Caveat printed with the figures: the hosts SHARE this machine's cores, so more hosts cannot be faster
here; what the figures show is the cost of the collective steps (histogram allreduce every tree level,
metrics, the gather at the end) on top of the same work. Each configuration runs ``--repeat`` times,
interleaved with the bare boosting loop in-process (``xgb.train`` on the same matrix, both cores), and
medians are printed with the ratio to one host measured in the same session.

Then an estimate, on paper, for 10 instances: the bytes each host sends per round (one histogram of
``features x bins`` (gradient, hessian) float64 pairs per node built — the smaller child of each split,
the sibling comes by subtraction — allreduced as a ring, 2 (n - 1) / n of it), at the bandwidth and
per-message latency given by ``--gbps`` / ``--latency-ms``, against the measured compute per round / n.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from common import BIN

FEATURES = 20
HP = {"objective": "binary:logistic", "num_round": "50", "max_depth": "6", "eta": "0.3", "eval_metric": "logloss"}


def make_data(path: Path, rows: int) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(rows, FEATURES)).astype(np.float32)
    logit = X[:, 0] - 0.5 * X[:, 1] + 0.25 * X[:, 2] * X[:, 3] + 0.3 * rng.normal(size=rows)
    y = (logit > 0).astype(np.float32)
    table = pa.table({"label": y, **{f"f{i}": X[:, i] for i in range(FEATURES)}})
    pq.write_table(table, path)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tree(root: Path, host: str, hosts: list[str], data: Path) -> Path:
    base = root / host
    config = base / "input" / "config"
    config.mkdir(parents=True)
    (config / "hyperparameters.json").write_text(json.dumps(HP))
    (config / "resourceconfig.json").write_text(json.dumps({"current_host": host, "hosts": hosts}))
    channel = {"TrainingInputMode": "File", "S3DistributionType": "FullyReplicated"}
    (config / "inputdataconfig.json").write_text(json.dumps({"train": channel}))
    (base / "input" / "data" / "train").mkdir(parents=True)
    (base / "input" / "data" / "train" / data.name).symlink_to(data)
    return base


def run(n: int, data: Path, scratch: Path) -> float:
    root = Path(tempfile.mkdtemp(dir=scratch))
    hosts = [f"algo-{i + 1}" for i in range(n)]
    env = {
        **os.environ,
        "OMP_NUM_THREADS": str(max(1, (os.cpu_count() or 1) // n)),
        "XGB_BYOC_TRACKER_PORT": str(free_port()),
        "XGB_BYOC_HOST_ADDRESSES": ",".join(f"{h}=127.0.0.1" for h in hosts),
    }
    started = time.perf_counter()
    procs = [
        subprocess.Popen(
            [str(BIN / "train")],
            env={**env, "SAGEMAKER_BASE_DIR": str(tree(root, h, hosts, data))},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for h in hosts
    ]
    codes = []
    for proc in procs:
        try:
            codes.append(proc.wait(timeout=1800))
        except subprocess.TimeoutExpired:
            for other in procs:
                other.kill()
            raise
    wall = time.perf_counter() - started
    if any(codes):
        raise SystemExit(f"{n} host(s) failed: exit codes {codes}; see {root}")
    metrics = json.loads((root / "algo-1" / "output" / "data" / "metrics.json").read_text())
    shutil.rmtree(root)
    print(f"  {n} host(s): {wall:6.2f} s  train:logloss {metrics['train:logloss']:.5f}", flush=True)
    return wall


def in_process(data: Path) -> float:
    """Seconds of the bare boosting loop on the whole set, in this process, every core."""
    import xgboost as xgb

    table = pq.read_table(data)
    X = np.column_stack([table.column(f"f{i}").to_numpy() for i in range(FEATURES)])
    dtrain = xgb.DMatrix(X, label=table.column("label").to_numpy(), nthread=os.cpu_count())
    params = {k: v for k, v in HP.items() if k != "num_round"}
    started = time.perf_counter()
    xgb.train(params, dtrain, int(HP["num_round"]))
    wall = time.perf_counter() - started
    print(f"  in-process boosting loop: {wall:6.2f} s", flush=True)
    return wall


def estimate(hosts: int, round_seconds: float, gbps: float, latency_ms: float) -> str:
    """Per-round communication vs compute for ``hosts`` instances, each with the cores of this machine."""
    depth, bins = int(HP["max_depth"]), 256
    nodes_built = 1 + sum(2 ** (level - 1) for level in range(1, depth))  # levels 0..depth-1 are split
    histogram = FEATURES * bins * 2 * 8  # (gradient, hessian) as float64 per bin
    sent = nodes_built * histogram * 2 * (hosts - 1) / hosts  # ring allreduce, per host, per round
    levels = depth + 2  # one allreduce per level, plus the root's gradient sums and the round's metric
    comm = sent / (gbps * 1e9 / 8) + levels * 2 * (hosts - 1) * latency_ms / 1000
    compute = round_seconds / hosts
    return (
        f"{hosts} instances: each sends {sent / 1e6:.1f} MB per round ({nodes_built} histograms of "
        f"{histogram / 1e3:.0f} kB), {comm * 1e3:.1f} ms at {gbps:g} Gb/s and {latency_ms:g} ms per message; "
        f"compute {compute * 1e3:.0f} ms per round (this machine's {round_seconds * 1e3:.0f} ms / {hosts}) "
        f"-> {compute / (compute + comm) * hosts:.1f}x of one host's speed (ideal {hosts}x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--gbps", type=float, default=10.0, help="network bandwidth for the estimate (ml.m5: up to 10)")
    parser.add_argument("--latency-ms", type=float, default=0.1, help="per-message latency for the estimate")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        data = scratch / "synthetic.parquet"
        began = time.perf_counter()
        make_data(data, args.rows)
        print(
            f"{args.rows:,} rows x {FEATURES} features ({data.stat().st_size / 1e6:.0f} MB parquet) in "
            f"{time.perf_counter() - began:.1f} s; {HP['num_round']} rounds, depth {HP['max_depth']}, hist; "
            f"{os.cpu_count()} cores shared by all hosts"
        )
        walls: dict[int, list[float]] = {1: [], 2: [], 3: []}
        loops: list[float] = []
        for _ in range(args.repeat):
            loops.append(in_process(data))
            for n, values in walls.items():
                values.append(run(n, data, scratch))
    base = statistics.median(walls[1])
    loop = statistics.median(loops)
    print(f"\n{'hosts':>5} {'median s':>9} {'vs 1 host':>10}")
    for n, values in walls.items():
        print(f"{n:>5} {statistics.median(values):9.2f} {statistics.median(values) / base:9.2f}x")
    print(
        f"in-process boosting loop {loop:.2f} s: one host's job = loop + {base - loop:.2f} s "
        "(start, reading the parquet, metrics, report, model)"
    )
    print("caveat: the hosts share this machine's cores; on SageMaker each host brings its own.")
    print("\non paper, at 10 instances:\n  " + estimate(10, loop / int(HP["num_round"]), args.gbps, args.latency_ms))


if __name__ == "__main__":
    main()
