"""SageMaker's job configuration files → typed objects.

``hyperparameters.json`` holds strings only, but clients encode them differently: SageMaker's API takes
plain strings, the SageMaker Python SDK (v2 framework estimators, v3 ``ModelTrainer``) JSON-encodes each
value (``"\\"binary:logistic\\""``, ``"[\\"auc\\", \\"logloss\\"]"``), and people writing the file by hand
put numbers or booleans in it. ``load_hyperparameters`` folds all of these into plain strings, which the
typed schema in ``hyperparameters.py`` then parses.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xgboost_byoc.errors import PlatformError, UserError
from xgboost_byoc.paths import Paths


@dataclass(frozen=True)
class Channel:
    name: str
    content_type: str | None = None
    input_mode: str = "File"
    distribution: str = "FullyReplicated"


@dataclass(frozen=True)
class ResourceConfig:
    current_host: str = "algo-1"
    hosts: tuple[str, ...] = ("algo-1",)
    network_interface_name: str | None = None


@dataclass(frozen=True)
class CheckpointConfig:
    local_path: Path
    s3_uri: str | None = None


@dataclass(frozen=True)
class JobConfig:
    hyperparameters: dict[str, str]
    channels: dict[str, Channel]
    resources: ResourceConfig = field(default_factory=ResourceConfig)
    checkpoint: CheckpointConfig | None = None


def _read_json(path: Path, what: str) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PlatformError(f"cannot read {what} {path}: {exc.strerror}") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"{path.name} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc


def normalize_hyperparameter_value(value: object) -> str:
    """One hyperparameter value, however a client encoded it, as the plain string a user meant."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(normalize_hyperparameter_value(v) for v in value)
    if not isinstance(value, str):
        return str(value)
    text = value.strip()
    if len(text) >= 2 and ((text[0] == '"' and text[-1] == '"') or (text[0] == "[" and text[-1] == "]")):
        try:
            decoded = json.loads(text)
        except json.JSONDecodeError:
            return text
        if isinstance(decoded, (str, list, bool, int, float)):
            return normalize_hyperparameter_value(decoded)
    return text


def load_hyperparameters(paths: Paths) -> dict[str, str]:
    if not paths.hyperparameters_file.exists():
        return {}
    raw = _read_json(paths.hyperparameters_file, "hyperparameters")
    if not isinstance(raw, dict):
        raise UserError(f"hyperparameters.json must hold a JSON object of name → value, not a {type(raw).__name__}")
    return {str(k): normalize_hyperparameter_value(v) for k, v in raw.items()}


def load_channels(paths: Paths) -> dict[str, Channel]:
    """Channels from inputdataconfig.json, or (hand-made trees) the folders under input/data."""
    if paths.inputdataconfig_file.exists():
        raw = _read_json(paths.inputdataconfig_file, "input data config")
        if not isinstance(raw, dict):
            raise UserError("inputdataconfig.json must hold a JSON object of channel → settings")
        channels = {}
        for name, given in raw.items():
            spec = given if isinstance(given, dict) else {}
            channels[name] = Channel(
                name=name,
                content_type=spec.get("ContentType") or None,
                input_mode=spec.get("TrainingInputMode", "File"),
                distribution=spec.get("S3DistributionType", "FullyReplicated"),
            )
        return channels
    if not paths.data_dir.is_dir():
        return {}
    return {p.name: Channel(p.name) for p in sorted(paths.data_dir.iterdir()) if p.is_dir()}


def load_resources(paths: Paths) -> ResourceConfig:
    if not paths.resourceconfig_file.exists():
        return ResourceConfig()
    raw = _read_json(paths.resourceconfig_file, "resource config")
    hosts = tuple(raw.get("hosts") or ("algo-1",))
    return ResourceConfig(
        current_host=raw.get("current_host", hosts[0]),
        hosts=hosts,
        network_interface_name=raw.get("network_interface_name"),
    )


def load_checkpoint(paths: Paths) -> CheckpointConfig | None:
    if paths.checkpointconfig_file.exists():
        raw = _read_json(paths.checkpointconfig_file, "checkpoint config")
        local = raw.get("LocalPath") or str(paths.default_checkpoint_dir)
        return CheckpointConfig(local_path=Path(local), s3_uri=raw.get("S3Uri"))
    if paths.default_checkpoint_dir.is_dir():
        return CheckpointConfig(local_path=paths.default_checkpoint_dir)
    return None


def load_job_config(paths: Paths) -> JobConfig:
    return JobConfig(
        hyperparameters=load_hyperparameters(paths),
        channels=load_channels(paths),
        resources=load_resources(paths),
        checkpoint=load_checkpoint(paths),
    )
