"""Loaded by Python at start-up in script-mode children (see xgboost_byoc.script_hook)."""

import os
import sys
from types import TracebackType

_ERROR_FILE = os.environ.get("XGB_BYOC_SCRIPT_ERROR_FILE") or ""

if _ERROR_FILE:
    _previous_hook = sys.excepthook

    def _record(kind: type[BaseException], value: BaseException, traceback: TracebackType | None) -> None:
        module = getattr(kind, "__module__", "builtins")
        name = kind.__name__ if module in ("builtins", "__main__") else f"{module}.{kind.__name__}"
        message = str(value).strip().splitlines()[0] if str(value).strip() else ""
        try:
            with open(_ERROR_FILE, "w", encoding="utf-8") as fh:
                fh.write(f"{name}: {message}" if message else name)
        except OSError:
            pass
        _previous_hook(kind, value, traceback)

    sys.excepthook = _record
