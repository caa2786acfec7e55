#!/usr/bin/env bash
# Install xgboost-byoc into a virtual environment exactly as the image does (the Dockerfile's builder stage
# runs this script; tests/contract/test_image.py runs it into a fresh venv).
#   container/install.sh VENV WHEEL_DIR [XGBOOST_PACKAGE]
# WHEEL_DIR holds the xgboost_byoc wheel. XGBOOST_PACKAGE: xgboost-cpu (default, slim) or xgboost (GPU build).
set -euo pipefail

venv="${1:?usage: install.sh VENV WHEEL_DIR [XGBOOST_PACKAGE]}"
wheels="${2:?usage: install.sh VENV WHEEL_DIR [XGBOOST_PACKAGE]}"
xgboost_package="${3:-xgboost-cpu}"
pip=("$venv/bin/python" -m pip --disable-pip-version-check --no-cache-dir)

shopt -s nullglob
wheel=("$wheels"/xgboost_byoc-*.whl)
if [ "${#wheel[@]}" -ne 1 ]; then
  echo "install.sh: expected one xgboost_byoc wheel in $wheels, found ${#wheel[@]}" >&2
  exit 1
fi

# The script-mode toolkit first: it compiles a small C extension (so this needs gcc) and installs a
# console script that is ALSO named `train`. Our wheel goes in after it, so our `train` is the one in bin/.
"${pip[@]}" install "sagemaker-training>=5.1,<6"
"${pip[@]}" install --force-reinstall --no-deps "${wheel[0]}"
"${pip[@]}" install "${wheel[0]}"

if [ "$xgboost_package" != "xgboost-cpu" ]; then
  version="$("$venv/bin/python" -c 'import xgboost; print(xgboost.__version__)')"
  "${pip[@]}" uninstall --yes xgboost-cpu
  "${pip[@]}" install "$xgboost_package==$version"
fi

if ! grep -q "xgboost_byoc" "$venv/bin/train"; then
  echo "install.sh: $venv/bin/train is not xgboost-byoc's entry point (another package overwrote it)" >&2
  exit 1
fi
"$venv/bin/python" -c 'import xgboost, xgboost_byoc, sagemaker_training, gethostname; print("xgboost", xgboost.__version__, "xgboost-byoc", xgboost_byoc.__version__)'
