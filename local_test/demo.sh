#!/usr/bin/env bash
# The demo behind `make demo`: train with 5-fold CV on the breast-cancer set, serve the model, ask it;
# then the lab's story through xgb-byoc: a built-in-style job, a script-mode job, tuning it, compare.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
test_dir="${TEST_DIR:-$here/test_dir}"
port="${PORT:-8080}"
export TEST_DIR="$test_dir" PORT="$port"

echo "== 1. built-in-style training: 5-fold CV + early stopping, refit (local_test/train_local.sh)"
"$here/train_local.sh"
echo
echo "== 2. what training wrote"
ls -l "$test_dir/model" "$test_dir/output/data"
"${PYTHON:-python3}" - "$test_dir" <<'PY'
import json, sys
metrics = json.load(open(f"{sys.argv[1]}/output/data/metrics.json"))
for key in ("cv:auc", "cv:auc_std", "validation:auc", "best_iteration", "threshold", "cv:macro_f1_at_threshold"):
    print(f"  {key:28} {metrics[key]:.4f}" if isinstance(metrics[key], float) else f"  {key:28} {metrics[key]}")
PY
echo
echo "== 3. serving it on 127.0.0.1:$port (local_test/serve_local.sh) and asking (local_test/predict.sh)"
SAGEMAKER_MODEL_SERVER_WORKERS=1 "$here/serve_local.sh" >"$test_dir/serve.log" 2>&1 &
server=$!
trap 'kill -TERM "$server" 2>/dev/null; wait "$server" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  if curl -sf "http://127.0.0.1:$port/ping" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$server" 2>/dev/null; then cat "$test_dir/serve.log" >&2; exit 1; fi
  sleep 0.1
done
echo "-- probability of class 1 (benign) for the 5 rows of $test_dir/payload.csv"
"$here/predict.sh" "$test_dir/payload.csv"
echo "-- predicted_label, cut at the CV-chosen threshold"
OUTPUT=predicted_label "$here/predict.sh" "$test_dir/payload.csv"
echo "-- the same rows as JSON"
ACCEPT=application/json "$here/predict.sh" "$test_dir/payload.csv"
echo
echo "-- a bad request: 12 values instead of 30"
printf '1,2,3,4,5,6,7,8,9,10,11,12\n' >"$test_dir/bad.csv"
"$here/predict.sh" "$test_dir/bad.csv" || true
echo
echo "== 4. the launcher (xgb-byoc): a built-in-style k-fold job, a script-mode job, tuning the script, compare"
bin="$(dirname "${PYTHON:-python3}")"
export XGB_BYOC_JOBS_DIR="$test_dir/../xgb-byoc-jobs"
rm -rf "$XGB_BYOC_JOBS_DIR" "$test_dir/../xgb-byoc-output"
output="$test_dir/../xgb-byoc-output"
train_csv="$test_dir/input/data/train/breast_cancer_train.csv"
valid_csv="$test_dir/input/data/validation/breast_cancer_validation.csv"
"$bin/xgb-byoc" train --train "$train_csv" --validation "$valid_csv" --output "$output" --quiet \
  --hp objective=binary:logistic --hp eval_metric=auc --hp max_depth=4 --hp eta=0.1 --hp num_round=300 \
  --hp kfold=5 --hp early_stopping_rounds=20 --job-name builtin-demo
script="$here/../examples/script_mode/train_kfold.py"
"$bin/xgb-byoc" train --train "$train_csv" --validation "$valid_csv" --output "$output" --quiet \
  --entry-point "$script" --hp kfold=5 --hp num_round=500 --hp early_stopping_rounds=20 --job-name script-demo
echo
echo "-- tuning the script-mode job with the lab's ranges: 4 trials, 2 at a time, Random, seeded"
"$bin/xgb-byoc" tune --train "$train_csv" --validation "$valid_csv" --output "$output" \
  --entry-point "$script" --hp kfold=5 --hp num_round=500 --hp early_stopping_rounds=20 \
  --range max_depth=int:6:9 --range eta=continuous:0.01:0.03 --objective validation:auc \
  --strategy Random --max-jobs 4 --max-parallel-jobs 2 --seed 0 --job-name demo-tune | tee "$test_dir/tune.log"
tuning="$(sed -n 's/^tuning job \([^ :]*\) done in.*/\1/p' "$test_dir/tune.log")"
[ -n "$tuning" ] || { echo "demo: no tuning job name in $test_dir/tune.log" >&2; exit 1; }
echo
echo "-- the lab's last step: the built-in model, the script model and the best tuned one, side by side,"
echo "   on held-out rows that no job saw ($test_dir/test.csv)"
"$bin/xgb-byoc" compare builtin-demo script-demo "$tuning" --test "$test_dir/test.csv"
echo
echo "== 5. the evaluation report of the first job: $test_dir/output/data/report.html"
echo "   (open it in a browser; local_test/report_screenshot.sh renders it to PNG with headless Chromium)"
