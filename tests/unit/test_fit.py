"""The boosting loop's own row sampling (used with checkpoints so that a resume redraws the same rows)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import xgboost as xgb

from xgboost_byoc.training.checkpoints import Checkpointer
from xgboost_byoc.training.fit import Member, boost


def root_cover(booster: xgb.Booster, tree: int) -> float:
    return float(json.loads(booster.get_dump(with_stats=True, dump_format="json")[tree])["cover"])


def members(rows: int = 20_000) -> list[Member]:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(rows, 5))
    y = (X[:, 0] + rng.normal(size=rows) > 0).astype(float)
    params = {"objective": "binary:logistic", "max_depth": 3, "subsample": 0.5, "seed": 7, "nthread": 1}
    return [Member(xgb.DMatrix(X, label=y), [], params)]


def test_with_checkpoints_each_round_trains_on_its_own_seeded_half_of_the_rows(tmp_path: Path) -> None:
    first = members()
    boost(first, 6, checkpoint=Checkpointer(tmp_path / "a", "cv", "fp", 100))
    booster = first[0].booster
    assert json.loads(booster.save_config())["learner"]["gradient_booster"]["tree_train_param"]["subsample"] == "1"
    # round 0: every row's hessian is p(1 - p) at the base score p (a probability for binary:logistic)
    config = json.loads(booster.save_config())
    p = float(config["learner"]["learner_model_param"]["base_score"].strip("[]"))
    full_cover = 20_000 * p * (1 - p)
    assert abs(root_cover(booster, 0) / full_cover - 0.5) < 0.02  # half the rows, not all, not none
    again = members()
    boost(again, 6, checkpoint=Checkpointer(tmp_path / "b", "cv", "fp", 100))
    assert booster.get_dump() == again[0].booster.get_dump()  # the same seed draws the same rows
    assert root_cover(booster, 0) != root_cover(booster, 1)  # each round draws anew


def test_without_checkpoints_xgboost_samples_as_configured(tmp_path: Path) -> None:
    plain = members()
    boost(plain, 2)
    config = json.loads(plain[0].booster.save_config())
    assert config["learner"]["gradient_booster"]["tree_train_param"]["subsample"] == "0.5"
