"""The evaluation report: every section present, and its numbers equal scikit-learn's on the same
predictions. Written by `train` (output/data/report.html) and by `xgb-byoc report`."""

from __future__ import annotations

import shutil
import subprocess
import tarfile
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb
from sklearn.metrics import average_precision_score, classification_report, confusion_matrix, roc_auc_score

from tests.conftest import REPO, MlTree, entry_point
from xgboost_byoc.report import SECTION_IDS

pytestmark = pytest.mark.adult


class Report(HTMLParser):
    """Section ids, and every table's data-value cells by table id."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.sections: list[str] = []
        self.tables: dict[str, list[list[float | None]]] = {}
        self.values: list[float] = []  # data-value attributes outside tables (AUC, AP)
        self._table: str | None = None
        self._row: list[float | None] | None = None
        self.scripts = 0
        self.external: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "section":
            self.sections.append(str(a["id"]))
        elif tag == "table" and a.get("id"):
            self._table = str(a["id"])
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self._row = []
        elif tag == "td" and self._row is not None:
            self._row.append(float(a["data-value"]) if a.get("data-value") else None)
        elif tag == "span" and a.get("data-value"):
            self.values.append(float(str(a["data-value"])))
        elif tag == "script":
            self.scripts += 1
            if a.get("src"):
                self.external.append(str(a["src"]))
        elif tag in ("link", "img") and (a.get("href") or a.get("src", "")).startswith("http"):  # type: ignore[union-attr]
            self.external.append(str(a.get("href") or a.get("src")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr" and self._table and self._row is not None:
            if self._row:
                self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None


def validation(adult_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    data = np.loadtxt(adult_dir / "adult_data_processed_validation.csv", delimiter=",", dtype=np.float32)
    return data[:, 1:], data[:, 0]


def check_binary_numbers(report: Report, y: np.ndarray, prob: np.ndarray, threshold: float) -> None:
    assert report.sections == SECTION_IDS["binary"]
    for name, cut in (("threshold", threshold), ("0.5", 0.5)):
        counts = np.array(report.tables[f"confusion-{name}-counts"])
        np.testing.assert_array_equal(counts, confusion_matrix(y, prob >= cut))
        table = report.tables[f"classification-report-{name}-table"]
        expected = classification_report(y, prob >= cut, output_dict=True)
        for row, label in zip(table[:2], ("0.0", "1.0"), strict=True):
            got = dict(zip(("precision", "recall", "f1-score", "support"), row, strict=True))
            for key, value in got.items():
                assert value == pytest.approx(expected[label][key]), (name, label, key)
        assert table[2][2] == pytest.approx(expected["accuracy"])
        for row, avg in zip(table[3:], ("macro avg", "weighted avg"), strict=True):
            assert row == pytest.approx([expected[avg][k] for k in ("precision", "recall", "f1-score", "support")])
    auc, ap = report.values[:2]
    assert auc == pytest.approx(roc_auc_score(y, prob))
    assert ap == pytest.approx(average_precision_score(y, prob))


def test_training_job_writes_a_self_contained_report(adult_model: MlTree, adult_dir: Path) -> None:
    text = (adult_model.output / "data" / "report.html").read_text()
    report = Report(text)
    assert report.external == []  # plotly.js is inlined: the file opens without a network
    X, y = validation(adult_dir)
    booster = xgb.Booster()
    booster.load_model(bytearray((adult_model.model_dir / "xgboost-model").read_bytes()))
    threshold = adult_model.manifest()["threshold"]["value"]  # type: ignore[index]
    check_binary_numbers(report, y, booster.predict(xgb.DMatrix(X)), threshold)
    metrics = adult_model.metrics()
    assert metrics["validation:roc_auc"] == pytest.approx(report.values[0])
    assert metrics["validation:confusion_11_at_threshold"] == report.tables["confusion-threshold-counts"][1][1]
    assert metrics["report_seconds"] < metrics["train_seconds"]
    importance = report.tables["importance-table"]
    assert len(importance) == 13 and all(len(row) == 4 for row in importance)  # gain, weight, cover, mean |SHAP|


def test_report_command_on_a_model_tarball_and_the_test_split(
    adult_model: MlTree, adult_dir: Path, tmp_path: Path
) -> None:
    archive = tmp_path / "model.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for path in adult_model.model_dir.iterdir():
            tar.add(path, arcname=path.name)
    out = tmp_path / "test-report.html"
    test_csv = adult_dir / "adult_data_processed_test.csv"
    result = subprocess.run(
        [entry_point("xgb-byoc"), "report", str(archive), "--data", str(test_csv), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "data:roc_auc" in result.stdout
    data = np.loadtxt(test_csv, delimiter=",", dtype=np.float32)
    booster = xgb.Booster()
    booster.load_model(bytearray((adult_model.model_dir / "xgboost-model").read_bytes()))
    threshold = adult_model.manifest()["threshold"]["value"]  # type: ignore[index]
    check_binary_numbers(Report(out.read_text()), data[:, 0], booster.predict(xgb.DMatrix(data[:, 1:])), threshold)


def test_report_command_refuses_data_of_another_width(adult_model: MlTree, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("1,2,3\n0,4,5\n")
    result = subprocess.run(
        [
            entry_point("xgb-byoc"),
            "report",
            str(adult_model.base),
            "--data",
            str(bad),
            "--out",
            str(tmp_path / "r.html"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 2 and "has 2 features but the model expects 13" in result.stderr


def small_job(tmp_path: Path, hp: dict[str, str], rows: str) -> MlTree:
    tree = MlTree(tmp_path / "opt_ml")
    tree.hyperparameters(hp).channel("train", [("train.csv", rows)]).channel("validation", [("valid.csv", rows)])
    result = tree.run_train()
    assert result.returncode == 0, result.stderr[-2000:]
    return tree


def test_multiclass_report_has_its_own_sections(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    X = rng.random((300, 3))
    y = (X[:, 0] * 3).astype(int)
    rows = "\n".join(f"{label}," + ",".join(f"{v:.5f}" for v in x) for label, x in zip(y, X, strict=True))
    tree = small_job(tmp_path, {"objective": "multi:softprob", "num_class": "3", "num_round": "20", "kfold": "3"}, rows)
    report = Report((tree.output / "data" / "report.html").read_text())
    assert report.sections == SECTION_IDS["multiclass"]
    booster = xgb.Booster()
    booster.load_model(bytearray((tree.model_dir / "xgboost-model").read_bytes()))
    features = np.array([[float(v) for v in line.split(",")[1:]] for line in rows.splitlines()], dtype=np.float32)
    pred = booster.predict(xgb.DMatrix(features)).argmax(axis=1)
    np.testing.assert_array_equal(np.array(report.tables["confusion-counts"]), confusion_matrix(y, pred))


def test_regression_report_has_its_own_sections(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    X = rng.random((300, 2))
    y = X[:, 0] * 10 + rng.normal(0, 0.1, 300)
    rows = "\n".join(f"{t:.5f}," + ",".join(f"{v:.5f}" for v in x) for t, x in zip(y, X, strict=True))
    tree = small_job(tmp_path, {"objective": "reg:squarederror", "num_round": "30"}, rows)
    report = Report((tree.output / "data" / "report.html").read_text())
    assert report.sections == SECTION_IDS["regression"]
    rmse = report.tables["regression-metrics-table"][0][0]
    assert rmse == pytest.approx(tree.metrics()["validation:rmse"], rel=1e-4)


@pytest.mark.skipif(
    shutil.which("chromium") is None, reason="Debian's chromium is not installed (apt-get install chromium)"
)
def test_report_renders_in_headless_chromium(adult_model: MlTree, tmp_path: Path) -> None:
    png = tmp_path / "report.png"
    subprocess.run(
        [str(REPO / "local_test" / "report_screenshot.sh"), str(adult_model.output / "data" / "report.html"), str(png)],
        check=True,
        capture_output=True,
        timeout=180,
    )
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 50_000  # a page with plots, not a blank one


def test_learning_curves_show_each_folds_held_out_rows(adult_model: MlTree) -> None:
    text = (adult_model.output / "data" / "report.html").read_text()
    section = text.split('<section id="learning-curves">', 1)[1].split("</section>", 1)[0]
    assert section.count("each fold's held-out rows") == 3  # one line per fold (3-fold CV), one legend entry
    assert "CV held-out mean" in section and "chosen round" in section and "final model, validation" in section
