"""The evaluation report's size does not grow with the rows: on a million rows its figures hold at most
CURVE_POINTS curve points, pre-binned histograms and a SCATTER_ROWS sample, and what they hold is still
right (points on the full curve, bins that count every row, threshold scores equal scores_at)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from xgboost_byoc import evaluation, report

ROWS = 1_000_000


def figures(page: str) -> dict[str, dict]:
    """Each figure's traces by its layout title (titles start with a fixed word: 'ROC curve — AUC …')."""
    found = {}
    for payload in re.findall(r'Plotly\.newPlot\("fig\d+", \.\.\.(.*?)\);</script>', page):
        data, layout, _ = json.loads(payload)
        found[layout["title"]["text"].split(" —")[0]] = {"data": data, "layout": layout}
    return found


def binary(rows: int) -> report.ReportInputs:
    rng = np.random.default_rng(0)
    y = (rng.random(rows) < 0.3).astype(np.float32)
    p = np.clip(rng.normal(0.3 + 0.4 * y, 0.2), 0, 1).astype(np.float32)
    return report.ReportInputs(
        title="t", objective="binary:logistic", summary={}, evaluation_set="synthetic", y=y, prediction=p
    )


def plotly_js_size() -> int:
    from plotly.offline import get_plotlyjs

    return len(get_plotlyjs())


@pytest.fixture(scope="module")
def big_binary() -> tuple[report.ReportInputs, str]:
    inputs = binary(ROWS)
    return inputs, report.render(inputs)


def test_a_million_row_binary_report_is_small(big_binary: tuple[report.ReportInputs, str]) -> None:
    _, page = big_binary
    assert len(page) - plotly_js_size() < 400_000  # was 95 MB: every ROC point and every row's probability
    for title, figure in figures(page).items():
        for trace in figure["data"]:
            assert len(trace["x"]) <= report.CURVE_POINTS, (title, trace["name"])
    inputs = big_binary[0]
    plotted = figures(page)
    for title, full in (
        ("ROC curve", inputs.binary_curves[0][0]),
        ("Precision-recall curve", inputs.binary_curves[1][0]),
    ):
        shown = len(plotted[title]["data"][0]["x"])  # the note states how many points are drawn, of how many
        assert f"The curve is drawn through {shown:,} of its {len(full):,} points" in page, title


def test_thinned_curves_are_points_of_the_full_curve(big_binary: tuple[report.ReportInputs, str]) -> None:
    inputs, page = big_binary
    (fpr, tpr, _), (recall, precision, _) = inputs.binary_curves
    plotted = figures(page)
    for title, (x, y) in (("ROC curve", (fpr, tpr)), ("Precision-recall curve", (recall, precision))):
        trace = plotted[title]["data"][0]
        px, py = np.array(trace["x"]), np.array(trace["y"])
        assert len(x) > 100 * report.CURVE_POINTS  # the full curve really is long
        assert np.all(np.isin(px + 1j * py, x + 1j * y))  # every plotted point is a point of the curve
        assert np.all(np.diff(px) >= 0)  # in the curve's order
        assert (px[0], py[0]) == (x[0], y[0]) and (px[-1], py[-1]) == (x[-1], y[-1])
        gaps = np.hypot(np.diff(px), np.diff(py))  # spread along the curve: no stretch left out
        length = np.hypot(np.diff(x), np.diff(y)).sum()
        assert gaps.max() < 3 * length / report.CURVE_POINTS + np.hypot(np.diff(x), np.diff(y)).max()


def test_binned_histograms_count_every_row(big_binary: tuple[report.ReportInputs, str]) -> None:
    inputs, page = big_binary
    bars = figures(page)["Predicted probability by true class"]["data"]
    for trace, label in zip(bars, (0, 1), strict=True):
        assert trace["type"] == "bar" and len(trace["x"]) == report.HISTOGRAM_BINS
        expected, _ = np.histogram(inputs.prediction[inputs.y == label], bins=report.HISTOGRAM_BINS, range=(0, 1))
        np.testing.assert_array_equal(trace["y"], expected)
    assert sum(sum(t["y"]) for t in bars) == ROWS


def test_threshold_plot_equals_scores_at(big_binary: tuple[report.ReportInputs, str]) -> None:
    inputs, page = big_binary
    lines = {t["name"]: t for t in figures(page)["Scores against the decision threshold"]["data"]}
    for i in (0, 30, 49, 98):
        cut = lines["f1"]["x"][i]
        expected = evaluation.scores_at(inputs.y, inputs.prediction, cut)
        for key in ("precision", "recall", "f1", "macro_f1"):
            assert lines[key]["y"][i] == pytest.approx(expected[key], rel=1e-12)


def test_a_small_report_draws_every_point() -> None:
    inputs = binary(500)
    page = report.render(inputs)
    (fpr, tpr, _), _ = inputs.binary_curves
    trace = figures(page)["ROC curve"]["data"][0]
    np.testing.assert_array_equal(trace["x"], fpr)
    np.testing.assert_array_equal(trace["y"], tpr)
    assert "is drawn through" not in page


def test_a_million_row_regression_report_shows_a_sample() -> None:
    rng = np.random.default_rng(1)
    y = rng.normal(size=ROWS)
    p = y + rng.normal(scale=0.3, size=ROWS)
    page = report.render(
        report.ReportInputs(title="t", objective="reg:squarederror", summary={}, evaluation_set="s", y=y, prediction=p)
    )
    assert len(page) - plotly_js_size() < 400_000
    plotted = figures(page)
    scatter = plotted["Predicted against actual"]["data"][0]
    assert len(scatter["x"]) == report.SCATTER_ROWS
    rows = np.searchsorted(y, scatter["x"], sorter=np.argsort(y))  # every plotted pair is a real row
    order = np.argsort(y)
    np.testing.assert_array_equal(y[order][rows], scatter["x"])
    np.testing.assert_array_equal(p[order][rows], scatter["y"])
    assert "A random sample of 5,000 of the 1,000,000 rows" in page
    residuals = plotted["Residuals (predicted − actual)"]["data"][0]
    assert sum(residuals["y"]) == ROWS
