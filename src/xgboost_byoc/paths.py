"""The /opt/ml contract: every path the image reads or writes, in one place.

Paths are built when asked (``Paths.from_env()``), never at import time. ``SAGEMAKER_BASE_DIR`` moves the
root, as it does for the sagemaker-training toolkit, so the same code runs over a temporary tree in tests
and in the local launcher backend.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

BASE_DIR_ENV = "SAGEMAKER_BASE_DIR"
METRICS_FILE = "metrics.json"
OOF_FILE = "oof_predictions.csv"
REPORT_FILE = "report.html"
DEFAULT_BASE_DIR = "/opt/ml"


@dataclass(frozen=True)
class Paths:
    base: Path

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Paths:
        env = os.environ if environ is None else environ
        return cls(Path(env.get(BASE_DIR_ENV) or DEFAULT_BASE_DIR))

    # input/
    @property
    def input_dir(self) -> Path:
        return self.base / "input"

    @property
    def config_dir(self) -> Path:
        return self.input_dir / "config"

    @property
    def hyperparameters_file(self) -> Path:
        return self.config_dir / "hyperparameters.json"

    @property
    def inputdataconfig_file(self) -> Path:
        return self.config_dir / "inputdataconfig.json"

    @property
    def resourceconfig_file(self) -> Path:
        return self.config_dir / "resourceconfig.json"

    @property
    def checkpointconfig_file(self) -> Path:
        return self.config_dir / "checkpointconfig.json"

    @property
    def data_dir(self) -> Path:
        return self.input_dir / "data"

    def channel_dir(self, channel: str) -> Path:
        return self.data_dir / channel

    # model/
    @property
    def model_dir(self) -> Path:
        return self.base / "model"

    # output/
    @property
    def output_dir(self) -> Path:
        return self.base / "output"

    @property
    def output_data_dir(self) -> Path:
        return self.output_dir / "data"

    @property
    def failure_file(self) -> Path:
        return self.output_dir / "failure"

    @property
    def success_file(self) -> Path:
        return self.output_dir / "success"

    @property
    def metrics_file(self) -> Path:
        return self.output_data_dir / METRICS_FILE

    @property
    def report_file(self) -> Path:
        return self.output_data_dir / REPORT_FILE

    @property
    def oof_predictions_file(self) -> Path:
        return self.output_data_dir / OOF_FILE

    # checkpoints (default location when checkpointconfig.json names none)
    @property
    def default_checkpoint_dir(self) -> Path:
        return self.base / "checkpoints"

    # code/ (script mode)
    @property
    def code_dir(self) -> Path:
        return self.base / "code"
