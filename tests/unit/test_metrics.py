from __future__ import annotations

import re

from xgboost_byoc.metrics import (
    format_eval_line,
    is_maximized,
    metric_definitions,
    parse_log_line,
    parse_xgboost_eval,
    regex_for,
)


def test_eval_line_uses_xgboosts_format() -> None:
    line = format_eval_line(12, [("train:auc", 0.93), ("validation:auc", 0.92)])
    assert line == "[12]\ttrain-auc:0.930000\tvalidation-auc:0.920000"


def test_regex_reads_the_line_as_cloudwatch_shows_it() -> None:
    line = format_eval_line(3, [("train:auc", 0.93), ("validation:auc", 0.921234)])
    match = re.match(regex_for("validation:auc"), line.replace("\t", "#011"))
    assert match is not None and float(match.group(1)) == 0.921234


def test_train_regex_does_not_read_cv_train_or_validation_values() -> None:
    line = "[3]\tcv-auc:0.5\tcv-auc_std:0.1"
    assert parse_log_line(line, ["train:auc", "validation:auc"]) == {}
    assert parse_log_line(line, ["cv:auc", "cv:auc_std"]) == {"cv:auc": 0.5, "cv:auc_std": 0.1}


def test_hyphenated_and_parameterised_metrics_round_trip() -> None:
    names = ["validation:poisson-nloglik", "validation:error@0.7"]
    line = format_eval_line(0, [(names[0], 1.25), (names[1], 0.125)])
    assert parse_log_line(line, names) == {names[0]: 1.25, names[1]: 0.125}


def test_tiny_values_keep_their_precision() -> None:
    assert parse_log_line(format_eval_line(0, [("train:rmse", 1.5e-7)]), ["train:rmse"]) == {"train:rmse": 1.5e-7}


def test_parses_xgboost_eval_strings() -> None:
    parsed = parse_xgboost_eval("[0]\ttrain-auc:0.9\tcv-poisson-nloglik:1.5")
    assert parsed == {"train:auc": 0.9, "cv:poisson-nloglik": 1.5}


def test_metric_definitions_cover_channels_and_cv() -> None:
    names = [d["Name"] for d in metric_definitions(["auc"], kfold=True)]
    assert names == ["train:auc", "validation:auc", "cv:auc", "cv:auc_std"]
    assert [d["Name"] for d in metric_definitions(["auc"], kfold=False)] == ["train:auc", "validation:auc"]


def test_maximised_metrics_follow_xgboost() -> None:
    assert is_maximized("auc") and is_maximized("ndcg@5") and is_maximized("map@3-")
    assert not is_maximized("logloss") and not is_maximized("error@0.5")
