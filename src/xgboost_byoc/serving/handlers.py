"""A script-mode model's own serving hooks: ``inference.py`` with ``model_fn`` / ``input_fn`` /
``predict_fn`` / ``output_fn`` (the SageMaker framework convention), shipped in the model's ``code/``.

The file is ``<model_dir>/code/inference.py`` (or ``code/$SAGEMAKER_PROGRAM``). Every hook is optional;
a missing one falls back to the server's own step: decoders for ``input_fn``, the model's outputs for
``predict_fn``, encoders for ``output_fn``, and for ``model_fn`` the model file in the model directory.
It is imported in each worker (after the fork), never in the gunicorn master.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xgboost_byoc.errors import HttpError, UserError

log = logging.getLogger(__name__)
HOOKS = ("model_fn", "input_fn", "predict_fn", "output_fn")


@dataclass
class UserHandlers:
    path: Path
    model_fn: Callable[..., Any] | None = None
    input_fn: Callable[..., Any] | None = None
    predict_fn: Callable[..., Any] | None = None
    output_fn: Callable[..., Any] | None = None

    def call(self, hook: str, *args: Any) -> Any:
        """Run one hook; its failure is a 500 naming the hook and the exception, never a traceback."""
        try:
            return getattr(self, hook)(*args)
        except HttpError:
            raise
        except Exception as exc:
            log.exception("%s.%s failed", self.path.name, hook)
            raise HttpError(500, f"{self.path.name} {hook} failed: {type(exc).__name__}: {exc}") from None


def handlers_file(model_dir: Path) -> Path | None:
    name = os.environ.get("SAGEMAKER_PROGRAM") or "inference.py"
    path = model_dir / "code" / name
    return path if path.is_file() else None


def load_handlers(model_dir: Path) -> UserHandlers | None:
    path = handlers_file(model_dir)
    if path is None:
        return None
    spec = importlib.util.spec_from_file_location(f"user_inference_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise UserError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise UserError(f"{path.name} failed to import: {type(exc).__name__}: {exc}") from exc
    found = {hook: getattr(module, hook, None) for hook in HOOKS}
    if not any(found.values()):
        raise UserError(f"{path.name} defines none of {', '.join(HOOKS)}")
    log.info("%s overrides %s", path.name, ", ".join(h for h, fn in found.items() if fn) or "nothing")
    return UserHandlers(path=path, **found)
