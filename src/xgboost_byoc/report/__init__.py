"""The evaluation report: one self-contained HTML file (plotly.js inlined, no network needed to view it).

``render(ReportInputs)`` → HTML. The training job calls it at the end of every algorithm-mode run
(``output/data/report.html``); ``xgb-byoc report`` calls it for any model on any labelled data set.
Every number in a table also sits in a ``data-value`` attribute at full precision, so tests (and
scripts) can read the report back; ``report_metrics`` returns the same numbers for ``metrics.json``.

Its size does not grow with the rows: every number is computed on all of them, but a curve is drawn
through at most ``CURVE_POINTS`` of its points, histograms are binned here rather than in the browser,
and a scatter plot shows a random sample of ``SCATTER_ROWS`` rows (each figure says so when it does).
"""

from __future__ import annotations

import functools
import html
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from xgboost_byoc import evaluation

CURVE_POINTS = 2000  # points a ROC / precision-recall line is drawn through (spread along its length)
SCATTER_ROWS = 5000  # rows a scatter plot shows
HISTOGRAM_BINS = 50  # bins of the predicted-probability histograms (0.02 wide)

SECTION_IDS = {
    "binary": [
        "summary",
        "learning-curves",
        "confusion-0.5",
        "confusion-threshold",
        "classification-report-threshold",
        "classification-report-0.5",
        "roc",
        "precision-recall",
        "threshold-plot",
        "calibration",
        "distribution",
        "importance",
    ],
    "multiclass": ["summary", "learning-curves", "confusion", "classification-report", "importance"],
    "regression": [
        "summary",
        "learning-curves",
        "regression-metrics",
        "predicted-vs-actual",
        "residuals",
        "importance",
    ],
}


@dataclass
class Curves:
    """Per-round values: the final model's (``train:auc`` ...) and the CV's held-out mean/std."""

    final: dict[str, list[float]] = field(default_factory=dict)
    cv_mean: dict[str, list[float]] = field(default_factory=dict)
    cv_std: dict[str, list[float]] = field(default_factory=dict)
    cv_folds: dict[str, list[list[float]]] = field(default_factory=dict)  # each fold's held-out curve
    chosen_round: int | None = None


@dataclass
class ReportInputs:
    title: str
    objective: str
    summary: dict[str, Any]  # label → value, shown in order
    evaluation_set: str  # e.g. "validation channel", "out-of-fold predictions (train)"
    y: np.ndarray
    prediction: (
        np.ndarray
    )  # binary: P(class 1); multiclass: (rows, classes) probabilities or labels; regression: values
    threshold: float = 0.5
    curves: Curves = field(default_factory=Curves)
    importance: dict[str, dict[str, float]] = field(default_factory=dict)  # kind → feature → value
    num_class: int | None = None

    @functools.cached_property
    def binary_curves(self) -> tuple[tuple[np.ndarray, np.ndarray, float], tuple[np.ndarray, np.ndarray, float]]:
        """(fpr, tpr, AUC), (recall, precision, AP) on every row: ranked once for the report and metrics."""
        return evaluation.binary_curves(self.y, self.prediction)

    @property
    def kind(self) -> str:
        if self.objective.startswith("binary:"):
            return "binary"
        if self.objective.startswith("multi:"):
            return "multiclass"
        return "regression"


# ------------------------------------------------------------------------------------------- numbers


def report_metrics(inputs: ReportInputs, prefix: str) -> dict[str, float]:
    """The report's headline numbers, flat, for metrics.json (``validation:roc_auc`` ...)."""
    out: dict[str, float] = {}
    y, p = inputs.y, inputs.prediction
    if inputs.kind == "binary":
        roc, pr = inputs.binary_curves
        out[f"{prefix}:roc_auc"] = roc[2]
        out[f"{prefix}:average_precision"] = pr[2]
        for name, cut in (("threshold", inputs.threshold), ("0.5", 0.5)):
            matrix = evaluation.confusion_matrix(y, p >= cut, 2)
            for (t, q), count in np.ndenumerate(matrix):
                out[f"{prefix}:confusion_{t}{q}_at_{name}"] = float(count)
            report = evaluation.classification_report(matrix)
            out[f"{prefix}:macro_f1_at_{name}"] = report["macro avg"]["f1"]
            out[f"{prefix}:weighted_f1_at_{name}"] = report["weighted avg"]["f1"]
            out[f"{prefix}:accuracy_at_{name}"] = report["accuracy"]["value"]
    elif inputs.kind == "multiclass":
        report = evaluation.classification_report(_multiclass_matrix(inputs))
        out[f"{prefix}:accuracy"] = report["accuracy"]["value"]
        out[f"{prefix}:macro_f1"] = report["macro avg"]["f1"]
    else:
        out.update({f"{prefix}:{k}": v for k, v in _regression_scores(y, p).items()})
    return out


def _multiclass_matrix(inputs: ReportInputs) -> np.ndarray:
    pred = inputs.prediction.argmax(axis=1) if inputs.prediction.ndim == 2 else inputs.prediction
    classes = inputs.num_class or int(max(inputs.y.max(), pred.max()) + 1)
    return evaluation.confusion_matrix(inputs.y, pred, classes)


def _regression_scores(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    residual = np.asarray(p, dtype=np.float64) - y
    total = np.sum((y - y.mean()) ** 2)
    return {
        "rmse": float(np.sqrt(np.mean(residual**2))),
        "mae": float(np.mean(np.abs(residual))),
        "r2": float(1 - np.sum(residual**2) / total) if total > 0 else float("nan"),
    }


# ------------------------------------------------------------------------------------------------ html


def _num(value: float, digits: int = 4) -> str:
    if isinstance(value, (int, np.integer)) or float(value).is_integer():
        return f'<td data-value="{value:.17g}">{int(value):,}</td>'
    return f'<td data-value="{value:.17g}">{value:.{digits}f}</td>'


def _cell(value: Any) -> str:
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return _num(float(value))
    return f"<td>{html.escape(str(value))}</td>"


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]], table_id: str | None = None) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + f"<th>{html.escape(str(row[0]))}</th>" + "".join(_cell(v) for v in row[1:]) + "</tr>" for row in rows
    )
    attr = f' id="{table_id}"' if table_id else ""
    return f"<table{attr}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _section(section_id: str, title: str, *parts: str) -> str:
    return f'<section id="{section_id}"><h2>{html.escape(title)}</h2>{"".join(parts)}</section>'


_FIGURES = iter(range(1 << 30))


def _figure(data: list[dict[str, Any]], layout: dict[str, Any]) -> str:
    """A plotly.js figure: a div and a ``Plotly.newPlot`` call (plotly.js itself is inlined once in <head>).

    Figures are plain plotly.js JSON rather than plotly's Python figure objects, whose validation costs
    tens of milliseconds per figure: a report has to stay a small fraction of the training job.
    """
    import json

    layout = {"margin": {"l": 55, "r": 20, "t": 40, "b": 45}, "height": 340, **layout}
    div = f"fig{next(_FIGURES)}"
    payload = json.dumps([data, layout, {"displaylogo": False, "responsive": True}], default=_jsonable)
    return f'<div id="{div}" class="figure"></div><script>Plotly.newPlot("{div}", ...{payload});</script>'


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return [None if isinstance(v, float) and not np.isfinite(v) else v for v in value.tolist()]
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON: {type(value).__name__}")


def _thin(x: np.ndarray, y: np.ndarray, limit: int = CURVE_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """At most ``limit`` of a curve's points (its first and last among them), evenly spaced along the
    curve's length, so steep stretches keep as much detail as flat ones."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if len(x) <= limit:
        return x, y
    along = np.concatenate([[0.0], np.cumsum(np.hypot(np.diff(x), np.diff(y)))])
    picked = np.searchsorted(along, np.linspace(0.0, along[-1], limit - 1)).clip(0, len(x) - 1)
    keep = np.unique(np.concatenate([picked, [len(x) - 1]]))
    return x[keep], y[keep]


def _thinned_note(plotted: int, points: int, number: str) -> str:
    if plotted == points:
        return ""
    return (
        f'<p class="note">The curve is drawn through {plotted:,} of its {points:,} points, spread along'
        f" its length; the {number} above uses every row.</p>"
    )


def _bars(values: np.ndarray, bins: int | np.ndarray, name: str, **extra: Any) -> dict[str, Any]:
    """A histogram binned here (numpy), so the page holds the bins, not the rows."""
    counts, edges = np.histogram(np.asarray(values, dtype=np.float64), bins=bins)
    return {
        "type": "bar",
        "x": (edges[:-1] + edges[1:]) / 2,
        "y": counts,
        "width": np.diff(edges),
        "name": name,
        "hovertemplate": "%{x:.3f}: %{y} rows<extra>" + name + "</extra>",
        **extra,
    }


def _line(x: Any, y: Any, name: str, **extra: Any) -> dict[str, Any]:
    return {"type": "scatter", "mode": "lines", "x": np.asarray(x), "y": np.asarray(y), "name": name, **extra}


def _diagonal(name: str, low: float = 0.0, high: float = 1.0) -> dict[str, Any]:
    return _line([low, high], [low, high], name, line={"dash": "dot", "color": "gray"})


def _vline(x: float, text: str) -> dict[str, Any]:
    return {
        "shapes": [
            {
                "type": "line",
                "x0": x,
                "x1": x,
                "yref": "paper",
                "y0": 0,
                "y1": 1,
                "line": {"dash": "dash", "color": "gray"},
            }
        ],
        "annotations": [{"x": x, "yref": "paper", "y": 1, "text": text, "showarrow": False, "xanchor": "left"}],
    }


def _confusion_section(section_id: str, title: str, matrix: np.ndarray, labels: Sequence[str]) -> str:
    rates = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    headers = ["true \\ predicted", *labels]
    counts = _table(headers, [[labels[i], *matrix[i]] for i in range(len(labels))], f"{section_id}-counts")
    shares = _table(headers, [[labels[i], *rates[i]] for i in range(len(labels))], f"{section_id}-rates")
    return _section(
        section_id,
        title,
        '<div class="pair"><div><h3>counts</h3>',
        counts,
        "</div><div><h3>rates (by true class)</h3>",
        shares,
        "</div></div>",
    )


def _report_section(section_id: str, title: str, matrix: np.ndarray, labels: Sequence[str]) -> str:
    report = evaluation.classification_report(matrix)
    rows: list[list[Any]] = []
    for i, label in enumerate(labels):
        r = report[str(i)]
        rows.append([label, r["precision"], r["recall"], r["f1"], r["support"]])
    rows.append(["accuracy", "", "", report["accuracy"]["value"], report["accuracy"]["support"]])
    for avg in ("macro avg", "weighted avg"):
        r = report[avg]
        rows.append([avg, r["precision"], r["recall"], r["f1"], r["support"]])
    return _section(
        section_id, title, _table(["", "precision", "recall", "f1-score", "support"], rows, f"{section_id}-table")
    )


def _learning_curves(curves: Curves) -> str:
    metrics = sorted({name.partition(":")[2] for name in [*curves.final, *curves.cv_mean] if not name.endswith("_std")})
    figures = []
    for metric in metrics:
        data: list[dict[str, Any]] = []
        mean = curves.cv_mean.get(f"cv:{metric}")
        if mean:
            std = np.asarray(curves.cv_std.get(f"cv:{metric}", [0.0] * len(mean)))
            rounds = np.arange(len(mean))
            band_y = np.concatenate([np.asarray(mean) + std, (np.asarray(mean) - std)[::-1]])
            data.append(
                _line(
                    np.concatenate([rounds, rounds[::-1]]),
                    band_y,
                    "CV mean ± std",
                    fill="toself",
                    line={"width": 0},
                    fillcolor="rgba(99,110,250,0.2)",
                    hoverinfo="skip",
                )
            )
            for i, fold in enumerate(curves.cv_folds.get(f"cv:{metric}", [])):
                data.append(
                    _line(
                        np.arange(len(fold)),
                        fold,
                        "each fold's held-out rows",
                        legendgroup="folds",
                        showlegend=i == 0,
                        line={"width": 1, "color": "rgba(99,110,250,0.45)"},
                        hovertemplate=f"fold {i}: %{{y:.5f}}<extra></extra>",
                    )
                )
            data.append(_line(rounds, mean, "CV held-out mean", line={"color": "rgb(99,110,250)"}))
        for prefix in ("train", "validation"):
            values = curves.final.get(f"{prefix}:{metric}")
            if values:
                data.append(_line(np.arange(len(values)), values, f"final model, {prefix}"))
        layout: dict[str, Any] = {
            "title": {"text": metric},
            "xaxis": {"title": {"text": "round"}},
            "yaxis": {"title": {"text": metric}},
        }
        if curves.chosen_round is not None:
            layout.update(_vline(curves.chosen_round, f"chosen round {curves.chosen_round}"))
        figures.append(_figure(data, layout))
    if not figures:
        return _section("learning-curves", "Learning curves", "<p>No per-round history for this report.</p>")
    return _section("learning-curves", "Learning curves", '<div class="grid">', *figures, "</div>")


def _axes(title: str, x: str, y: str, **extra: Any) -> dict[str, Any]:
    return {"title": {"text": title}, "xaxis": {"title": {"text": x}}, "yaxis": {"title": {"text": y}}, **extra}


def _binary_sections(inputs: ReportInputs) -> list[str]:
    y, p, t = inputs.y, inputs.prediction, inputs.threshold
    labels = ["0", "1"]
    parts = []
    for name, cut, title in (("0.5", 0.5, "at 0.5"), ("threshold", t, f"at the chosen threshold {t:.4f}")):
        parts.append(
            _confusion_section(
                f"confusion-{name}", f"Confusion matrix {title}", evaluation.confusion_matrix(y, p >= cut, 2), labels
            )
        )
    for name, cut, title in (("threshold", t, f"at the chosen threshold {t:.4f}"), ("0.5", 0.5, "at 0.5")):
        parts.append(
            _report_section(
                f"classification-report-{name}",
                f"Classification report {title}",
                evaluation.confusion_matrix(y, p >= cut, 2),
                labels,
            )
        )
    (fpr, tpr, auc), (recall, precision, ap) = inputs.binary_curves
    roc_x, roc_y = _thin(fpr, tpr)
    roc = _figure(
        [_line(roc_x, roc_y, "ROC"), _diagonal("chance")],
        _axes(f"ROC curve — AUC {auc:.4f}", "false positive rate", "true positive rate"),
    )
    parts.append(
        _section(
            "roc",
            "ROC curve",
            f'<p class="figure-number">AUC <span data-value="{auc:.17g}">{auc:.4f}</span></p>',
            roc,
            _thinned_note(len(roc_x), len(fpr), "AUC"),
        )
    )
    pr_x, pr_y = _thin(recall, precision)
    pr = _figure(
        [_line(pr_x, pr_y, "precision-recall", line={"shape": "hv"})],
        _axes(f"Precision-recall curve — AP {ap:.4f}", "recall", "precision"),
    )
    parts.append(
        _section(
            "precision-recall",
            "Precision-recall curve",
            f'<p class="figure-number">average precision <span data-value="{ap:.17g}">{ap:.4f}</span></p>',
            pr,
            _thinned_note(len(pr_x), len(recall), "average precision"),
        )
    )
    cuts = np.linspace(0.01, 0.99, 99)
    scores = evaluation.scores_at_cuts(y, p, cuts)
    lines = [_line(cuts, scores[key], key) for key in ("precision", "recall", "f1", "macro_f1")]
    parts.append(
        _section(
            "threshold-plot",
            "Threshold",
            _figure(
                lines,
                _axes("Scores against the decision threshold", "threshold", "score", **_vline(t, f"chosen {t:.3f}")),
            ),
        )
    )
    predicted, observed, counts = evaluation.calibration_curve(y, p)
    calibration = [
        _line(predicted, observed, "model", mode="lines+markers", text=[f"{int(c)} rows" for c in counts]),
        _diagonal("perfectly calibrated"),
    ]
    parts.append(
        _section(
            "calibration",
            "Calibration",
            _figure(
                calibration,
                _axes("Calibration (reliability)", "mean predicted probability", "observed fraction of class 1"),
            ),
        )
    )
    edges = np.linspace(0.0, 1.0, HISTOGRAM_BINS + 1)
    histograms = [_bars(p[y == label], edges, f"class {label}", opacity=0.6) for label in (0, 1)]
    parts.append(
        _section(
            "distribution",
            "Distribution of predicted probabilities",
            _figure(histograms, _axes("Predicted probability by true class", "P(class 1)", "rows", barmode="overlay")),
        )
    )
    return parts


def _multiclass_sections(inputs: ReportInputs) -> list[str]:
    matrix = _multiclass_matrix(inputs)
    labels = [str(c) for c in range(matrix.shape[0])]
    return [
        _confusion_section("confusion", "Confusion matrix", matrix, labels),
        _report_section("classification-report", "Classification report", matrix, labels),
    ]


def _regression_sections(inputs: ReportInputs) -> list[str]:
    y, p = inputs.y, np.asarray(inputs.prediction, dtype=np.float64)
    scores = _regression_scores(y, p)
    table = _table(
        ["", "value"], [[k.upper() if k != "r2" else "R²", v] for k, v in scores.items()], "regression-metrics-table"
    )
    low, high = float(min(y.min(), p.min())), float(max(y.max(), p.max()))
    shown, note = np.arange(len(y)), ""
    if len(y) > SCATTER_ROWS:
        shown = np.sort(np.random.default_rng(0).choice(len(y), SCATTER_ROWS, replace=False))
        note = f'<p class="note">A random sample of {SCATTER_ROWS:,} of the {len(y):,} rows; the metrics use all.</p>'
    scatter = [
        {
            "type": "scattergl",
            "mode": "markers",
            "x": y[shown],
            "y": p[shown],
            "name": "rows",
            "marker": {"size": 4, "opacity": 0.5},
        },
        _diagonal("y = x", low, high),
    ]
    residuals = [_bars(p - y, 60, "residuals")]
    return [
        _section("regression-metrics", "Regression metrics", table),
        _section(
            "predicted-vs-actual",
            "Predicted against actual",
            _figure(scatter, _axes("Predicted against actual", "actual", "predicted")),
            note,
        ),
        _section(
            "residuals", "Residuals", _figure(residuals, _axes("Residuals (predicted − actual)", "residual", "rows"))
        ),
    ]


def _importance_section(importance: Mapping[str, Mapping[str, float]]) -> str:
    if not importance:
        return _section("importance", "Feature importance", "<p>No feature importance for this model.</p>")
    features = sorted(
        {f for scores in importance.values() for f in scores}, key=lambda f: -importance.get("gain", {}).get(f, 0.0)
    )
    kinds = list(importance)
    table = _table(
        ["feature", *kinds], [[f, *(importance[k].get(f, 0.0) for k in kinds)] for f in features], "importance-table"
    )
    figures = []
    for kind in kinds:
        ordered = sorted(features, key=lambda f: importance[kind].get(f, 0.0))
        bars = [
            {
                "type": "bar",
                "orientation": "h",
                "x": [importance[kind].get(f, 0.0) for f in ordered],
                "y": ordered,
                "name": kind,
            }
        ]
        figures.append(
            _figure(
                bars,
                {
                    "title": {"text": kind},
                    "height": max(300, 22 * len(ordered)),
                    "margin": {"l": 140, "r": 20, "t": 40, "b": 40},
                },
            )
        )
    return _section("importance", "Feature importance", '<div class="grid">', *figures, "</div>", table)


STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1200px;
  color:#222;padding:0 16px}
h1{font-size:1.6em}h2{border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:32px}h3{font-size:1em;color:#555}
table{border-collapse:collapse;margin:8px 0;font-size:0.92em}
td,th{border:1px solid #ddd;padding:4px 10px;text-align:right}
thead th{background:#f4f4f8}tbody th{text-align:left;font-weight:600}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:12px}
.pair{display:flex;gap:32px;flex-wrap:wrap}.figure-number{font-size:1.1em}
.note{color:#666;font-size:0.9em}
"""


def render(inputs: ReportInputs) -> str:
    from plotly.offline import get_plotlyjs

    started = time.perf_counter()
    summary_rows = [[k, v] for k, v in inputs.summary.items()]
    parts = [
        _section(
            "summary",
            "Run summary",
            _table(["", "value"], summary_rows, "summary-table"),
            f'<p class="note">Evaluated on: {html.escape(inputs.evaluation_set)}</p>',
        ),
        _learning_curves(inputs.curves),
    ]
    if inputs.kind == "binary":
        parts += _binary_sections(inputs)
    elif inputs.kind == "multiclass":
        parts += _multiclass_sections(inputs)
    else:
        parts += _regression_sections(inputs)
    parts.append(_importance_section(inputs.importance))
    took = time.perf_counter() - started
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(inputs.title)}</title><style>{STYLE}</style>"
        f"<script>{get_plotlyjs()}</script></head><body>"
        f"<h1>{html.escape(inputs.title)}</h1>"
        f'<p class="note">objective {html.escape(inputs.objective)} · made by xgboost-byoc in {took:.2f} s</p>'
        + "".join(parts)
        + "</body></html>"
    )


def importance_of(
    boosters: Sequence[Any], feature_names: Sequence[str] | None, shap_sample: Any = None
) -> dict[str, dict[str, float]]:
    """gain / weight / cover (averaged over boosters) and mean |SHAP| on ``shap_sample`` rows."""
    import xgboost as xgb

    names = list(feature_names) if feature_names else None

    def label(key: str) -> str:
        index = int(key[1:]) if key.startswith("f") and key[1:].isdigit() else None
        return names[index] if names is not None and index is not None and index < len(names) else key

    result: dict[str, dict[str, float]] = {}
    for kind in ("gain", "weight", "cover"):
        totals: dict[str, float] = {}
        for booster in boosters:
            for key, value in booster.get_score(importance_type=kind).items():
                totals[label(key)] = totals.get(label(key), 0.0) + float(value) / len(boosters)
        result[kind] = totals
    if shap_sample is not None:  # exact TreeSHAP is the costly part of a report: callers pass a sample
        dmatrix = xgb.DMatrix(shap_sample)
        contributions = np.mean([b.predict(dmatrix, pred_contribs=True) for b in boosters], axis=0)
        if contributions.ndim == 3:  # multiclass: (rows, classes, features + 1)
            contributions = np.abs(contributions).sum(axis=1)
        mean_abs = np.abs(contributions[:, :-1]).mean(axis=0)
        result["mean |SHAP|"] = {label(f"f{i}"): float(v) for i, v in enumerate(mean_abs)}
    return result


def inputs_for_model(model: Any, data: Any, *, source: str, shap_rows: int = 300) -> ReportInputs:
    """Report inputs for a trained model (``artifacts.Model``) on a labelled ``data.Dataset``."""
    manifest = model.manifest
    objective = model.objective
    if data.n_features != model.n_features:
        from xgboost_byoc.errors import UserError

        raise UserError(f"{source} has {data.n_features} features but the model expects {model.n_features}")
    prediction = model.predict(data.X)
    if objective == "binary:logitraw":
        from xgboost_byoc.artifacts import transform_margin

        prediction = transform_margin({"objective": "binary:logistic"}, prediction)
    threshold = (manifest.get("threshold") or {}).get("value", 0.5)
    summary: dict[str, Any] = {"rows": data.n_rows, "features": data.n_features}
    if objective.startswith(("binary:", "multi:")):
        classes, counts = np.unique(data.y, return_counts=True)
        summary["class balance"] = ", ".join(
            f"{c:g}: {n:,} ({n / data.n_rows:.1%})" for c, n in zip(classes, counts, strict=True)
        )
    summary["boosters"] = len(model.boosters)
    summary["rounds in the model"] = model.boosters[0].num_boosted_rounds()
    if manifest.get("threshold"):
        summary["decision threshold"] = f"{threshold:.4f} ({manifest['threshold'].get('source', '')})"
    for name, value in (manifest.get("hyperparameters") or {}).items():
        summary[f"hyperparameter {name}"] = ",".join(value) if isinstance(value, list) else value
    if manifest.get("xgboost_version"):
        summary["trained with xgboost"] = manifest["xgboost_version"]
    rows = data.n_rows
    sample = data.X[np.random.default_rng(0).choice(rows, shap_rows, replace=False)] if rows > shap_rows else data.X
    return ReportInputs(
        title=f"xgboost-byoc evaluation report — {objective}",
        objective=objective,
        num_class=manifest.get("num_class"),
        summary=summary,
        evaluation_set=source,
        y=data.y,
        prediction=np.asarray(prediction),
        threshold=float(threshold),
        curves=Curves(),  # a saved model keeps no per-round history: the section says so
        importance=importance_of(model.boosters, manifest.get("feature_names"), sample),
    )
