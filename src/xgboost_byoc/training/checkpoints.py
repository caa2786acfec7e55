"""Checkpoints: the boosting loop saved every ``checkpoint_interval`` rounds and on SIGTERM, resumed on start.

SageMaker (spot training, ``StopTrainingJob``) sends SIGTERM and kills the container 120 s later. The
handler only sets a flag; the loop finishes its current round, writes a checkpoint and stops with a
failure file that says so. A job started with the same checkpoint folder resumes from the newest valid
checkpoint: every booster of the phase (the k fold models of the CV, or the final model) plus the loop's
state (round, early-stopping best, per-round history). XGBoost re-seeds its random engine from ``seed``
and the round number at every round, so a resumed job builds the same trees as an uninterrupted one.

A checkpoint is a folder written next to its final name and renamed into place, so a reader sees the
old checkpoint or the new one, never half of one; ``state.json`` carries a fingerprint of the job
(phase, parameters, data shape), and a checkpoint of another job is ignored with a warning.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import signal
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xgboost_byoc.errors import XgbByocError

log = logging.getLogger(__name__)
STOP = threading.Event()
STATE_FILE = "state.json"


class TrainingStopped(XgbByocError):
    """SIGTERM arrived; a checkpoint was written."""

    kind = "TrainingStopped"
    exit_code = 143  # 128 + SIGTERM, as a process killed by it would report


def install_sigterm_handler() -> None:
    signal.signal(signal.SIGTERM, lambda _signum, _frame: STOP.set())


def fingerprint(**facts: Any) -> str:
    return hashlib.sha256(json.dumps(facts, sort_keys=True, default=str).encode()).hexdigest()[:16]


@dataclass
class Checkpointer:
    directory: Path
    phase: str  # "cv" or "final"
    fingerprint: str
    interval: int = 10

    @property
    def path(self) -> Path:
        return self.directory / f"xgb-byoc-{self.phase}"

    def load(self) -> tuple[dict[str, Any], list[bytes]] | None:
        """(state, booster bytes) of the newest valid checkpoint of this phase and job, or None."""
        for folder in (self.path, self.path.with_name(self.path.name + ".old")):
            state_file = folder / STATE_FILE
            if not state_file.is_file():
                continue
            try:
                state = json.loads(state_file.read_text())
                boosters = [(folder / f"booster-{i}.ubj").read_bytes() for i in range(int(state["boosters"]))]
            except (OSError, ValueError, KeyError) as exc:
                log.warning("checkpoint %s is unreadable (%s); ignoring it", folder, exc)
                continue
            if state.get("fingerprint") != self.fingerprint:
                log.warning("checkpoint %s belongs to another job (different settings or data); ignoring it", folder)
                return None
            return state, boosters
        return None

    def save(self, state: dict[str, Any], boosters: list[Any]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        staging = self.path.with_name(f"{self.path.name}.tmp-{os.getpid()}")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        for i, booster in enumerate(boosters):
            (staging / f"booster-{i}.ubj").write_bytes(bytes(booster.save_raw(raw_format="ubj")))
        (staging / STATE_FILE).write_text(
            json.dumps({**state, "fingerprint": self.fingerprint, "boosters": len(boosters)})
        )
        old = self.path.with_name(self.path.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if self.path.exists():
            os.replace(self.path, old)
        os.replace(staging, self.path)
        shutil.rmtree(old, ignore_errors=True)
