"""The image's ``serve`` entry point. The inference server is not part of this release yet."""

from __future__ import annotations

import sys


def main() -> int:
    sys.stderr.write(
        "serve: the inference server is not available in this version of xgboost-byoc yet; "
        "train models with `train` and load xgboost-model with xgboost.Booster meanwhile\n"
    )
    return 2
