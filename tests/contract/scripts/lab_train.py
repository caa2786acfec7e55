"""A lab-style script-mode entry point (the lab's task 2), written the way users write them: argparse
hyperparameters, headered CSVs from SM_CHANNEL_TRAIN / SM_CHANNEL_VALIDATION, its own xgb.cv k-fold,
metric lines for the tuner, a model saved to SM_MODEL_DIR. It knows nothing of xgboost-byoc."""

import argparse
import json
import os

import numpy as np
import xgboost as xgb


def load(folder):
    name = next(f for f in sorted(os.listdir(folder)) if f.endswith(".csv"))
    data = np.loadtxt(os.path.join(folder, name), delimiter=",", skiprows=1, dtype=np.float32)
    return xgb.DMatrix(data[:, 1:], label=data[:, 0])


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--max_depth", type=int, default=5)
    parser.add_argument("--eta", type=float, default=0.2)
    parser.add_argument("--gamma", type=float, default=4)
    parser.add_argument("--min_child_weight", type=float, default=6)
    parser.add_argument("--subsample", type=float, default=0.7)
    parser.add_argument("--objective", type=str, default="binary:logistic")
    parser.add_argument("--num_round", type=int, default=50)
    parser.add_argument("--verbose", type=str, default="False")
    parser.add_argument("--model_dir", type=str, default=os.environ.get("SM_MODEL_DIR"))
    parser.add_argument("--train", type=str, default=os.environ.get("SM_CHANNEL_TRAIN"))
    parser.add_argument("--validation", type=str, default=os.environ.get("SM_CHANNEL_VALIDATION"))
    args = parser.parse_args()
    print(
        "ARGS "
        + json.dumps(
            {k: v for k, v in vars(args).items() if k not in ("model_dir", "train", "validation")}, sort_keys=True
        )
    )

    dtrain, dvalid = load(args.train), load(args.validation)
    params = {
        "max_depth": args.max_depth,
        "eta": args.eta,
        "gamma": args.gamma,
        "min_child_weight": args.min_child_weight,
        "subsample": args.subsample,
        "objective": args.objective,
        "eval_metric": "auc",
    }
    cv = xgb.cv(params, dtrain, num_boost_round=args.num_round, nfold=3, seed=0)
    for i, (train_auc, test_auc) in enumerate(zip(cv["train-auc-mean"], cv["test-auc-mean"], strict=True)):
        print(f"[{i}]\ttrain-auc:{train_auc:.5f}\tvalidation-auc:{test_auc:.5f}")
    booster = xgb.train(
        params, dtrain, num_boost_round=args.num_round, evals=[(dvalid, "validation")], verbose_eval=False
    )
    booster.save_model(os.path.join(args.model_dir, "xgboost-model.json"))
