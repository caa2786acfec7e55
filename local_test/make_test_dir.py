"""Generate local_test/test_dir's data channels from scikit-learn's bundled breast-cancer set.

It also writes ``test_dir/payload.csv`` (five validation rows without label) for ``predict.sh`` and
``test_dir/test.csv``, held-out rows that no job sees, for ``xgb-byoc compare`` in the demo.
The data is generated, never committed: 569 rows, 30 features, label 1 = benign, 0 = malignant, split
60/20/20 (stratified, seed 0) into train/, validation/ and test.csv, CSV without header, label first —
the built-in algorithm's layout. The config JSONs next to it are committed; edit them to try other settings.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "test_dir", help="the /opt/ml tree to fill")
    args = parser.parse_args()
    try:
        from sklearn.datasets import load_breast_cancer
    except ImportError:
        raise SystemExit("make_test_dir.py needs scikit-learn (pip install 'xgboost-byoc[demo]')") from None
    X, y = load_breast_cancer(return_X_y=True)
    rng = np.random.default_rng(0)
    validation = np.zeros(len(y), dtype=bool)
    test = np.zeros(len(y), dtype=bool)
    for label in (0, 1):
        rows = rng.permutation(np.flatnonzero(y == label))
        fifth = len(rows) // 5
        validation[rows[:fifth]] = True
        test[rows[fifth : 2 * fifth]] = True
    table = np.column_stack([y, X])
    args.out.mkdir(parents=True, exist_ok=True)
    for channel, mask in (("train", ~validation & ~test), ("validation", validation)):
        folder = args.out / "input" / "data" / channel
        folder.mkdir(parents=True, exist_ok=True)
        np.savetxt(folder / f"breast_cancer_{channel}.csv", table[mask], delimiter=",", fmt="%.6g")
        print(f"wrote {folder / f'breast_cancer_{channel}.csv'}: {mask.sum()} rows x {X.shape[1]} features")
    np.savetxt(args.out / "test.csv", table[test], delimiter=",", fmt="%.6g")  # outside input/data: no job reads it
    print(f"wrote {args.out / 'test.csv'}: {test.sum()} held-out rows for xgb-byoc compare")
    payload = args.out / "payload.csv"  # a request body for predict.sh: five validation rows, no label
    np.savetxt(payload, X[validation][:5], delimiter=",", fmt="%.6g")
    print(f"wrote {payload}: 5 rows to send to the server")


if __name__ == "__main__":
    main()
