"""The model behind the server: loaded once (before gunicorn forks), answering every output kind.

What the model directory may hold, in the order it is looked at:
1. ``manifest.json`` (algorithm mode): the files it names — one model or the fold models of an ensemble;
2. one XGBoost model in native format: ``xgboost-model``, ``*.json`` or ``*.ubj`` (script mode);
3. a pickled model (``*.pkl``, ``*.pickle``, ``*.joblib``, or an ``xgboost-model`` that is a pickle, as
   AWS's older containers wrote): loaded ONLY when ``XGB_BYOC_ALLOW_PICKLE=true``, because unpickling
   runs whatever code the file says. Otherwise start-up fails and says how to re-save the model.
"""

from __future__ import annotations

import json
import logging
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from xgboost_byoc.artifacts import MANIFEST_FILE, Model, load_booster, load_model, transform_margin
from xgboost_byoc.errors import HttpError, UserError

log = logging.getLogger(__name__)

NATIVE_SUFFIXES = (".json", ".ubj")
PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib")
PICKLE_MAGIC = b"\x80"


class Predictor:
    def __init__(self, model: Model, *, threads: int = 1) -> None:
        self.model = model
        for booster in model.boosters:
            booster.set_param({"nthread": threads})
        self.threads = threads
        self.objective = model.objective
        self.n_features = model.n_features
        threshold = model.manifest.get("threshold") or {}
        self.threshold = float(threshold.get("value", 0.5))
        self.is_binary = self.objective.startswith("binary:")
        self.is_multiclass = self.objective.startswith("multi:")

    @property
    def default_output(self) -> str:
        return "probability" if self.objective == "binary:logistic" else "prediction"

    def predict(self, X: Any, output: str) -> np.ndarray:
        handler = getattr(self, f"_{output}", None)
        if handler is None:
            raise HttpError(400, f"unknown output {output!r}")
        return np.asarray(handler(X))

    def _prediction(self, X: Any) -> np.ndarray:
        return self.model.predict(X)

    def _raw_score(self, X: Any) -> np.ndarray:
        return self.model.predict_margin(X)

    def _probability(self, X: Any) -> np.ndarray:
        if self.objective == "binary:logistic":
            return self.model.predict(X)
        if self.objective == "binary:logitraw":
            return transform_margin({"objective": "binary:logistic"}, self.model.predict_margin(X))
        raise HttpError(
            400, f"output=probability is for binary models; this one is {self.objective} (try probabilities)"
        )

    def _probabilities(self, X: Any) -> np.ndarray:
        if self.objective in ("binary:logistic", "binary:logitraw"):
            p = self._probability(X)
            return np.column_stack([1 - p, p])
        if self.is_multiclass:
            params = {"objective": "multi:softprob", "num_class": self.model.manifest.get("num_class")}
            if not params["num_class"]:
                params["num_class"] = int(self.model.predict_margin(X[:1]).shape[-1])
            return transform_margin(params, self.model.predict_margin(X))
        raise HttpError(400, f"output=probabilities needs a probabilistic classifier; this model is {self.objective}")

    def _predicted_label(self, X: Any) -> np.ndarray:
        if self.objective == "binary:logistic":
            return (self.model.predict(X) >= self.threshold).astype(np.int32)
        if self.objective == "binary:logitraw":
            return (self.model.predict_margin(X) >= 0).astype(np.int32)
        if self.objective in ("binary:hinge", "multi:softmax"):
            return self.model.predict(X).astype(np.int32)
        if self.objective == "multi:softprob":
            return np.argmax(self.model.predict(X), axis=1).astype(np.int32)
        raise HttpError(400, f"output=predicted_label needs a classifier; this model is {self.objective}")

    def _contributions(self, X: Any) -> np.ndarray:
        import xgboost as xgb

        dmatrix = xgb.DMatrix(X, nthread=self.threads)
        contributions = [b.predict(dmatrix, pred_contribs=True) for b in self.model.boosters]
        return np.asarray(contributions[0] if len(contributions) == 1 else np.mean(contributions, axis=0))


def _is_pickle(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(1) == PICKLE_MAGIC


def _candidates(model_dir: Path) -> tuple[list[Path], list[Path]]:
    native, pickled = [], []
    for path in sorted(p for p in model_dir.iterdir() if p.is_file() and not p.name.startswith(".")):
        if path.name == MANIFEST_FILE:
            continue
        if path.suffix in PICKLE_SUFFIXES or (
            (path.name == "xgboost-model" or path.suffix in NATIVE_SUFFIXES) and _is_pickle(path)
        ):
            pickled.append(path)
        elif path.name == "xgboost-model" or path.suffix in NATIVE_SUFFIXES:
            native.append(path)
    return native, pickled


def _load_pickle(path: Path) -> Any:
    try:
        if path.suffix == ".joblib":
            import joblib

            obj = joblib.load(path)
        else:
            with path.open("rb") as fh:
                obj = pickle.load(fh)
    except ImportError as exc:
        raise UserError(
            f"cannot unpickle {path.name}: it needs the module {exc.name!r}, which is not installed"
        ) from exc
    if hasattr(obj, "get_booster"):
        obj = obj.get_booster()
    import xgboost as xgb

    if not isinstance(obj, xgb.Booster):
        raise UserError(f"{path.name} unpickles to {type(obj).__name__}, not an XGBoost model")
    return obj


@dataclass(frozen=True)
class ModelSource:
    """Which file(s) in the model directory will be served, found without loading anything."""

    kind: str  # "manifest", "native" or "pickle"
    path: Path


def locate_model(model_dir: Path, *, allow_pickle: bool = False) -> ModelSource:
    """Pick the model to serve; ``UserError`` says what is wrong. Touches no XGBoost code (safe pre-fork)."""
    if not model_dir.is_dir():
        raise UserError(f"no model directory at {model_dir}: SageMaker unpacks model.tar.gz there")
    manifest = model_dir / MANIFEST_FILE
    if manifest.exists():
        try:
            files = json.loads(manifest.read_text()).get("model_files") or ["xgboost-model"]
        except (json.JSONDecodeError, AttributeError) as exc:
            raise UserError(f"{manifest} is not a valid manifest: {exc}") from None
        missing = [name for name in files if not (model_dir / name).is_file()]
        if missing:
            raise UserError(f"{MANIFEST_FILE} names {', '.join(missing)}, which {model_dir} does not hold")
        return ModelSource("manifest", model_dir)
    native, pickled = _candidates(model_dir)
    if len(native) == 1:
        return ModelSource("native", native[0])
    if len(native) > 1:
        raise UserError(
            f"{model_dir} holds several model files ({', '.join(p.name for p in native)}); keep one, "
            f"or add a {MANIFEST_FILE} naming them"
        )
    if pickled:
        if not allow_pickle:
            raise UserError(
                f"{pickled[0].name} is a Python pickle, and loading a pickle runs whatever code it holds; "
                "re-save the model with booster.save_model('xgboost-model.ubj'), or set "
                "XGB_BYOC_ALLOW_PICKLE=true if you trust the file"
            )
        return ModelSource("pickle", pickled[0])
    raise UserError(f"no model in {model_dir}: expected xgboost-model (or *.json / *.ubj) and {MANIFEST_FILE}")


def load_predictor(model_dir: Path, *, threads: int = 1, allow_pickle: bool = False) -> Predictor:
    """The model in ``model_dir``, ready to predict; ``UserError`` says what is wrong with it otherwise."""
    source = locate_model(model_dir, allow_pickle=allow_pickle)
    if source.kind == "manifest":
        return Predictor(load_model(model_dir), threads=threads)
    if source.kind == "native":
        log.info("serving %s (no manifest: threshold 0.5, objective from the model)", source.path.name)
        return Predictor(bare_model(load_booster(source.path)), threads=threads)
    log.warning("loading pickled model %s (XGB_BYOC_ALLOW_PICKLE=true)", source.path.name)
    return Predictor(bare_model(_load_pickle(source.path)), threads=threads)


def bare_model(booster: Any) -> Model:
    config = json.loads(booster.save_config())
    objective = config["learner"]["objective"]["name"]
    num_class = int(config["learner"]["learner_model_param"].get("num_class", "0")) or None
    return Model(boosters=[booster], manifest={"objective": objective, "num_class": num_class})
