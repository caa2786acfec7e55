from __future__ import annotations

import numpy as np
import pytest

from xgboost_byoc.errors import UserError
from xgboost_byoc.hyperparameters import (
    BY_NAME,
    DEFAULT_EVAL_METRIC,
    OBJECTIVES,
    parse_hyperparameters,
    validate_against_channels,
)


def parse(**values: str):
    return parse_hyperparameters({"num_round": "10", **values})


def error_of(**values: str) -> str:
    with pytest.raises(UserError) as info:
        parse_hyperparameters(values)
    return info.value.message


def test_parses_each_type_from_strings() -> None:
    hp = parse(
        eta="0.2", max_depth="5", eval_metric="auc,logloss", kfold_stratified="FALSE", objective="binary:logistic"
    )
    assert hp["eta"] == 0.2
    assert hp["max_depth"] == 5 and isinstance(hp["max_depth"], int)
    assert hp.eval_metrics == ["auc", "logloss"]
    assert hp["kfold_stratified"] is False


@pytest.mark.parametrize("text", ["true", "True", "TRUE", "1"])
def test_booleans_accept_true_in_any_case(text: str) -> None:
    assert parse(csv_weights=text)["csv_weights"] is True


@pytest.mark.parametrize("text", ["false", "False", "0"])
def test_booleans_accept_false_in_any_case(text: str) -> None:
    assert parse(csv_weights=text)["csv_weights"] is False


def test_rejects_a_boolean_it_cannot_read() -> None:
    assert "csv_weights='yes' is not a boolean" in error_of(num_round="5", csv_weights="yes")


def test_gamma_is_a_float_not_truncated_to_int() -> None:
    assert parse(gamma="4.5")["gamma"] == 4.5


def test_integer_parameter_accepts_integral_float_text() -> None:
    assert parse(max_depth="6.0")["max_depth"] == 6


def test_integer_parameter_rejects_fraction() -> None:
    assert "max_depth='6.5' must be a whole number in [0, 1000]" in error_of(num_round="5", max_depth="6.5")


def test_unknown_name_suggests_the_nearest() -> None:
    message = error_of(num_round="5", max_dept="3")
    assert "unknown hyperparameter 'max_dept'; did you mean 'max_depth'?" in message


def test_out_of_range_names_parameter_value_and_range() -> None:
    assert "eta='2' is outside the allowed range [0, 1]" in error_of(num_round="5", eta="2")


def test_open_bound_is_excluded() -> None:
    assert "subsample='0' is outside the allowed range (0, 1]" in error_of(num_round="5", subsample="0")


def test_unparsable_number_names_parameter() -> None:
    assert "max_depth='abc' is not a number" in error_of(num_round="5", max_depth="abc")


def test_a_long_value_or_name_is_quoted_clipped_so_every_problem_fits_the_failure_line() -> None:
    message = error_of(num_round="5", max_depth="z" * 2500, **{"x" * 300: "1"}, eta="2")
    assert f"max_depth='{'z' * 60}'… (2,500 characters) is not a number" in message
    assert f"unknown hyperparameter '{'x' * 60}'… (300 characters)" in message
    assert "eta='2'" in message and len(message) < 1024


def test_num_round_is_required() -> None:
    assert error_of(eta="0.1").startswith("invalid hyperparameters: num_round is required")


def test_all_problems_are_reported_together() -> None:
    message = error_of(num_round="5", eta="2", max_dept="3")
    assert "eta='2'" in message and "max_dept" in message


def test_aliases_map_to_canonical_names() -> None:
    hp = parse(learning_rate="0.1", reg_lambda="2", reg_alpha="0.5", min_split_loss="1", _kfold="5", _num_cv_round="2")
    assert (hp["eta"], hp["lambda"], hp["alpha"], hp["gamma"]) == (0.1, 2.0, 0.5, 1.0)
    assert (hp.kfold, hp["kfold_repeats"]) == (5, 2)


def test_name_and_alias_together_is_an_error() -> None:
    assert "'learning_rate' and 'eta' are the same hyperparameter" in error_of(
        num_round="5", eta="0.1", learning_rate="0.2"
    )


def test_objective_typo_suggests_nearest() -> None:
    assert "did you mean 'binary:logistic'?" in error_of(num_round="5", objective="binary:logistc")


def test_reg_linear_is_accepted_as_squarederror() -> None:
    assert parse(objective="reg:linear").objective == "reg:squarederror"


def test_ranking_objective_explains_why_not() -> None:
    assert "needs query groups; use script mode" in error_of(num_round="5", objective="rank:ndcg")


def test_multiclass_needs_num_class() -> None:
    assert "num_class is required with objective=multi:softprob" in error_of(num_round="5", objective="multi:softprob")


def test_num_class_outside_multiclass_is_an_error() -> None:
    assert "num_class applies only to multi:" in error_of(num_round="5", num_class="3")


def test_bad_eval_metric_is_named() -> None:
    assert "eval_metric 'acu' is not an XGBoost metric; did you mean 'auc'?" in error_of(
        num_round="5", eval_metric="acu"
    )


@pytest.mark.parametrize("metric", ["error@0.7", "ndcg@5", "tweedie-nloglik@1.2", "map@3-", "aucpr"])
def test_parameterised_eval_metrics_are_accepted(metric: str) -> None:
    assert parse(eval_metric=metric).eval_metrics == [metric]


def test_kfold_zero_and_one_mean_off() -> None:
    assert parse(kfold="0").kfold == 0
    assert parse(kfold="1").kfold == 0
    assert parse(kfold="5").kfold == 5


def test_kfold_seed_defaults_to_seed() -> None:
    assert parse(seed="7").kfold_seed == 7
    assert parse(seed="7", kfold_seed="3").kfold_seed == 3


def test_ensemble_needs_kfold() -> None:
    assert "kfold_model=ensemble needs kfold >= 2" in error_of(num_round="5", kfold_model="ensemble")


def test_platform_hyperparameters_are_accepted_but_not_passed_to_xgboost() -> None:
    hp = parse(sagemaker_container_log_level="20", sagemaker_job_name="j")
    assert "sagemaker_job_name" in hp.ignored
    assert "sagemaker_job_name" not in hp.booster_params()


def test_tuning_objective_metric_is_computed_and_drives_early_stopping() -> None:
    hp = parse(_tuning_objective_metric="validation:auc", objective="binary:logistic", eval_metric="logloss")
    assert hp.eval_metrics == ["logloss", "auc"]


def test_tuning_objective_metric_must_name_a_metric() -> None:
    assert "does not name a channel:metric" in error_of(num_round="5", _tuning_objective_metric="validation")


def test_booster_params_hold_explicit_values_and_metrics() -> None:
    params = parse(objective="binary:logistic", eta="0.2", max_depth="5").booster_params()
    assert params["eta"] == 0.2 and params["max_depth"] == 5
    assert params["eval_metric"] == ["logloss"]
    assert "num_round" not in params and "kfold" not in params
    assert "subsample" not in params  # defaults stay XGBoost's own


def test_gpu_hist_maps_to_hist_on_cuda() -> None:
    params = parse(tree_method="gpu_hist").booster_params()
    assert (params["tree_method"], params["device"]) == ("hist", "cuda")


def test_early_stopping_needs_held_out_rows() -> None:
    hp = parse(early_stopping_rounds="10")
    with pytest.raises(UserError, match="add a 'validation' channel or set kfold >= 2"):
        validate_against_channels(hp, ["train"])
    validate_against_channels(hp, ["train", "validation"])
    validate_against_channels(parse(early_stopping_rounds="10", kfold="3"), ["train"])


def test_train_channel_is_required() -> None:
    with pytest.raises(UserError, match="no 'train' channel"):
        validate_against_channels(parse(), ["validation"])


def test_every_param_default_is_within_its_own_range() -> None:
    for param in BY_NAME.values():
        if param.default is not None and param.kind in ("int", "float"):
            assert param.parse(str(param.default)) == param.default, param.name


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_default_eval_metric_table_matches_xgboost(objective: str) -> None:
    import xgboost as xgb

    rng = np.random.default_rng(0)
    label = rng.integers(0, 3, 50).astype(np.float32) if objective.startswith("multi") else rng.integers(0, 2, 50) + 1.0
    params = {"objective": objective}
    if objective.startswith("multi"):
        params["num_class"] = 3
    if objective.startswith("binary") or objective == "reg:logistic":
        label = rng.integers(0, 2, 50).astype(np.float32)
    dtrain = xgb.DMatrix(rng.random((50, 3)), label=label)
    booster = xgb.train(params, dtrain, 1)
    logged = booster.eval_set([(dtrain, "train")], 0)
    assert logged.split("\t")[1].split(":")[0] == f"train-{DEFAULT_EVAL_METRIC[objective]}"
