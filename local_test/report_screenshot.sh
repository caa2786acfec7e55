#!/usr/bin/env bash
# Render an evaluation report in headless Chromium (Debian's chromium package) to a PNG, to look at it.
#   local_test/report_screenshot.sh [REPORT_HTML] [OUT_PNG]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
report="$(realpath "${1:-$here/test_dir/output/data/report.html}")"
out="${2:-${report%.html}.png}"
command -v chromium >/dev/null 2>&1 || { echo "report_screenshot.sh: needs chromium (apt-get install chromium)" >&2; exit 1; }
[ -f "$report" ] || { echo "report_screenshot.sh: no report at $report; run local_test/train_local.sh first" >&2; exit 1; }
profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
  --disable-component-update --disable-sync --user-data-dir="$profile" --window-size=1280,6400 \
  --virtual-time-budget=10000 --screenshot="$out" "file://$report" >/dev/null 2>&1
echo "wrote $out"
