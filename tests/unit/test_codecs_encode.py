"""The encoders: one line (or record) per row, and every value reads back as exactly the number predicted."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from xgboost_byoc.serving import codecs

shapes = st.one_of(
    hnp.array_shapes(min_dims=1, max_dims=1, min_side=1, max_side=40),
    hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=12),
    hnp.array_shapes(min_dims=3, max_dims=3, min_side=1, max_side=4),  # multiclass contributions
)
predictions = st.one_of(
    hnp.arrays(np.float32, shapes, elements=st.floats(width=32)),  # NaN, infinities and subnormals included
    hnp.arrays(np.float64, shapes, elements=st.floats(allow_nan=False, allow_infinity=False)),
    hnp.arrays(np.int32, shapes),
)


def read_back(text: bytes, dtype: np.dtype) -> np.ndarray:
    return np.loadtxt(io.BytesIO(text), delimiter=",", dtype=dtype, ndmin=2, comments=None)


@settings(max_examples=300, deadline=None)
@given(values=predictions)
def test_csv_answer_is_a_line_per_row_and_reads_back_to_the_same_numbers(values: np.ndarray) -> None:
    text = codecs.encode_csv(values, "probability")
    rows = values.reshape(values.shape[0], -1)
    assert text.endswith(b"\n") and text.count(b"\n") == rows.shape[0]
    assert np.array_equal(read_back(text, values.dtype), rows, equal_nan=True)


@settings(max_examples=300, deadline=None)
@given(values=predictions, output=st.sampled_from(["probability", "probabilities", "contributions"]))
def test_json_answers_hold_a_record_per_row_that_reads_back_to_the_same_numbers(
    values: np.ndarray, output: str
) -> None:
    key = codecs.JSON_KEYS.get(output, output)
    document = json.loads(codecs.encode_json(values, output))
    assert list(document) == ["predictions"]
    lines = codecs.encode_jsonlines(values, output)
    assert lines.endswith(b"\n") and lines.count(b"\n") == values.shape[0]
    for records in (document["predictions"], [json.loads(line) for line in lines.splitlines()]):
        assert all(list(r) == [key] for r in records)
        assert np.array_equal(np.array([r[key] for r in records], values.dtype), values, equal_nan=True)


@pytest.mark.parametrize(
    ("values", "text"),
    [
        (np.array([0.1, 0.5, 1.0], np.float32), b"0.1\n0.5\n1.0\n"),  # float32's shortest, not 0.100000001
        (np.array([[0.25, 0.75], [1.0, 0.0]], np.float32), b"0.25,0.75\n1.0,0.0\n"),
        (np.array([[0.5]], np.float32), b"0.5\n"),
        (np.array([1, 0, 1], np.int32), b"1\n0\n1\n"),
        (np.array([np.nan, 0.5, np.inf, -np.inf], np.float32), b"nan\n0.5\ninf\n-inf\n"),
        (np.array([0.1], np.float64), b"0.1\n"),
    ],
)
def test_csv_answer_text(values: np.ndarray, text: bytes) -> None:
    assert codecs.encode_csv(values, "probability") == text


def test_csv_answer_of_a_non_contiguous_array_is_its_rows_in_order() -> None:
    values = np.arange(24, dtype=np.float32).reshape(4, 6)[:, ::2] / 8
    assert codecs.encode_csv(values, "contributions") == b"".join(
        (",".join(repr(float(v)) for v in row) + "\n").encode() for row in values
    )


def test_csv_answer_takes_the_formatting_fallback_for_what_orjson_does_not_write() -> None:
    assert codecs.encode_csv(np.array([0.5, 1.0], np.float16), "prediction") == b"0.5\n1\n"
    assert codecs.encode_csv(np.array([True, False]), "predicted_label") == b"1\n0\n"


@pytest.mark.parametrize(
    ("values", "output", "text"),
    [
        (np.array([0.1, 0.5], np.float32), "probability", b'{"predictions":[{"score":0.1},{"score":0.5}]}'),
        (
            np.array([1, 0], np.int32),
            "predicted_label",
            b'{"predictions":[{"predicted_label":1},{"predicted_label":0}]}',
        ),
        (
            np.array([np.nan, 1.0], np.float32),
            "raw_score",
            b'{"predictions": [{"raw_score": NaN}, {"raw_score": 1.0}]}',
        ),
    ],
)
def test_json_answer_text(values: np.ndarray, output: str, text: bytes) -> None:
    assert codecs.encode_json(values, output) == text


def test_json_lines_answer_splits_records_not_the_lists_inside_them() -> None:
    values = np.array([[0.25, 0.75], [1.0, 0.0]], np.float32)
    assert (
        codecs.encode_jsonlines(values, "probabilities")
        == b'{"probabilities":[0.25,0.75]}\n{"probabilities":[1.0,0.0]}\n'
    )
