"""The lab's task-2 script done well: script mode, our readers and our honest k-fold.

Run by SageMaker (or `xgb-byoc train --entry-point examples/script_mode/train_kfold.py`) with channels
`train` and `validation` — CSV files with a header, label first (the lab's `*_wheaders.csv`) — and
hyperparameters as `--name value` arguments. It:

- reads each channel with xgboost-byoc's pyarrow readers (header detected, errors name file and line);
- runs k-fold cross-validation where each fold is scored and early-stopped only on its own held-out rows,
  then refits on all training rows for the chosen number of rounds (xgb.cv + xgb.train, done right);
- writes `xgboost-model` + `manifest.json` (with the out-of-fold-chosen decision threshold) to
  SM_MODEL_DIR, metrics.json and out-of-fold predictions to SM_OUTPUT_DATA_DIR, and evaluation lines
  (`[i]\\ttrain-auc:…\\tvalidation-auc:…`, `cv-auc`) whose last values are the saved model's — what the
  tuner's objective (e.g. validation:auc) reads.
"""

import argparse

from xgboost_byoc import scripting


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max_depth", type=int, default=6)
    parser.add_argument("--eta", type=float, default=0.05)
    parser.add_argument("--gamma", type=float, default=0.0)
    parser.add_argument("--min_child_weight", type=float, default=1.0)
    parser.add_argument("--subsample", type=float, default=0.8)
    parser.add_argument("--colsample_bytree", type=float, default=0.8)
    parser.add_argument("--objective", type=str, default="binary:logistic")
    parser.add_argument("--eval_metric", type=str, default="auc")
    parser.add_argument("--num_round", type=int, default=2000)
    parser.add_argument("--early_stopping_rounds", type=int, default=50)
    parser.add_argument("--kfold", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args()


if __name__ == "__main__":
    args = parse_args()
    train = scripting.read_channel("train")
    validation = scripting.read_channel("validation")
    metrics = scripting.train(vars(args), train, validation)
    cv_auc, valid_auc = metrics.get("cv:auc", float("nan")), metrics.get("validation:auc", float("nan"))
    print(f"cv:auc {cv_auc:.4f}  validation:auc {valid_auc:.4f}")
