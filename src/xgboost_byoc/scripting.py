"""A small public API for script-mode entry points: our readers, our honest k-fold, our artifacts.

    from xgboost_byoc import scripting

    train = scripting.read_channel("train")            # SM_CHANNEL_TRAIN, CSV (header detected) / libsvm / parquet
    valid = scripting.read_channel("validation")
    metrics = scripting.train({"objective": "binary:logistic", "num_round": 2000, "eta": 0.05,
                               "early_stopping_rounds": 50, "kfold": 5}, train, valid)
    scripting.log_metrics({"test:auc": 0.93})           # an extra metric line for SageMaker's regexes

``train`` is algorithm mode on data you have read: the same validated hyperparameters, k-fold CV with
each fold scored and early-stopped on its own held-out rows, the OOF-chosen threshold, the model
(``xgboost-model`` + ``manifest.json`` in ``SM_MODEL_DIR``), ``metrics.json`` and OOF predictions (in
``SM_OUTPUT_DATA_DIR``), and evaluation log lines whose last value per metric is the saved model's.
The model serves as it is.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from xgboost_byoc.config import Channel, normalize_hyperparameter_value
from xgboost_byoc.data import Dataset, check_labels
from xgboost_byoc.data import read_channel as _read_channel
from xgboost_byoc.hyperparameters import parse_hyperparameters
from xgboost_byoc.metrics import format_eval_line
from xgboost_byoc.paths import Paths

__all__ = ["Dataset", "channel_dir", "log_metrics", "read_channel", "train"]


def channel_dir(name: str) -> Path:
    """Where channel ``name`` is: ``SM_CHANNEL_<NAME>`` (set by the toolkit), else under /opt/ml."""
    return Path(os.environ.get(f"SM_CHANNEL_{name.upper()}") or Paths.from_env().channel_dir(name))


def _content_type(name: str) -> str | None:
    config = os.environ.get("SM_INPUT_DATA_CONFIG")
    if config:
        try:
            return (json.loads(config).get(name) or {}).get("ContentType")
        except json.JSONDecodeError:
            return None
    return None


def read_channel(
    name: str, *, content_type: str | None = None, csv_header: str = "auto", weights: bool = False
) -> Dataset:
    """A channel's files as one Dataset (label in column 0), with errors that name file and line."""
    channel = Channel(name, content_type or _content_type(name))
    return _read_channel(channel, channel_dir(name), csv_header=csv_header, weights=weights)


def train(
    hyperparameters: Mapping[str, Any],
    train: Dataset,
    validation: Dataset | None = None,
    *,
    model_dir: str | Path | None = None,
    output_data_dir: str | Path | None = None,
) -> dict[str, Any]:
    """Algorithm-mode training on ``train`` (and ``validation``); returns the metrics it wrote."""
    from xgboost_byoc.training.algorithm import train_datasets

    hp = parse_hyperparameters({k: normalize_hyperparameter_value(v) for k, v in hyperparameters.items()})
    check_labels(train, hp.objective, hp["num_class"], channel="train")
    if validation is not None:
        check_labels(validation, hp.objective, hp["num_class"], channel="validation")
    paths = Paths.from_env()
    outcome = train_datasets(
        hp,
        train,
        validation,
        model_dir=Path(model_dir or os.environ.get("SM_MODEL_DIR") or paths.model_dir),
        output_data_dir=Path(output_data_dir or os.environ.get("SM_OUTPUT_DATA_DIR") or paths.output_data_dir),
    )
    return outcome.metrics


def log_metrics(values: Mapping[str, float], iteration: int = 0) -> None:
    """Print ``[iteration]\\tname-metric:value`` for metrics named like ``validation:auc``."""
    print(format_eval_line(iteration, values.items()), flush=True)
