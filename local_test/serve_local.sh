#!/usr/bin/env bash
# Serve the model in local_test/test_dir/model (train it first with train_local.sh), as SageMaker would.
#   local_test/serve_local.sh [IMAGE]
# With an IMAGE and a running Docker engine: docker run -p PORT:8080 -v test_dir:/opt/ml IMAGE serve.
# Otherwise the installed `serve` entry point with SAGEMAKER_BASE_DIR=test_dir on 127.0.0.1.
# Env: TEST_DIR, PORT (default 8080), SERVE (path of the serve entry point). Stop it with Ctrl-C.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
test_dir="${TEST_DIR:-$here/test_dir}"
port="${PORT:-8080}"
image="${1:-}"

if [ ! -d "$test_dir/model" ] || [ -z "$(ls -A "$test_dir/model" 2>/dev/null)" ]; then
  echo "serve_local.sh: no model in $test_dir/model; run local_test/train_local.sh first" >&2
  exit 1
fi

if [ -n "$image" ]; then
  if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
    exec docker run --rm -p "127.0.0.1:$port:8080" -v "$test_dir:/opt/ml" "$image" serve
  fi
  echo "serve_local.sh: no Docker engine here; running the installed entry point instead of $image" >&2
fi

serve="${SERVE:-$repo/.venv/bin/serve}"
if [ ! -x "$serve" ]; then
  echo "serve_local.sh: $serve not found; run 'make test' or 'make demo' first, or set SERVE" >&2
  exit 1
fi
SAGEMAKER_BASE_DIR="$test_dir" SAGEMAKER_BIND_TO_PORT="$port" XGB_BYOC_BIND_HOST=127.0.0.1 exec "$serve"
