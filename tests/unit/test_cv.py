from __future__ import annotations

import numpy as np
import pytest

from xgboost_byoc.errors import UserError
from xgboost_byoc.training.cv import assign_folds


def labels(n: int = 1000, positive: float = 0.25, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).random(n) < positive).astype(np.float32)


def test_same_seed_same_folds_other_seed_other_folds() -> None:
    y = labels()
    assert np.array_equal(assign_folds(y, 5, 7, stratify=True), assign_folds(y, 5, 7, stratify=True))
    assert not np.array_equal(assign_folds(y, 5, 7, stratify=True), assign_folds(y, 5, 8, stratify=True))


def test_stratified_folds_keep_class_balance_and_sizes() -> None:
    y = labels()
    folds = assign_folds(y, 5, 0, stratify=True)
    sizes = np.bincount(folds)
    assert sizes.max() - sizes.min() <= 1
    per_fold_pos = np.array([y[folds == f].sum() for f in range(5)])
    assert per_fold_pos.max() - per_fold_pos.min() <= 1


def test_every_row_is_in_exactly_one_fold() -> None:
    folds = assign_folds(labels(103), 4, 0, stratify=False)
    assert set(folds.tolist()) == {0, 1, 2, 3} and len(folds) == 103


def test_too_few_rows_of_a_class_is_a_user_error() -> None:
    y = np.array([0] * 20 + [1] * 3, dtype=np.float32)
    with pytest.raises(UserError, match="class 1 has 3"):
        assign_folds(y, 5, 0, stratify=True)
