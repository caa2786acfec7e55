#!/usr/bin/env bash
# Run `train` over local_test/test_dir (an /opt/ml tree), as SageMaker would.
#   local_test/train_local.sh [IMAGE]
# With an IMAGE and a running Docker engine: docker run -v test_dir:/opt/ml IMAGE train.
# Otherwise the installed `train` entry point with SAGEMAKER_BASE_DIR=test_dir (no Docker needed).
# Env: TEST_DIR (default local_test/test_dir), TRAIN (path of the train entry point), PYTHON.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
test_dir="${TEST_DIR:-$here/test_dir}"
image="${1:-}"
python="${PYTHON:-$repo/.venv/bin/python}"

if [ ! -d "$test_dir/input/data/train" ] || [ ! -f "$test_dir/payload.csv" ] || [ ! -f "$test_dir/test.csv" ]; then
  "$python" "$here/make_test_dir.py" --out "$test_dir"
fi
rm -rf "$test_dir/model" "$test_dir/output"
mkdir -p "$test_dir/model" "$test_dir/output"

if [ -n "$image" ]; then
  if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
    exec docker run --rm -v "$test_dir:/opt/ml" "$image" train
  fi
  echo "train_local.sh: no Docker engine here; running the installed entry point instead of $image" >&2
fi

# Our `train`, not another package's console script of the same name.
train="${TRAIN:-$repo/.venv/bin/train}"
if [ ! -x "$train" ]; then
  echo "train_local.sh: $train not found; run 'make test' or 'make demo' first, or set TRAIN" >&2
  exit 1
fi
SAGEMAKER_BASE_DIR="$test_dir" exec "$train"
