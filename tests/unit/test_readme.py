"""The README is a map: its tables and file names must match the code."""

from __future__ import annotations

import re

from tests.conftest import REPO
from xgboost_byoc.hyperparameters import PARAMS

README = (REPO / "README.md").read_text()


def table_rows(heading: str) -> list[list[str]]:
    section = README.split(f"## {heading}", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows]


def test_hyperparameter_table_lists_exactly_the_schema() -> None:
    rows = table_rows("Hyperparameters")
    assert [r[0].strip("`") for r in rows] == [p.name for p in PARAMS]
    for row, param in zip(rows, PARAMS, strict=True):
        assert row[1] == ", ".join(f"`{a}`" for a in param.aliases), param.name
        assert row[2] == param.kind, param.name


def test_env_var_table_lists_exactly_the_variables_read() -> None:
    documented = {r[0].strip("`") for r in table_rows("Environment variables")}
    read = set()
    for path in [*(REPO / "src").rglob("*.py"), REPO / "tests" / "conftest.py", *(REPO / "bench").glob("*.py")]:
        text = path.read_text()
        read |= set(re.findall(r"""environ(?:\.get)?\(\s*["']([A-Z0-9_]+)["']""", text))
        read |= set(re.findall(r"""^[A-Z0-9_]+_ENV = ["']([A-Z0-9_]+)["']""", text, re.M))
        read |= set(re.findall(r"\b((?:SAGEMAKER|XGB_BYOC)_[A-Z_]+[A-Z])\b", text))
    read -= {"PATH"}  # tests put entry points first on PATH; not a setting of ours
    assert read == documented, (sorted(read - documented), sorted(documented - read))


def test_every_env_var_named_in_the_code_is_documented() -> None:
    documented = {r[0].strip("`") for r in table_rows("Environment variables")}
    named = set()
    for path in (REPO / "src").rglob("*.py"):
        named |= set(re.findall(r"\b((?:SAGEMAKER|XGB_BYOC)_[A-Z_]+[A-Z])\b", path.read_text()))
    assert named <= documented, sorted(named - documented)


def test_serving_settings_table_matches_the_readme() -> None:
    from xgboost_byoc.serving.settings import ENV_VARS

    rows = {r[0].strip("`"): r for r in table_rows("Environment variables")}
    for name, meaning, default in ENV_VARS:
        assert name in rows, name
        assert rows[name][2] == meaning and rows[name][3] == default, name


def test_file_names_in_the_readme_exist() -> None:
    named = set(re.findall(r"`((?:src|tests|bench|local_test|examples|container)/[\w./-]*)`", README))
    package_dirs = {p.name for p in (REPO / "src" / "xgboost_byoc").iterdir() if p.is_dir()}
    named |= {
        f"src/xgboost_byoc/{n}" for n in re.findall(r"`(\w+/\w+\.py)`", README) if n.split("/")[0] in package_dirs
    }
    assert named, "expected the README to name files"
    missing = sorted(n for n in named if not (REPO / n).exists())
    assert not missing
