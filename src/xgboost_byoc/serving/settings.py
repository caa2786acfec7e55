"""Serving settings: every environment variable the server reads, read once into one object.

``ENV_VARS`` is the table the README's serving section shows (a test keeps the two equal).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from xgboost_byoc.errors import UserError
from xgboost_byoc.paths import Paths

OUTPUTS = ("probability", "predicted_label", "probabilities", "raw_score", "contributions", "prediction")

#: (variable, meaning, default) — the README's table
ENV_VARS = (
    ("SAGEMAKER_BIND_TO_PORT", "port the server listens on", "8080"),
    ("XGB_BYOC_BIND_HOST", "address the server binds", "0.0.0.0"),
    ("SAGEMAKER_MODEL_SERVER_WORKERS", "gunicorn worker processes", "number of CPUs serve may use"),
    ("SAGEMAKER_MODEL_SERVER_TIMEOUT", "seconds a request may take before its worker is restarted", "60"),
    ("SAGEMAKER_MAX_PAYLOAD_IN_MB", "largest request body (413 above it); also MaxPayloadInMB for batch", "6"),
    ("SAGEMAKER_INFERENCE_OUTPUT", "default output: " + ", ".join(OUTPUTS), "probability (binary), else prediction"),
    ("XGB_BYOC_PREDICT_THREADS", "XGBoost threads per worker", "CPUs / workers, at least 1"),
    (
        "XGB_BYOC_PIN_WORKERS",
        "bind each worker to CPUs of its own, as many as its XGBoost threads; false: the kernel places them; "
        "true: refuse to start when they do not fit",
        "auto: bound when workers x threads <= the CPUs serve may use",
    ),
    ("XGB_BYOC_ALLOW_PICKLE", "true: load pickled models (they can run code when loaded)", "false"),
    (
        "XGB_BYOC_SERVE_USER",
        "when started as root, gunicorn workers run as this user (the image sets model-server)",
        "unset",
    ),
)


def allowed_cpus() -> list[int]:
    """The CPUs this process may run on, in order: a container's cpuset or taskset, not all the host's."""
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


def _int(environ: Mapping[str, str], name: str, default: int, low: int = 1) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise UserError(f"{name}={raw!r} is not a whole number") from None
    if value < low:
        raise UserError(f"{name}={raw!r} must be >= {low}")
    return value


def env_flag(environ: Mapping[str, str], name: str) -> bool:
    raw = environ.get(name, "").strip().lower()
    if raw in ("", "false", "0"):
        return False
    if raw in ("true", "1"):
        return True
    raise UserError(f"{name}={raw!r} is not a boolean; use true or false")


def _auto_flag(environ: Mapping[str, str], name: str) -> bool | None:
    """true / false, or None for auto (also when unset)."""
    raw = environ.get(name, "").strip().lower()
    if raw in ("", "auto"):
        return None
    if raw in ("false", "0", "true", "1"):
        return raw in ("true", "1")
    raise UserError(f"{name}={raw!r} is not one of auto, true, false")


@dataclass(frozen=True)
class Settings:
    model_dir: Path
    port: int = 8080
    host: str = "0.0.0.0"
    workers: int = 1
    timeout: int = 60
    max_payload_mb: float = 6.0
    default_output: str | None = None
    threads: int = 1
    pin_workers: bool | None = None  # None: when they fit
    allow_pickle: bool = False
    serve_user: str | None = None

    @property
    def max_payload_bytes(self) -> int:
        return int(self.max_payload_mb * 1024 * 1024)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        cpus = len(allowed_cpus())
        workers = _int(env, "SAGEMAKER_MODEL_SERVER_WORKERS", cpus)
        raw_payload = env.get("SAGEMAKER_MAX_PAYLOAD_IN_MB", "").strip() or "6"
        try:
            payload = float(raw_payload)
        except ValueError:
            raise UserError(f"SAGEMAKER_MAX_PAYLOAD_IN_MB={raw_payload!r} is not a number") from None
        if not 0 < payload <= 100:
            raise UserError(f"SAGEMAKER_MAX_PAYLOAD_IN_MB={raw_payload!r} must be in (0, 100]")
        output = env.get("SAGEMAKER_INFERENCE_OUTPUT", "").strip() or None
        if output is not None and output not in OUTPUTS:
            raise UserError(f"SAGEMAKER_INFERENCE_OUTPUT={output!r} is not one of {', '.join(OUTPUTS)}")
        return cls(
            model_dir=Paths.from_env(env).model_dir,
            port=_int(env, "SAGEMAKER_BIND_TO_PORT", 8080),
            host=env.get("XGB_BYOC_BIND_HOST", "").strip() or "0.0.0.0",
            workers=workers,
            timeout=_int(env, "SAGEMAKER_MODEL_SERVER_TIMEOUT", 60),
            max_payload_mb=payload,
            default_output=output,
            threads=_int(env, "XGB_BYOC_PREDICT_THREADS", max(1, cpus // workers)),
            pin_workers=_auto_flag(env, "XGB_BYOC_PIN_WORKERS"),
            allow_pickle=env_flag(env, "XGB_BYOC_ALLOW_PICKLE"),
            serve_user=env.get("XGB_BYOC_SERVE_USER", "").strip() or None,
        )
