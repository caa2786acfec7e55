from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from xgboost_byoc.config import Channel
from xgboost_byoc.data import (
    check_labels,
    detect_header,
    parse_content_type,
    parse_csv,
    parse_libsvm,
    read_channel,
)
from xgboost_byoc.errors import UserError


def write(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def read(folder: Path, content_type: str | None = "text/csv", **kwargs: object):
    return read_channel(Channel("train", content_type), folder, **kwargs)  # type: ignore[arg-type]


def test_csv_label_first_then_features(tmp_path: Path) -> None:
    write(tmp_path, "a.csv", "1,0.5,2\n0,1.5,\n")
    ds = read(tmp_path)
    assert ds.y.tolist() == [1, 0]
    assert ds.X.dtype == np.float32 and ds.X.shape == (2, 2)
    assert ds.X[0].tolist() == [0.5, 2.0]
    assert np.isnan(ds.X[1, 1])  # an empty cell is a missing value
    assert ds.feature_names is None


def test_csv_header_is_detected_and_names_kept(tmp_path: Path) -> None:
    write(tmp_path, "a.csv", "col1,col2,col3\n1,2,3\n0,4,5\n")
    ds = read(tmp_path)
    assert ds.n_rows == 2 and ds.feature_names == ["col2", "col3"]


def test_csv_header_can_be_declared_in_content_type(tmp_path: Path) -> None:
    write(tmp_path, "a.csv", "1,2,3\n1,2,3\n0,4,5\n")
    assert read(tmp_path, "text/csv;header=present").n_rows == 2
    assert read(tmp_path, "text/csv").n_rows == 3


def test_csv_header_can_be_declared_by_hyperparameter(tmp_path: Path) -> None:
    write(tmp_path, "a.csv", "1,2,3\n0,4,5\n")
    assert read(tmp_path, csv_header="present").n_rows == 1


@pytest.mark.parametrize(
    ("cells", "expected"), [(["1", "2.5", "-3e4", ""], False), (["label", "x"], True), (["1", "nan", "inf"], False)]
)
def test_detect_header(cells: list[str], expected: bool) -> None:
    assert detect_header(cells) is expected


def test_weights_come_from_column_two(tmp_path: Path) -> None:
    write(tmp_path, "a.csv", "1,0.5,7\n0,2,8\n")
    ds = read(tmp_path, weights=True)
    assert ds.weights is not None and ds.weights.tolist() == [0.5, 2.0]
    assert ds.X[:, 0].tolist() == [7, 8]


def test_negative_weight_is_rejected_with_location(tmp_path: Path) -> None:
    write(tmp_path, "a.csv", "1,0.5,7\n0,-2,8\n")
    with pytest.raises(UserError, match=r"train/a.csv line 2: the weight \(column 2\) is -2.0"):
        read(tmp_path, weights=True)


def test_several_files_are_concatenated_in_name_order(tmp_path: Path) -> None:
    write(tmp_path, "part-2.csv", "0,20\n")
    write(tmp_path, "part-1.csv", "1,10\n1,11\n")
    write(tmp_path, "sub/part-3.csv", "0,30\n")
    write(tmp_path, ".hidden.csv", "garbage")
    write(tmp_path, "_SUCCESS", "")
    ds = read(tmp_path)
    assert ds.X[:, 0].tolist() == [10, 11, 20, 30]
    assert ds.locate(2) == "train/part-2.csv line 1"


def test_gzipped_csv_is_read(tmp_path: Path) -> None:
    import gzip

    write(tmp_path, "a.csv.gz", gzip.compress(b"1,2\n0,3\n"))
    assert read(tmp_path, None).X[:, 0].tolist() == [2, 3]


def test_ragged_row_names_file_and_line(tmp_path: Path) -> None:
    write(tmp_path, "a.csv", "1,2,3\n0,4,5\n1,6\n")
    with pytest.raises(UserError, match=r"train/a.csv: line 3 has 2 columns, expected 3"):
        read(tmp_path)


def test_non_numeric_cell_names_line_and_column(tmp_path: Path) -> None:
    write(tmp_path, "a.csv", "c1,c2,c3\n1,2,3\n0,abc,5\n")
    with pytest.raises(UserError, match=r"train/a.csv: line 3, column 2: 'abc' is not a number"):
        read(tmp_path)


def test_files_with_different_columns_are_rejected(tmp_path: Path) -> None:
    write(tmp_path, "a.csv", "1,2,3\n")
    write(tmp_path, "b.csv", "1,2\n")
    with pytest.raises(UserError, match=r"train/b.csv has 2 columns but train/a.csv has 3"):
        read(tmp_path)


def test_empty_channel_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="channel 'train' is empty"):
        read(tmp_path)


def test_empty_file_is_rejected(tmp_path: Path) -> None:
    write(tmp_path, "a.csv", "")
    with pytest.raises(UserError, match=r"train/a.csv is empty"):
        read(tmp_path)


def test_label_only_file_is_rejected(tmp_path: Path) -> None:
    write(tmp_path, "a.csv", "1\n0\n")
    with pytest.raises(UserError, match="expected the label in column 1 and at least one feature"):
        read(tmp_path)


def test_missing_label_is_rejected(tmp_path: Path) -> None:
    write(tmp_path, "a.csv", "1,2\n,3\n")
    with pytest.raises(UserError, match=r"train/a.csv line 2: the label \(column 1\) is missing"):
        read(tmp_path)


def test_infinite_feature_is_rejected(tmp_path: Path) -> None:
    write(tmp_path, "a.csv", "1,2\n0,inf\n")
    with pytest.raises(UserError, match=r"train/a.csv line 2: a feature is infinite"):
        read(tmp_path)


def test_a_feature_beyond_float32_is_rejected_and_the_message_says_why(tmp_path: Path) -> None:
    write(tmp_path, "a.csv", "1,2\n0,3\n1,-1e39\n")  # finite, but float32 (what XGBoost holds) ends at 3.4e38
    with pytest.raises(UserError, match=r"train/a.csv line 3: a feature is infinite or beyond float32's range"):
        read(tmp_path)


def test_libsvm_matches_xgboosts_own_parser(tmp_path: Path) -> None:
    import warnings

    import xgboost as xgb

    text = "1 0:0.5 3:2.25\n0 2:1.5 # a comment\n\n1 1:-3 4:1e-3\n"
    path = write(tmp_path, "a.libsvm", text)
    ds = read(tmp_path, "text/libsvm")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = xgb.DMatrix(f"{path}?format=libsvm")
    assert ds.y.tolist() == reference.get_label().tolist()
    assert np.array_equal(ds.X.toarray(), reference.get_data().toarray())


def test_libsvm_with_unsorted_indices_matches_xgboosts_own_parser(tmp_path: Path) -> None:
    """libsvm does not promise sorted indices (this read crashed in scipy's sum_duplicates on them)."""
    import warnings

    import xgboost as xgb

    path = write(tmp_path, "a.libsvm", "1 3:2.25 0:0.5\n0 4:1 2:1.5 1:7\n")
    ds = read(tmp_path, "text/libsvm")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = xgb.DMatrix(f"{path}?format=libsvm")
    assert np.array_equal(ds.X.toarray(), reference.get_data().toarray())
    assert ds.X.has_sorted_indices


def test_libsvm_feature_given_twice_in_a_line_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "a.libsvm", "1 0:0.5 2:1\n0 2:1 1:3 2:4\n1 2:1\n")  # 2 twice in line 2 (not across lines)
    with pytest.raises(UserError, match=r"train/a.libsvm: line 2: feature index 2 is given twice"):
        read(tmp_path, "text/libsvm")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1 0:0.5\n\n# a comment\n0 2:x\n", "line 4: feature value 'x' is not a number"),
        ("# header\n1 0:0.5\n\n0 2:1 7\n", "line 4: '7' is not index:value"),
        ("\n\nx 0:1\n", "line 3: label 'x' is not a number"),
        ("# c\r\n1 0:1 0:2\r\n", "line 2: feature index 0 is given twice"),
    ],
)
def test_libsvm_messages_give_the_files_own_line_number(tmp_path: Path, text: str, message: str) -> None:
    """Blank and comment lines count: the number is the one an editor shows, not the record's."""
    write(tmp_path, "a.libsvm", text)
    with pytest.raises(UserError, match=f"train/a.libsvm: {re.escape(message)}"):
        read(tmp_path, "text/libsvm")


def test_libsvm_bad_token_names_line(tmp_path: Path) -> None:
    write(tmp_path, "a.libsvm", "1 0:0.5\n0 2:x\n")
    with pytest.raises(UserError, match=r"train/a.libsvm: line 2: feature value 'x' is not a number"):
        read(tmp_path, "text/libsvm")


def test_libsvm_token_without_colon_names_line(tmp_path: Path) -> None:
    write(tmp_path, "a.libsvm", "1 0:0.5\n0 2:1 7\n")
    with pytest.raises(UserError, match=r"line 2: '7' is not index:value"):
        read(tmp_path, "libsvm")


def test_libsvm_request_wider_than_model_is_rejected() -> None:
    with pytest.raises(UserError, match="feature index 5 is out of range for 3 features"):
        parse_libsvm(b"1 5:1\n", name="body", n_features=3)


def test_parquet_label_first(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"label": [1, 0], "age": [30.0, 40.0], "hours": [40, 50]}), tmp_path / "a.parquet")
    ds = read(tmp_path, "application/x-parquet")
    assert ds.y.tolist() == [1, 0] and ds.feature_names == ["age", "hours"]


def test_parquet_with_text_column_is_rejected(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"label": [1], "name": ["x"]}), tmp_path / "a.parquet")
    with pytest.raises(UserError, match="column 'name' has type string; every column must be numeric"):
        read(tmp_path, "application/x-parquet")


def test_content_type_from_extension_when_undeclared(tmp_path: Path) -> None:
    write(tmp_path, "a.libsvm", "1 0:1\n")
    assert read(tmp_path, None).X.shape == (1, 1)


@pytest.mark.parametrize(
    ("value", "kind"),
    [("text/csv", "text/csv"), ("csv", "text/csv"), ("text/csv; label_size=1", "text/csv"), ("libsvm", "text/libsvm")],
)
def test_accepted_content_types(value: str, kind: str) -> None:
    assert parse_content_type(value, where="x").kind == kind


def test_recordio_is_rejected_clearly() -> None:
    with pytest.raises(UserError, match="'application/x-recordio-protobuf' is not supported; use text/csv"):
        parse_content_type("application/x-recordio-protobuf", where="channel 'train'")


def test_pipe_mode_is_rejected(tmp_path: Path) -> None:
    write(tmp_path, "a.csv", "1,2\n")
    with pytest.raises(UserError, match="Pipe input mode is not supported"):
        read_channel(Channel("train", "text/csv", input_mode="Pipe"), tmp_path)


@pytest.mark.parametrize(
    ("objective", "labels", "message"),
    [
        ("binary:logistic", "1\n2\n", "label 2 must be 0 or 1"),
        ("multi:softmax", "0\n3\n", "label 3 must be a whole number in 0..2"),
        ("reg:gamma", "1\n0\n", "label 0 must be > 0"),
        ("count:poisson", "1\n-1\n", "label -1 must be >= 0"),
    ],
)
def test_labels_must_fit_the_objective(tmp_path: Path, objective: str, labels: str, message: str) -> None:
    write(tmp_path, "a.csv", "".join(f"{label},1\n" for label in labels.split()))
    ds = read(tmp_path)
    with pytest.raises(UserError, match=f"train/a.csv line 2: {message}"):
        check_labels(ds, objective, 3, channel="train")


def test_parse_csv_reads_request_bodies() -> None:
    matrix, names, had_header = parse_csv(b"1,2\n3,4\n", name="body")
    assert matrix.tolist() == [[1, 2], [3, 4]] and names is None and not had_header
