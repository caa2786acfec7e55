"""Model artifacts in and out: boosters in XGBoost's native UBJSON format plus ``manifest.json``.

Layout of ``/opt/ml/model`` after an algorithm-mode job::

    xgboost-model            the model (UBJSON), or for k-fold ``ensemble``:
    xgboost-model-fold-0 ... one booster per fold (averaged in margin space when predicting)
    manifest.json            what the model needs to be used correctly (see ``build_manifest``)

Predictions of an ensemble average the fold models' margins and apply the objective's transform
through XGBoost itself (a booster with no trees turns a base margin into the objective's output), so an
ensemble predicts, and is scored, exactly like one bigger model would.
"""

from __future__ import annotations

import functools
import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from xgboost_byoc.errors import UserError

if TYPE_CHECKING:
    import xgboost as xgb

MODEL_FILE = "xgboost-model"
FOLD_FILE = "xgboost-model-fold-{}"
MANIFEST_FILE = "manifest.json"
MANIFEST_FORMAT = "xgboost-byoc-manifest/1"


def write_atomic(path: Path, data: bytes) -> None:
    """Write a file so that readers see the old content or the new, never half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, 0o644)  # mkstemp's 0600 would hide the model from a non-root serving user
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, payload: Any) -> None:
    write_atomic(path, (json.dumps(payload, indent=2, default=_json_default) + "\n").encode())


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def save_model(model_dir: Path, boosters: Sequence[xgb.Booster], manifest: dict[str, Any]) -> list[str]:
    """Write the booster(s) as UBJSON and the manifest; return the model file names."""
    names = [MODEL_FILE] if len(boosters) == 1 else [FOLD_FILE.format(i) for i in range(len(boosters))]
    for name, booster in zip(names, boosters, strict=True):
        write_atomic(model_dir / name, bytes(booster.save_raw(raw_format="ubj")))
    write_json(model_dir / MANIFEST_FILE, {**manifest, "model_files": names})
    return names


def load_booster(path: Path) -> xgb.Booster:
    import xgboost as xgb

    booster = xgb.Booster()
    try:
        booster.load_model(bytearray(path.read_bytes()))
    except xgb.core.XGBoostError as exc:
        first = str(exc).splitlines()[0]
        raise UserError(f"{path.name} is not an XGBoost model XGBoost {xgb.__version__} can load: {first}") from exc
    return booster


@dataclass
class Model:
    """Loaded booster(s) plus manifest; predicts like the single model or ensemble it is."""

    boosters: list[xgb.Booster]
    manifest: dict[str, Any]

    @property
    def objective(self) -> str:
        return str(self.manifest.get("objective", ""))

    @property
    def n_features(self) -> int:
        return int(self.manifest.get("num_features") or self.boosters[0].num_features())

    def predict_margin(self, X: Any) -> np.ndarray:
        margins = [b.inplace_predict(X, predict_type="margin") for b in self.boosters]
        return np.asarray(margins[0] if len(margins) == 1 else np.mean(margins, axis=0))

    def predict(self, X: Any) -> np.ndarray:
        """The objective's output (probabilities for binary:logistic, classes for multi:softmax, ...)."""
        if len(self.boosters) == 1:
            return np.asarray(self.boosters[0].inplace_predict(X))
        return transform_margin(self.objective_params(), self.predict_margin(X))

    def objective_params(self) -> dict[str, Any]:
        params = {"objective": self.objective}
        if self.manifest.get("num_class"):
            params["num_class"] = self.manifest["num_class"]
        return params


def margin_booster(params: dict[str, Any], dmatrix: xgb.DMatrix) -> xgb.Booster:
    """A booster with no trees: its predictions and metrics are those of the DMatrix's base margin."""
    import xgboost as xgb

    keep = ("objective", "num_class", "eval_metric", "tweedie_variance_power", "huber_slope")
    return xgb.Booster({k: v for k, v in params.items() if k in keep}, [dmatrix])


def margin_dmatrix(
    margin: np.ndarray, label: np.ndarray | None = None, weight: np.ndarray | None = None
) -> xgb.DMatrix:
    import xgboost as xgb

    rows = margin.shape[0]
    return xgb.DMatrix(np.zeros((rows, 1), np.float32), label=label, weight=weight, base_margin=margin)


def transform_margin(params: dict[str, Any], margin: np.ndarray) -> np.ndarray:
    """The objective's output (probabilities, classes, ...) for raw margins, computed by XGBoost."""
    transformer = _transformer(str(params["objective"]), params.get("num_class"))
    return np.asarray(transformer.predict(margin_dmatrix(margin)))


@functools.lru_cache(maxsize=16)
def _transformer(objective: str, num_class: int | None) -> xgb.Booster:
    params: dict[str, Any] = {"objective": objective}
    if num_class:
        params["num_class"] = num_class
    dummy = margin_dmatrix(np.zeros((1, num_class) if num_class else 1, np.float32))
    booster = margin_booster(params, dummy)
    booster.predict(dummy)  # configures the learner (feature count) while its cache matrix is alive
    return booster


def load_model(model_dir: Path) -> Model:
    manifest_path = model_dir / MANIFEST_FILE
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        files = manifest.get("model_files") or [MODEL_FILE]
    elif (model_dir / MODEL_FILE).exists():
        manifest, files = {}, [MODEL_FILE]
    else:
        raise UserError(f"no model in {model_dir}: expected {MODEL_FILE} (and {MANIFEST_FILE})")
    boosters = [load_booster(model_dir / name) for name in files]
    if not manifest.get("objective"):
        config = json.loads(boosters[0].save_config())
        manifest["objective"] = config["learner"]["objective"]["name"]
    return Model(boosters=boosters, manifest=manifest)
