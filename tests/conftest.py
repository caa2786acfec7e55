"""Shared fixtures: a fresh fake /opt/ml per test, the Adult splits from ../shared, the entry points."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping
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
