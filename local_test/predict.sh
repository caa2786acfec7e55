#!/usr/bin/env bash
# POST a payload file to a running server's /invocations and print the answer.
#   local_test/predict.sh PAYLOAD [CONTENT_TYPE]      e.g. local_test/predict.sh local_test/test_dir/payload.csv
# Env: PORT (default 8080), ACCEPT (default text/csv), OUTPUT (probability, predicted_label, ...).
set -euo pipefail

if [ $# -lt 1 ] || [ ! -f "$1" ]; then
  echo "usage: $0 PAYLOAD_FILE [CONTENT_TYPE]   (CONTENT_TYPE defaults to text/csv)" >&2
  exit 2
fi
payload="$1"
content_type="${2:-text/csv}"
port="${PORT:-8080}"
args=(--silent --show-error --fail-with-body -X POST "http://127.0.0.1:$port/invocations"
  -H "Content-Type: $content_type" -H "Accept: ${ACCEPT:-text/csv}" --data-binary "@$payload")
if [ -n "${OUTPUT:-}" ]; then
  args+=(-H "X-Amzn-SageMaker-Custom-Attributes: output=$OUTPUT")
fi
curl "${args[@]}"
