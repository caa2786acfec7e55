"""One job spec: what every backend (local, docker, SageMaker) is asked to run.

Hyperparameters are kept as the strings SageMaker would hand the container; algorithm-mode ones are
validated against the container's own schema before anything starts, and the metric definitions come
from the container's ``metrics`` module, so the launcher and the image cannot disagree.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xgboost_byoc.config import normalize_hyperparameter_value
from xgboost_byoc.errors import UserError

JOB_NAME_LIMIT = 63  # SageMaker training job names: 1-63 of [a-zA-Z0-9-], starting alphanumeric
_JOB_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9])*$")


def job_name(base: str | None, *, now: float | None = None) -> str:
    """A unique name within SageMaker's limits: ``base-YYYYmmdd-HHMMSS-mmm``."""
    moment = time.time() if now is None else now
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(moment)) + f"-{round(moment * 1000) % 1000:03d}"
    stem = re.sub(r"[^a-zA-Z0-9-]+", "-", base or "xgboost-byoc").strip("-") or "xgboost-byoc"
    return f"{stem[: JOB_NAME_LIMIT - len(stamp) - 1].rstrip('-')}-{stamp}"


def check_job_name(name: str) -> str:
    if len(name) > JOB_NAME_LIMIT or not _JOB_NAME.match(name):
        raise UserError(
            f"job name {name!r} must be 1-{JOB_NAME_LIMIT} letters, digits and hyphens, starting alphanumeric"
        )
    return name


def parse_hp_args(items: Sequence[str] | None) -> dict[str, str]:
    """``--hp name=value`` (repeatable) → {name: value}."""
    result: dict[str, str] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UserError(f"--hp {item!r} is not name=value")
        result[name.strip()] = normalize_hyperparameter_value(value)
    return result


def load_config_file(path: Path) -> dict[str, str]:
    """Hyperparameters from a TOML or YAML file (a table of name = value; ``[hyperparameters]`` too)."""
    if not path.is_file():
        raise UserError(f"config file {path} does not exist")
    text = path.read_text()
    try:
        if path.suffix == ".toml":
            import tomllib

            data: Any = tomllib.loads(text)
        elif path.suffix in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text)
        else:
            raise UserError(f"config file {path.name}: use .toml, .yaml or .yml")
    except UserError:
        raise
    except Exception as exc:
        raise UserError(f"config file {path.name} cannot be read: {exc}") from None
    if isinstance(data, dict) and isinstance(data.get("hyperparameters"), dict):
        data = data["hyperparameters"]
    if not isinstance(data, dict):
        raise UserError(f"config file {path.name} must hold a table of hyperparameter = value")
    return {str(k): normalize_hyperparameter_value(v) for k, v in data.items()}


@dataclass
class JobSpec:
    job_name: str
    hyperparameters: dict[str, str]
    channels: dict[str, str]  # name → local path or s3:// URI
    output: str  # local folder or s3:// URI
    entry_point: Path | None = None  # script mode when set
    source_dir: Path | None = None
    image: str | None = None
    instance_type: str = "ml.m5.xlarge"
    instance_count: int = 1
    max_runtime_seconds: int = 86_400
    metric_definitions: list[dict[str, str]] = field(default_factory=list)

    @property
    def mode(self) -> str:
        return "script" if self.entry_point else "algorithm"

    @classmethod
    def build(
        cls,
        *,
        hyperparameters: Mapping[str, str],
        channels: Mapping[str, str | None],
        output: str,
        entry_point: Path | None = None,
        source_dir: Path | None = None,
        name: str | None = None,
        **rest: Any,
    ) -> JobSpec:
        from xgboost_byoc.hyperparameters import parse_hyperparameters
        from xgboost_byoc.metrics import metric_definitions

        given = {k: v for k, v in channels.items() if v}
        if "train" not in given:
            raise UserError("a job needs training data: --train PATH (a file, a folder or s3://...)")
        for channel, location in given.items():
            if not location.startswith("s3://") and not Path(location).exists():
                raise UserError(f"--{channel} {location}: no such file or folder")
        hp = dict(hyperparameters)
        if entry_point is not None:
            if not entry_point.is_file() and not (source_dir and (source_dir / entry_point).is_file()):
                raise UserError(f"--entry-point {entry_point}: no such file")
            # a script logs what it likes; definitions follow its eval_metric (the lab's scripts log auc)
            definitions = metric_definitions(hp.get("eval_metric", "auc").split(","), kfold=False)
        else:
            parsed = parse_hyperparameters(hp)  # fails here, before any job starts
            definitions = metric_definitions(parsed.eval_metrics, kfold=bool(parsed.kfold))
        return cls(
            job_name=check_job_name(name)
            if name
            else job_name("xgboost-byoc" if not entry_point else entry_point.stem),
            hyperparameters=hp,
            channels=given,
            output=output,
            entry_point=entry_point,
            source_dir=source_dir,
            metric_definitions=definitions,
            **rest,
        )
