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


def test_env_var_table_lists_every_variable_the_code_reads() -> None:
    documented = {r[0].strip("`") for r in table_rows("Environment variables")}
    sources = [*(REPO / "src").rglob("*.py"), REPO / "tests" / "conftest.py", REPO / "bench" / "train.py"]
    read = set()
    for path in sources:
        text = path.read_text()
        read |= set(re.findall(r"""environ(?:\.get)?\(\s*["']([A-Z_]+)["']""", text))
        read |= set(re.findall(r"""^[A-Z_]+_ENV = ["']([A-Z_]+)["']""", text, re.M))
    assert read == documented


def test_file_names_in_the_readme_exist() -> None:
    named = set(re.findall(r"`((?:src|tests|bench|local_test)/[\w./-]*)`", README))
    package_dirs = {p.name for p in (REPO / "src" / "xgboost_byoc").iterdir() if p.is_dir()}
    named |= {
        f"src/xgboost_byoc/{n}" for n in re.findall(r"`(\w+/\w+\.py)`", README) if n.split("/")[0] in package_dirs
    }
    assert named, "expected the README to name files"
    missing = sorted(n for n in named if not (REPO / n).exists())
    assert not missing
