"""Errors by kind. Only the entry points catch everything; library code raises one of these.

- ``UserError``: the job's inputs are wrong (hyperparameters, data, configuration). Fix the input.
- ``AlgorithmError``: training itself failed on valid inputs (e.g. XGBoost raised).
- ``PlatformError``: the environment is broken (missing /opt/ml files SageMaker should have written,
  disk full, ...).

Every message's first line must say what to fix: it becomes the first line of ``/opt/ml/output/failure``,
which is what SageMaker shows in ``FailureReason``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: how much of a value a message quotes: a 100 KB cell must not become a 100 KB error line
QUOTE_LIMIT = 60


def quoted(value: object, *, quote: Callable[[Any], str] = repr, limit: int = QUOTE_LIMIT) -> str:
    """``value`` as a message quotes it (``quote``: ``repr``, or ``json.dumps`` for a JSON value): whole
    when short; a longer text by its first ``limit`` characters, quoted, and how long it is (for any other
    value, the length of its quoted form)."""
    if isinstance(value, str):
        return quote(value) if len(value) <= limit else f"{quote(value[:limit])}… ({len(value):,} characters)"
    text = quote(value)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} characters)"


class XgbByocError(Exception):
    """Base class; ``kind`` names the category in failure files and logs."""

    kind = "Error"
    exit_code = 1

    def __init__(self, message: str, *, detail: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


class UserError(XgbByocError):
    kind = "UserError"
    exit_code = 2


class AlgorithmError(XgbByocError):
    kind = "AlgorithmError"
    exit_code = 3


class PlatformError(XgbByocError):
    kind = "PlatformError"
    exit_code = 4


class HttpError(XgbByocError):
    """A request the server refuses: ``status`` is the HTTP status, ``message`` one line for the client."""

    kind = "HttpError"

    def __init__(self, status: int, message: str, *, detail: str | None = None) -> None:
        super().__init__(message.splitlines()[0] if message else "error", detail=detail)
        self.status = status
