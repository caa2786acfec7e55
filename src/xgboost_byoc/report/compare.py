"""The lab's last step: several models' precision / recall / F1 side by side on one labelled test set.

Each binary model is scored at its manifest's CV-chosen threshold and at 0.5; per class precision,
recall, F1 and support, macro and weighted averages, accuracy, and AUC.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from xgboost_byoc import evaluation
from xgboost_byoc.errors import UserError

ROWS = [
    ("0", "precision"),
    ("0", "recall"),
    ("0", "f1"),
    ("0", "support"),
    ("1", "precision"),
    ("1", "recall"),
    ("1", "f1"),
    ("1", "support"),
    ("macro avg", "precision"),
    ("macro avg", "recall"),
    ("macro avg", "f1"),
    ("weighted avg", "precision"),
    ("weighted avg", "recall"),
    ("weighted avg", "f1"),
]


def compare(models: Sequence[tuple[str, Any]], data: Any) -> list[dict[str, Any]]:
    """One column per model and cut: ``{"model", "threshold", "class 0 precision", ..., "accuracy", "auc"}``."""
    columns = []
    for name, model in models:
        if not model.objective.startswith("binary:"):
            raise UserError(f"{name}: compare scores binary classifiers; this model is {model.objective}")
        if data.n_features != model.n_features:
            raise UserError(f"{name} expects {model.n_features} features; the test data has {data.n_features}")
        prob = np.asarray(model.predict(data.X))
        auc = evaluation.roc_curve(data.y, prob)[2]
        manifest_cut = (model.manifest.get("threshold") or {}).get("value")
        cuts = [float(manifest_cut), 0.5] if manifest_cut is not None and float(manifest_cut) != 0.5 else [0.5]
        for cut in cuts:
            report = evaluation.classification_report(evaluation.confusion_matrix(data.y, prob >= cut, 2))
            column: dict[str, Any] = {"model": name, "threshold": cut}
            for group, metric in ROWS:
                label = f"class {group}" if group in ("0", "1") else group
                column[f"{label} {metric}"] = report[group][metric]
            column["accuracy"] = report["accuracy"]["value"]
            column["auc"] = auc
            columns.append(column)
    return columns


def render(columns: Sequence[dict[str, Any]], fmt: str = "table") -> str:
    if fmt == "json":
        return json.dumps(list(columns), indent=2)
    names = [k for k in columns[0] if k not in ("model",)]
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["metric", *(f"{c['model']}@{c['threshold']:.4g}" for c in columns)])
        for key in names:
            writer.writerow([key, *(c[key] for c in columns)])
        return out.getvalue()
    headers = ["metric", *(f"{c['model']}@{c['threshold']:.3f}" for c in columns)]
    widths = [max(len(h), 24) if i == 0 else max(len(h), 9) for i, h in enumerate(headers)]
    lines = [
        "  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(headers, widths, strict=True)))
    ]
    lines.append("  ".join("-" * w for w in widths))
    for key in names:
        cells = [key.ljust(widths[0])]
        for column, width in zip(columns, widths[1:], strict=True):
            value = column[key]
            text = f"{int(value):,}" if key.endswith("support") else f"{value:.4f}"
            cells.append(text.rjust(width))
        lines.append("  ".join(cells))
    return "\n".join(lines)
