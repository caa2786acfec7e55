"""Training across the hosts of ``resourceconfig.json`` with XGBoost's own collective communication.

How it works (the engine SageMaker's built-in XGBoost uses: XGBoost's tracker + its workers):

- Hosts are ordered by name; the first is the *master*. The master starts XGBoost's ``RabitTracker``
  on port ``XGB_BYOC_TRACKER_PORT`` (9099); every host, the master included, joins it as a worker with
  its rank as task id. Host names resolve through DNS (SageMaker's ``algo-N``) or, for running several
  hosts on one machine, through ``XGB_BYOC_HOST_ADDRESSES`` (``algo-1=127.0.0.1,algo-2=127.0.0.1``).
- Rows: a ``ShardedByS3Key`` channel already holds different files on each host, so a host uses all of
  its rows; a ``FullyReplicated`` channel holds every row on every host, so host *r* of *n* uses rows
  *r*, *r + n*, *r + 2n*, … — no row is used twice. The train and the validation channel alike.
- Training: each ``Booster.update`` builds its trees from histograms summed across hosts, so every host
  holds the same model each round; evaluation metrics are aggregated across hosts by XGBoost (exact for
  sums such as logloss or error; AUC is XGBoost's distributed AUC). Early stopping decides on those
  global values, so every host stops at the same round. SIGTERM is shared: a stop on any host stops
  all of them after the same round (one tiny allreduce per round).
- k-fold: each host deals its own rows into folds (stratified, seeded); fold *f* of the job is the
  union of every host's fold *f*, so each fold model is trained on, and scored on, rows of all hosts.
- After training, the out-of-fold and validation predictions, labels and weights of every host are
  gathered (allreduce) in the channel's row order; the master then computes the threshold, metrics,
  OOF file and report exactly as a single host would, and only the master writes the model.
- Failures are bounded: a host that cannot reach the tracker, a host that never joins, or a host that
  dies mid-training makes every other host fail after ``XGB_BYOC_COLLECTIVE_TIMEOUT`` seconds (default
  600) with a message saying so; a host with no rows fails every host at once, naming it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import socket
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from xgboost_byoc.config import Channel, ResourceConfig
from xgboost_byoc.data import Dataset
from xgboost_byoc.errors import AlgorithmError, PlatformError, UserError

log = logging.getLogger(__name__)
TRACKER_PORT_ENV = "XGB_BYOC_TRACKER_PORT"
HOST_ADDRESSES_ENV = "XGB_BYOC_HOST_ADDRESSES"
TIMEOUT_ENV = "XGB_BYOC_COLLECTIVE_TIMEOUT"
DEFAULT_TRACKER_PORT = 9099
DEFAULT_TIMEOUT = 600


def _addresses(text: str | None) -> dict[str, str]:
    out = {}
    for item in (text or "").split(","):
        if item.strip():
            host, sep, address = item.partition("=")
            if not sep:
                raise PlatformError(f"{HOST_ADDRESSES_ENV}: {item!r} is not host=address")
            out[host.strip()] = address.strip()
    return out


def _int_env(env: Mapping[str, str], name: str, default: int) -> int:
    try:
        return int(env.get(name) or default)
    except ValueError:
        raise PlatformError(f"{name}={env.get(name)!r} is not a whole number") from None


@dataclass(frozen=True)
class Cluster:
    hosts: tuple[str, ...]  # sorted: hosts[0] is the master
    current: str
    tracker_port: int = DEFAULT_TRACKER_PORT
    timeout: int = DEFAULT_TIMEOUT
    addresses: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_config(cls, resources: ResourceConfig, env: Mapping[str, str] | None = None) -> Cluster:
        env = os.environ if env is None else env
        hosts = tuple(sorted(resources.hosts))
        if resources.current_host not in hosts:
            raise PlatformError(f"resourceconfig.json: current_host {resources.current_host!r} is not in hosts {hosts}")
        return cls(
            hosts=hosts,
            current=resources.current_host,
            tracker_port=_int_env(env, TRACKER_PORT_ENV, DEFAULT_TRACKER_PORT),
            timeout=_int_env(env, TIMEOUT_ENV, DEFAULT_TIMEOUT),
            addresses=_addresses(env.get(HOST_ADDRESSES_ENV)),
        )

    @property
    def size(self) -> int:
        return len(self.hosts)

    @property
    def rank(self) -> int:
        return self.hosts.index(self.current)

    @property
    def master(self) -> str:
        return self.hosts[0]

    @property
    def is_master(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1

    def address(self, host: str) -> str:
        """The host's IP address: from XGB_BYOC_HOST_ADDRESSES, else DNS (retried: names appear late)."""
        if host in self.addresses:
            return self.addresses[host]
        deadline = time.monotonic() + min(self.timeout, 300)
        while True:
            try:
                return socket.gethostbyname(host)
            except OSError as exc:
                if time.monotonic() > deadline:
                    raise PlatformError(f"host {host} does not resolve ({exc}); check resourceconfig.json") from None
                time.sleep(1)

    # ------------------------------------------------------------------------------------------ rows

    def local_rows(self, data: Dataset, channel: Channel) -> tuple[Dataset, np.ndarray]:
        """This host's part of a channel and the rows' indices in the channel across hosts (see module doc).

        For ``ShardedByS3Key`` the index is only known after ``row_offsets`` (hosts in rank order)."""
        if channel.distribution == "ShardedByS3Key":
            return data, np.arange(data.n_rows)
        rows = np.arange(self.rank, data.n_rows, self.size)
        return subset(data, rows), rows

    @contextmanager
    def communicator(self) -> Iterator[None]:
        """Start the tracker (master) and join it; every XGBoost call inside is collective."""
        import xgboost as xgb
        from xgboost import collective

        master_address = self.address(self.master)
        tracker = None
        if self.is_master:
            from xgboost.tracker import RabitTracker

            try:
                tracker = RabitTracker(
                    host_ip=master_address,
                    n_workers=self.size,
                    port=self.tracker_port,
                    sortby="task",
                    timeout=self.timeout,
                )
                tracker.start()
            except (xgb.core.XGBoostError, OSError, ValueError) as exc:
                first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                raise PlatformError(
                    f"cannot start XGBoost's tracker on {master_address}:{self.tracker_port}: {first}"
                ) from None
        log.info(
            "distributed training: host %s is %d of %d (%s); tracker %s:%d%s",
            self.current,
            self.rank + 1,
            self.size,
            ", ".join(self.hosts),
            master_address,
            self.tracker_port,
            " (started here)" if tracker is not None else "",
        )
        args: dict[str, int | str] = {
            "dmlc_communicator": "rabit",
            "dmlc_tracker_uri": master_address,
            "dmlc_tracker_port": self.tracker_port,
            "dmlc_task_id": f"{self.rank:05d}",  # sortby="task": ranks follow the host order
            "dmlc_timeout": self.timeout,
            "dmlc_retry": 3,
        }
        try:
            collective.init(**args)
        except xgb.core.XGBoostError as exc:
            raise PlatformError(
                f"host {self.current} cannot join the tracker at {master_address}:{self.tracker_port} "
                f"({xgboost_reason(exc)}); is the first host ({self.master}) up?",
                detail=str(exc),
            ) from None
        from xgboost_byoc.training import fit

        fit.share_stop(self.stop_requested)
        try:
            if collective.get_rank() != self.rank or collective.get_world_size() != self.size:
                raise PlatformError(
                    f"the tracker gave host {self.current} rank {collective.get_rank()} of "
                    f"{collective.get_world_size()}, expected {self.rank} of {self.size}"
                )
            yield
        except xgb.core.XGBoostError as exc:
            raise AlgorithmError(
                f"distributed training failed on host {self.current} ({xgboost_reason(exc)}): another "
                f"host stopped or is unreachable (each waits {self.timeout} s; see the other hosts' logs)",
                detail=str(exc),
            ) from None
        finally:
            fit.share_stop(None)
            with contextlib.suppress(xgb.core.XGBoostError):  # already broken: the error above says why
                collective.finalize()
            if tracker is not None:
                try:
                    tracker.wait_for(self.timeout)
                except Exception as exc:  # the job's outcome was decided above
                    log.warning("tracker did not shut down cleanly: %s", exc)

    # ------------------------------------------------------------------------------------ collectives

    def allreduce(self, values: np.ndarray, op: str = "sum") -> np.ndarray:
        from xgboost import collective

        return collective.allreduce(np.ascontiguousarray(values), getattr(collective.Op, op.upper()))

    def counts(self, n: int) -> np.ndarray:
        """Every host's ``n``, in rank order."""
        mine = np.zeros(self.size, dtype=np.float64)
        mine[self.rank] = n
        return self.allreduce(mine).astype(np.int64)

    def check_rows(self, channel: str, n: int) -> np.ndarray:
        """Rows per host of a channel; every host fails at once, naming them, when one has none."""
        counts = self.counts(n)
        empty = [h for h, c in zip(self.hosts, counts, strict=True) if c == 0]
        if empty:
            raise UserError(
                f"host(s) {', '.join(empty)} have no rows of the {channel} channel "
                f"({len(self.hosts)} hosts); give every host data (more files for ShardedByS3Key) or use fewer hosts"
            )
        return counts

    def stop_requested(self, local: bool) -> bool:
        """True on every host when any host got SIGTERM (the loop stops after the same round everywhere)."""
        return bool(self.allreduce(np.array([1.0 if local else 0.0]), "max")[0])

    def gather(self, local: np.ndarray, index: np.ndarray, total: int, axis: int = 0) -> np.ndarray:
        """Every host's rows of ``local`` (row ``i`` belongs at ``index[i]`` of ``total``), on every host."""
        moved = np.moveaxis(np.asarray(local, dtype=np.float64), axis, 0)
        buffer = np.zeros((total, *moved.shape[1:]), dtype=np.float64)
        buffer[index] = moved
        return np.moveaxis(self.allreduce(buffer).reshape(buffer.shape), 0, axis)


_NESTED = re.compile(r"^\s*-\s*\[[^\]]*\]:?\s*(.*)$")


def xgboost_reason(exc: BaseException) -> str:
    """The nested messages of an XGBoost collective error (``- [file:line|time]: message``), joined."""
    parts = []
    for line in str(exc).splitlines():
        if "Stack trace" in line:
            break
        found = _NESTED.match(line)
        if found and found.group(1).strip() and found.group(1).strip() not in parts:
            parts.append(found.group(1).strip())
    return "; ".join(parts) or "no reason given by XGBoost"


def subset(data: Dataset, rows: np.ndarray) -> Dataset:
    return replace(
        data,
        X=data.X[rows],
        y=data.y[rows],
        weights=None if data.weights is None else data.weights[rows],
    )


@dataclass
class Gathered(Dataset):
    """After distributed training: labels and weights of EVERY host's rows (channel order), and this
    host's own ``X`` only — used for nothing but a sample (the report's SHAP rows)."""

    total_rows: int = 0

    @property
    def n_rows(self) -> int:
        return self.total_rows


@dataclass
class Placement:
    """Where this host's rows of one channel sit among all hosts' rows."""

    index: np.ndarray  # channel row index of each local row
    total: int
    per_host: np.ndarray

    @classmethod
    def of(cls, cluster: Cluster, channel: str, local_index: np.ndarray, sharded: bool) -> Placement:
        counts = cluster.check_rows(channel, len(local_index))
        if sharded:  # hosts' files in rank order
            offset = int(counts[: cluster.rank].sum())
            return cls(local_index + offset, int(counts.sum()), counts)
        total = int(cluster.allreduce(np.array([float(local_index.max(initial=-1) + 1)]), "max")[0])
        return cls(local_index, total, counts)

    def gather_dataset(self, cluster: Cluster, data: Dataset) -> Gathered:
        y = cluster.gather(data.y, self.index, self.total).astype(data.y.dtype)
        weights = None
        if data.weights is not None:
            weights = cluster.gather(data.weights, self.index, self.total).astype(data.weights.dtype)
        return Gathered(
            X=data.X, y=y, weights=weights, feature_names=data.feature_names, files=[], total_rows=self.total
        )


def describe_rows(hosts: Sequence[str], per_host: np.ndarray) -> str:
    return ", ".join(f"{h} {int(n)}" for h, n in zip(hosts, per_host, strict=True)) + f" (total {int(per_host.sum())})"


def tree_method_ok(params: Mapping[str, Any]) -> None:
    if params.get("tree_method") == "exact":
        raise UserError("tree_method=exact cannot train across hosts; use hist (the default) or approx")
