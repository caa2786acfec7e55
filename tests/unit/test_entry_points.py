"""The console scripts next to this interpreter are ours — sagemaker-training also installs a `train`."""

from __future__ import annotations

import pytest

from tests.conftest import entry_point


@pytest.mark.parametrize(
    ("name", "module"),
    [
        ("train", "xgboost_byoc.training.main"),
        ("serve", "xgboost_byoc.serving.server"),
        ("xgb-byoc", "xgboost_byoc.launcher.cli"),
    ],
)
def test_console_script_is_ours(name: str, module: str) -> None:
    with open(entry_point(name)) as fh:
        assert module in fh.read()
