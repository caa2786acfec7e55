"""xgb-byoc tune, local backend: the lab's task-2 tuning (script mode, 6 jobs, 3 parallel, Random,
objective validation:auc) and the other strategies on a small algorithm-mode job."""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import xgb_byoc

pytestmark = [pytest.mark.e2e, pytest.mark.adult]
SCRIPTS = Path(__file__).parents[1] / "contract" / "scripts"
COLUMNS = [
    "max_depth",
    "eta",
    "TrainingJobName",
    "TrainingJobStatus",
    "FinalObjectiveValue",
    "TrainingStartTime",
    "TrainingEndTime",
    "TrainingElapsedTimeSeconds",
]


def tune(workdir: Path, adult_dir: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], list[dict[str, str]]]:
    workdir.mkdir(parents=True, exist_ok=True)
    result = xgb_byoc(
        workdir,
        "tune",
        "--train",
        str(adult_dir / "adult_data_processed_train_wheaders.csv"),
        "--validation",
        str(adult_dir / "adult_data_processed_validation_wheaders.csv"),
        *args,
        timeout=900,
    )
    found = list((workdir / "jobs").glob("*/tuning_results.csv"))
    rows = list(csv.DictReader(found[-1].open())) if found else []
    return result, rows


def compare(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``xgb-byoc compare`` over the jobs folder that ``tune(workdir, ...)`` filled."""
    return xgb_byoc(workdir, "compare", *args, timeout=300)


LAB = [
    "--entry-point",
    str(SCRIPTS / "lab_train.py"),
    "--hp",
    "num_round=15",
    "--range",
    "max_depth=int:6:9",
    "--range",
    "eta=continuous:0.01:0.03",
    "--objective",
    "validation:auc",
    "--strategy",
    "Random",
    "--max-jobs",
    "6",
    "--max-parallel-jobs",
    "3",
]


def test_lab_tuning_job_writes_sagemakers_analytics_table(tmp_path: Path, adult_dir: Path) -> None:
    result, rows = tune(tmp_path, adult_dir, *LAB, "--job-name", "lab")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert list(rows[0]) == COLUMNS and len(rows) == 6
    assert all(r["TrainingJobStatus"] == "Completed" for r in rows)
    values = [float(r["FinalObjectiveValue"]) for r in rows]
    assert values == sorted(values, reverse=True)  # best first; validation:auc is maximised
    assert all(6 <= int(r["max_depth"]) <= 9 and 0.01 <= float(r["eta"]) <= 0.03 for r in rows)
    assert all(len(r["TrainingJobName"].rsplit("-", 1)[0]) <= 32 for r in rows)  # the tuning job's name
    assert "[6/6]" in result.stdout  # progress, one line per finished trial
    # the trials really ran in parallel: some overlapped in time
    spans = sorted((r["TrainingStartTime"], r["TrainingEndTime"]) for r in rows)
    assert any(spans[i + 1][0] < spans[i][1] for i in range(len(spans) - 1))

    # the lab's last step: compare takes the tuning job's name for its best trial
    best, other = rows[0]["TrainingJobName"], rows[-1]["TrainingJobName"]
    tuning = best.rsplit("-", 1)[0]  # lab-HHMMSS-NNN: --job-name made unique, as SageMaker needs
    test_csv = adult_dir / "adult_data_processed_test_wheaders.csv"
    compared = compare(tmp_path, tuning, best, other, "--format", "json", "--test", str(test_csv))
    assert compared.returncode == 0, compared.stderr
    assert f"tuning job {tuning}: its best trial is {best}" in compared.stderr
    columns = json.loads(compared.stdout)
    by_tuning = [c for c in columns if c["model"] == best]
    assert len(by_tuning) == 2  # the tuning job, and its best trial by name (no manifest: at 0.5 only)
    assert by_tuning[0] == by_tuning[1] and by_tuning[0]["auc"] > 0.85
    assert any(c["model"] == other for c in columns)


def test_a_tuning_job_without_a_completed_trial_cannot_be_compared(tmp_path: Path, adult_dir: Path) -> None:
    jobs = tmp_path / "jobs" / "broken-tune"
    jobs.mkdir(parents=True)
    test_csv = adult_dir / "adult_data_processed_test_wheaders.csv"
    (jobs / "tuning_results.csv").write_text(
        ",".join(COLUMNS) + "\n6,0.02,broken-tune-001,Failed,,2026-01-01T00:00:00,2026-01-01T00:00:01,1.0\n"
    )
    result = compare(tmp_path, "broken-tune", "--test", str(test_csv))
    assert result.returncode != 0
    assert "tuning job broken-tune has no completed trial" in result.stderr
    assert "Traceback" not in result.stderr


def test_same_seed_same_random_candidates(tmp_path: Path, adult_dir: Path) -> None:
    quick = [*LAB[:-4], "--max-jobs", "2", "--max-parallel-jobs", "2", "--seed", "7"]
    _, first = tune(tmp_path / "a", adult_dir, *quick)
    _, second = tune(tmp_path / "b", adult_dir, *quick)
    assert sorted((r["max_depth"], r["eta"]) for r in first) == sorted((r["max_depth"], r["eta"]) for r in second)


def test_grid_and_bayesian_strategies_on_an_algorithm_job(tmp_path: Path, adult_dir: Path) -> None:
    base = [
        "--hp",
        "objective=binary:logistic",
        "--hp",
        "num_round=10",
        "--hp",
        "eval_metric=auc",
        "--objective",
        "validation:auc",
    ]
    grid, rows = tune(
        tmp_path / "grid",
        adult_dir,
        *base,
        "--range",
        "max_depth=int:3:4",
        "--range",
        "grow_policy=categorical:depthwise,lossguide",
        "--strategy",
        "Grid",
        "--max-jobs",
        "10",
        "--max-parallel-jobs",
        "2",
    )
    assert grid.returncode == 0, grid.stdout[-2000:] + grid.stderr[-2000:]
    assert sorted((r["max_depth"], r["grow_policy"]) for r in rows) == [
        ("3", "depthwise"),
        ("3", "lossguide"),
        ("4", "depthwise"),
        ("4", "lossguide"),
    ]
    bayes, rows = tune(
        tmp_path / "bayes",
        adult_dir,
        *base,
        "--range",
        "eta=continuous:0.05:0.5:log",
        "--strategy",
        "Bayesian",
        "--max-jobs",
        "4",
        "--max-parallel-jobs",
        "2",
    )
    assert bayes.returncode == 0, bayes.stdout[-2000:] + bayes.stderr[-2000:]
    assert len(rows) == 4 and all(0.05 <= float(r["eta"]) <= 0.5 for r in rows)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (["--range", "max_depth=continuous:1:5"], "max_depth is an integer; use int:LOW:HIGH"),
        (["--range", "eta=continuous:0.5:2"], "eta='2.0' is outside the allowed range [0, 1]"),
        (["--range", "etaa=continuous:0.1:0.2"], "not a hyperparameter of the algorithm"),
        (["--range", "eta=continuous:0.1:0.2", "--strategy", "Grid"], "Grid search cannot enumerate"),
    ],
)
def test_bad_ranges_are_refused_before_any_trial(tmp_path: Path, adult_dir: Path, bad: list[str], message: str) -> None:
    result, rows = tune(tmp_path, adult_dir, "--hp", "num_round=5", "--objective", "validation:auc", *bad)
    assert result.returncode == 2 and message in result.stderr
    assert rows == []
