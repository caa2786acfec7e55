"""What the bench scripts share: where the Adult splits are, the entry points, the lab's hyperparameters."""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ADULT = Path(os.environ.get("XGB_BYOC_SHARED", REPO.parent / "shared")) / "data" / "adult"
BIN = Path(sys.executable).parent

#: The lab's built-in hyperparameters (task 1).
LAB = {
    "max_depth": "5",
    "eta": "0.2",
    "gamma": "4",
    "min_child_weight": "6",
    "subsample": "0.7",
    "objective": "binary:logistic",
    "num_round": "800",
}
