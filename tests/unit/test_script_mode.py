from __future__ import annotations

import pytest

from xgboost_byoc.script_mode import describe_failure, program_of


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ('Traceback (most recent call last):\n  File "t.py", line 3\nValueError: bad value\n', "ValueError: bad value"),
        ("xgboost.core.XGBoostError: [10:00:00] check failed\n", "xgboost.core.XGBoostError: [10:00:00] check failed"),
        ("KeyboardInterrupt\n", "KeyboardInterrupt"),
        ("some output\nRuntimeError: first\nmore\nKeyError: 'rows'\n", "KeyError: 'rows'"),
    ],
)
def test_failure_names_script_and_last_exception(output: str, expected: str) -> None:
    assert describe_failure("train.py", output, 1) == f"script train.py failed: {expected}"


def test_failure_without_traceback_gives_exit_code() -> None:
    assert describe_failure("train.sh", "killed\n", 137) == "script train.sh failed with exit code 137"


def test_program_from_env_wins_over_hyperparameter() -> None:
    assert program_of({"sagemaker_program": "a.py"}, {"SAGEMAKER_PROGRAM": "b.py"}) == "b.py"
    assert program_of({"sagemaker_program": "a.py"}, {}) == "a.py"
    assert program_of({}, {}) is None
