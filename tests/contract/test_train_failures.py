"""Bad inputs: `train` exits non-zero, writes no model and no success file, and the FIRST line of
/opt/ml/output/failure says what to fix."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from tests.conftest import MlTree

GOOD_CSV = "".join(f"{i % 2},{i},{i * 0.5}\n" for i in range(40))
GOOD_HP = {"objective": "binary:logistic", "num_round": "5"}


@dataclass
class Case:
    id: str
    expected: str  # must appear in the failure file's first line
    hp: dict[str, str] = field(default_factory=lambda: dict(GOOD_HP))
    train: dict[str, str | bytes] | None = field(default_factory=lambda: {"a.csv": GOOD_CSV})
    validation: dict[str, str | bytes] | None = None
    content_type: str = "text/csv"
    raw_hyperparameters: str | None = None
    exit_code: int = 2


CASES = [
    Case(
        "misspelt-hyperparameter",
        "unknown hyperparameter 'max_dept'; did you mean 'max_depth'?",
        hp={**GOOD_HP, "max_dept": "3"},
    ),
    Case("eta-out-of-range", "eta='1.5' is outside the allowed range [0, 1]", hp={**GOOD_HP, "eta": "1.5"}),
    Case("max-depth-not-a-number", "max_depth='deep' is not a number", hp={**GOOD_HP, "max_depth": "deep"}),
    Case("num-round-missing", "num_round is required", hp={"objective": "binary:logistic"}),
    Case("objective-typo", "did you mean 'binary:logistic'?", hp={**GOOD_HP, "objective": "binary:logistc"}),
    Case(
        "multiclass-without-num-class",
        "num_class is required with objective=multi:softmax",
        hp={"objective": "multi:softmax", "num_round": "5"},
    ),
    Case("bad-boolean", "kfold_stratified='yes' is not a boolean", hp={**GOOD_HP, "kfold_stratified": "yes"}),
    Case(
        "early-stopping-without-held-out-rows",
        "early_stopping_rounds needs held-out rows",
        hp={**GOOD_HP, "early_stopping_rounds": "10"},
    ),
    Case("hyperparameters-not-json", "hyperparameters.json is not valid JSON", raw_hyperparameters='{"num_round": 5,'),
    Case("no-train-channel", "no 'train' channel", train=None, validation={"a.csv": GOOD_CSV}),
    Case("empty-train-channel", "channel 'train' is empty", train={}),
    Case("ragged-rows", "train/a.csv: line 3 has 2 columns, expected 3", train={"a.csv": "1,1,1\n0,2,2\n1,3\n"}),
    Case(
        "non-numeric-cell",
        "train/a.csv: line 2, column 3: 'high' is not a number",
        train={"a.csv": "1,1,1\n0,2,high\n"},
    ),
    Case(
        "a-long-non-numeric-cell-is-quoted-clipped",
        "train/a.csv: line 2, column 3: '" + "h" * 60 + "'… (5,000 characters) is not a number",
        train={"a.csv": "1,1,1\n0,2," + "h" * 5000 + "\n"},
    ),
    Case(
        "label-not-binary",
        "train/a.csv line 3: label 2 must be 0 or 1 for binary objectives",
        train={"a.csv": "1,1,1\n0,2,2\n2,3,3\n"},
    ),
    Case(
        "feature-count-mismatch",
        "the validation channel has 3 features but train has 2",
        validation={"v.csv": "1,1,1,1\n0,2,2,2\n"},
    ),
    Case(
        "unsupported-content-type",
        "'application/x-recordio-protobuf' is not supported",
        content_type="application/x-recordio-protobuf",
    ),
    Case(
        "too-few-rows-per-class-for-kfold",
        "kfold=5 needs at least 5 rows of every class",
        hp={**GOOD_HP, "kfold": "5"},
        train={"a.csv": "1,1,1\n1,2,2\n1,3,3\n1,4,4\n1,5,5\n0,6,6\n0,7,7\n"},
    ),
    Case(
        "libsvm-bad-token",
        "train/a.libsvm: line 2: feature value 'x' is not a number",
        train={"a.libsvm": "1 0:1\n0 1:x\n"},
        content_type="text/libsvm",
    ),
]


def prepare(ml_root: MlTree, case: Case) -> None:
    if case.raw_hyperparameters is not None:
        (ml_root.base / "input/config").mkdir(parents=True)
        (ml_root.base / "input/config/hyperparameters.json").write_text(case.raw_hyperparameters)
    else:
        ml_root.hyperparameters(case.hp)
    if case.train is not None:
        ml_root.channel("train", list(case.train.items()), case.content_type)
    if case.validation is not None:
        ml_root.channel("validation", list(case.validation.items()), case.content_type)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_fails_with_an_actionable_first_line(ml_root: MlTree, case: Case) -> None:
    prepare(ml_root, case)
    result = ml_root.run_train()
    assert result.returncode == case.exit_code, result.stderr[-2000:]
    first_line, _, rest = ml_root.failure().partition("\n")
    assert case.expected in first_line
    assert len(first_line) < 1024
    assert "UserError" in rest  # the detail follows the first line
    assert not (ml_root.output / "success").exists()
    assert not (ml_root.model_dir / "xgboost-model").exists()
    assert case.expected in result.stderr  # and the log says it too


def test_hyperparameters_are_validated_before_data_is_read(ml_root: MlTree) -> None:
    prepare(ml_root, Case("both-bad", "", hp={**GOOD_HP, "eta": "7"}, train={"a.csv": "1,x\n"}))
    result = ml_root.run_train()
    assert result.returncode == 2
    first_line = ml_root.failure().splitlines()[0]
    assert "eta='7'" in first_line and "a.csv" not in first_line


def test_a_previous_success_marker_is_removed_on_failure(ml_root: MlTree) -> None:
    prepare(ml_root, Case("stale", "", hp={**GOOD_HP, "eta": "7"}))
    (ml_root.output).mkdir(parents=True)
    (ml_root.output / "success").write_text("")
    assert ml_root.run_train().returncode == 2
    assert not (ml_root.output / "success").exists()


def test_good_small_input_succeeds(ml_root: MlTree) -> None:
    prepare(ml_root, Case("good", ""))
    result = ml_root.run_train()
    assert result.returncode == 0, result.stderr[-2000:]
    assert (ml_root.output / "success").exists() and not (ml_root.output / "failure").exists()
    assert (ml_root.model_dir / "xgboost-model").exists()


def test_artifacts_are_readable_by_other_users(ml_root: MlTree) -> None:
    prepare(ml_root, Case("good", ""))
    assert ml_root.run_train().returncode == 0
    for path in [*ml_root.model_dir.iterdir(), *(ml_root.output / "data").iterdir()]:
        assert path.stat().st_mode & 0o004, f"{path.name} is not world-readable"
