"""Hypothesis over the codecs and the Flask app in-process: random bytes and shapes never produce a 5xx
or a 200 whose number of output lines differs from the number of rows sent."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xgboost_byoc.artifacts import Model
from xgboost_byoc.serving.app import create_app
from xgboost_byoc.serving.codecs import DECODERS
from xgboost_byoc.serving.predictor import Predictor
from xgboost_byoc.serving.settings import Settings

N_FEATURES = 4


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory):
    rng = np.random.default_rng(0)
    X = rng.random((200, N_FEATURES)).astype(np.float32)
    booster = xgb.train({"objective": "binary:logistic"}, xgb.DMatrix(X, label=(X[:, 0] > 0.5)), 5)
    predictor = Predictor(Model([booster], {"objective": "binary:logistic", "num_features": N_FEATURES}))
    app = create_app(predictor, Settings(model_dir=tmp_path_factory.mktemp("m"), max_payload_mb=0.01, workers=1))
    return app.test_client()


def post(client, body: bytes, content_type: str, output: str = "probability"):
    return client.post(
        "/invocations",
        data=body,
        headers={"Content-Type": content_type, "X-Amzn-SageMaker-Custom-Attributes": f"output={output}"},
    )


def lines_of(response) -> int:
    return len(response.get_data().decode().splitlines())


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(body=st.binary(max_size=300), content_type=st.sampled_from([*DECODERS, "text/plain"]))
def test_random_bytes_never_give_a_server_error(client, body: bytes, content_type: str) -> None:
    response = post(client, body, content_type)
    assert response.status_code < 500, response.get_data()
    if response.status_code == 200:
        rows = DECODERS[content_type](body, N_FEATURES).shape[0]
        assert lines_of(response) == rows
    else:
        assert set(json.loads(response.get_data())) == {"error"}


cells = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=32),
    st.integers(-(10**6), 10**6).map(float),
)
matrices = st.integers(1, 6).flatmap(
    lambda rows: st.integers(0, 7).flatmap(
        lambda cols: st.lists(st.lists(cells, min_size=cols, max_size=cols), min_size=rows, max_size=rows)
    )
)


def encode(rows: list[list[float]], content_type: str) -> bytes:
    if content_type == "text/csv":
        return "\n".join(",".join("" if np.isnan(v) else repr(v) for v in row) for row in rows).encode()
    if content_type == "application/json":
        return json.dumps({"instances": [[None if np.isnan(v) else v for v in row] for row in rows]}).encode()
    if content_type == "application/jsonlines":
        return "\n".join(json.dumps([None if np.isnan(v) else v for v in row]) for row in rows).encode()
    buffer = io.BytesIO()
    np.save(buffer, np.array(rows, dtype=np.float32).reshape(len(rows), -1))
    return buffer.getvalue()


@FUZZ
@given(
    rows=matrices,
    content_type=st.sampled_from(["text/csv", "application/json", "application/jsonlines", "application/x-npy"]),
    output=st.sampled_from(["probability", "predicted_label", "probabilities", "raw_score", "contributions"]),
)
def test_shapes_give_200_exactly_when_valid(client, rows: list[list[float]], content_type: str, output: str) -> None:
    response = post(client, encode(rows, content_type), content_type, output)
    width = len(rows[0])
    has_inf = any(np.isinf(v) for row in rows for v in row)
    if width == N_FEATURES and not has_inf:
        assert response.status_code == 200, response.get_data()
        assert lines_of(response) == len(rows)
    else:
        assert response.status_code == 400, response.get_data()


libsvm_pair = st.tuples(st.integers(0, N_FEATURES + 1), cells).map(lambda p: f"{p[0]}:{p[1]!r}")
libsvm_line = st.tuples(
    st.sampled_from(["0", "1", "x"]),
    st.lists(libsvm_pair, max_size=N_FEATURES + 2),  # indices in any order, some repeated or beyond the model
    st.sampled_from(["", " # a comment"]),
).map(lambda parts: " ".join([parts[0], *parts[1]]) + parts[2])
libsvm_bodies = st.tuples(
    st.lists(st.one_of(libsvm_line, st.sampled_from(["", "# only a comment"])), min_size=1, max_size=6),
    st.sampled_from(["\n", "\r\n"]),
).map(lambda parts: (parts[1].join(parts[0]) + parts[1]).encode())


@FUZZ
@given(body=libsvm_bodies)
def test_libsvm_bodies_never_give_a_server_error_and_answer_a_line_per_line(client, body: bytes) -> None:
    """Lines shaped like libsvm (random bytes seldom are): unsorted, repeated or out-of-range indices, bad
    labels, comments and blank lines give a 400 or one answer per line, never a 5xx."""
    response = post(client, body, "text/libsvm")
    assert response.status_code in (200, 400), response.get_data()
    if response.status_code == 200:
        assert lines_of(response) == body.count(b"\n")
    else:
        assert set(json.loads(response.get_data())) == {"error"}


def test_every_decoder_is_fuzzed() -> None:
    assert set(DECODERS) <= {
        "text/csv",
        "application/json",
        "application/jsonlines",
        "text/libsvm",
        "application/x-npy",
    }


def test_settings_payload_limit_gives_json_413(client) -> None:
    response = post(client, b"1,2,3,4\n" * 5000, "text/csv")
    assert response.status_code == 413 and "larger than" in json.loads(response.get_data())["error"]


def test_model_dir_fixture_is_unused_by_in_process_app(tmp_path: Path) -> None:
    assert Settings(model_dir=tmp_path).max_payload_bytes == 6 * 1024 * 1024


@pytest.mark.parametrize(
    ("body", "line"),
    [
        (b"1,2\n\n3,4\n", 2),
        (b"\n1,2\n", 1),
        (b"1,2\n3,4\n\n", 3),
        (b"1,2\r\n \r\n3\r\n", 2),
        (b"  \n1\n", 1),
        (b"1\n\t", 2),
    ],
)
def test_blank_lines_are_found_and_numbered(body: bytes, line: int) -> None:
    from xgboost_byoc.errors import HttpError
    from xgboost_byoc.serving.codecs import decode_csv

    with pytest.raises(HttpError, match=f"line {line} is blank"):
        decode_csv(body, 2)


@pytest.mark.parametrize("body", [b"1,2\n3,4\n", b"1,2\n3,4", b"1,2\r\n3,4\r\n"])
def test_bodies_without_blank_lines_pass(body: bytes) -> None:
    from xgboost_byoc.serving.codecs import decode_csv

    assert decode_csv(body, 2).shape == (2, 2)


LONE_CR = [
    ("text/csv", b"1,2\r3,4\n", 1),
    ("text/csv", b"1,2\n" * 2000 + b"1,2\r3,4\n", 2001),  # the pyarrow reader's size, which ends a row there
    ("text/csv", b"1,2\r\n3,4\r", 2),
    ("application/jsonlines", b"[1, 2]\n[3, 4]\r[5, 6]\n", 2),
    ("text/libsvm", b"0 0:1\r0 1:2\n", 1),
]


@pytest.mark.parametrize(("content_type", "body", "line"), LONE_CR, ids=[f"{c} line {n}" for c, _, n in LONE_CR])
def test_a_carriage_return_that_ends_no_line_is_refused(content_type: str, body: bytes, line: int) -> None:
    """Python's splitlines and pyarrow end a row at a lone "\r", SageMaker's batch transform (which splits
    on "\n") does not: answering two rows for its one line would shift every output line after it."""
    from xgboost_byoc.errors import HttpError

    with pytest.raises(HttpError) as caught:
        DECODERS[content_type](body, 2)
    assert caught.value.message == (
        f"line {line} holds a carriage return (\\r) that ends no line: end lines with \\n or \\r\\n"
    )


@pytest.mark.parametrize(
    "body", [b'"1\n",2\n3,4\n', b'"1\n",2\n' + b"3,4\n" * 3000], ids=["numpy-sized", "pyarrow-sized"]
)
def test_a_quoted_line_break_is_refused_not_read_as_one_row_of_two_lines(body: bytes) -> None:
    """numpy reads '"1<newline>",2' as one row; batch transform counts two lines, and one answer short
    shifts every output line after it."""
    from xgboost_byoc.errors import HttpError
    from xgboost_byoc.serving.codecs import decode_csv

    lines = body.count(b"\n")
    with pytest.raises(HttpError) as caught:
        decode_csv(body, 2)
    assert caught.value.message == (
        f"the body has {lines} lines but {lines - 1} rows: a quoted value holds a line break; send one record per line"
    )
    assert decode_csv(b'"1",2\n3,4\n', 2).tolist() == [[1, 2], [3, 4]]  # quotes on one line are fine


def test_a_libsvm_line_of_only_a_comment_is_refused_not_skipped() -> None:
    """Training skips it; a served body that did would answer one line short of what batch transform sent."""
    from xgboost_byoc.errors import HttpError

    with pytest.raises(HttpError) as caught:
        DECODERS["text/libsvm"](b"0 0:1\n# no record here\n0 1:2\n", 2)
    assert caught.value.message == (
        "the body has 3 lines but 2 records: a line holds only a comment; send one record per line"
    )
    assert DECODERS["text/libsvm"](b"0 0:1 # a comment after a record\n0 1:2\n", 2).shape == (2, 2)


def test_a_libsvm_feature_given_twice_is_a_400_and_unsorted_indices_read() -> None:
    from xgboost_byoc.errors import HttpError

    with pytest.raises(HttpError) as caught:
        DECODERS["text/libsvm"](b"0 1:1 0:2 1:3\n", 2)
    assert caught.value.status == 400
    assert caught.value.message == "the libsvm body: line 1: feature index 1 is given twice"
    assert DECODERS["text/libsvm"](b"0 1:1 0:2\n", 2).toarray().tolist() == [[2, 1]]


@pytest.mark.parametrize("content_type", ["text/csv", "application/jsonlines", "text/libsvm"])
def test_crlf_line_endings_are_lines(content_type: str) -> None:
    rows = {"text/csv": b"1,2\r\n3,4\r\n", "application/jsonlines": b"[1, 2]\r\n[3, 4]\r\n"}
    body = rows.get(content_type, b"0 0:1 1:2\r\n0 0:3 1:4\r\n")
    assert DECODERS[content_type](body, 2).shape == (2, 2)


BOOLEAN = r"row \d, column \d: (true|false) is not a number \(send 1 or 0\)"
NESTED = r"(each row must be a flat list of numbers, not a list of lists|each JSON line must be one row)"


@pytest.mark.parametrize(
    ("content_type", "body", "message"),
    [
        # a boolean: numpy.array alone reads true as 1.0, and refused it only beside a bad cell
        ("application/json", b"[[true, 1, 2, 3]]", BOOLEAN),
        ("application/json", b'[[true, "x", 2, 3]]', BOOLEAN),
        ("application/json", b'{"instances": [{"features": [1, 2, 3, false]}]}', BOOLEAN),
        ("application/jsonlines", b"[1, 2, 3, 4]\n[true, 1, 2, 3]\n", BOOLEAN),
        ("application/jsonlines", b'{"features": [1, 2, 3, false]}\n', BOOLEAN),
        # rows of lists: numpy reads [[[1, 2, 3, 4]]] as a 1x1x4 cube (it was answered "no rows")
        ("application/json", b"[[[1, 2, 3, 4]]]", NESTED),
        ("application/json", b'{"instances": [[[1, 2, 3, 4]], [[5, 6, 7, 8]]]}', NESTED),
        ("application/jsonlines", b"[[1, 2, 3, 4]]\n", NESTED),
    ],
)
def test_json_cells_that_are_not_numbers_are_refused_saying_what_they_are(
    content_type: str, body: bytes, message: str
) -> None:
    from xgboost_byoc.errors import HttpError

    with pytest.raises(HttpError, match=message):
        DECODERS[content_type](body, N_FEATURES)


def test_true_outside_the_rows_changes_nothing() -> None:
    from xgboost_byoc.serving.codecs import decode_json

    X = decode_json(b'{"instances": [[1, 2, 3, 4.5]], "note": "true"}', N_FEATURES)
    assert X.dtype == np.float32 and X.tolist() == [[1, 2, 3, 4.5]]
