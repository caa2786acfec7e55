"""The JSON readers: orjson first, Python's json for what orjson refuses — the same rows or the same 400
either way; a body nested too deep is a 400, and a long value is quoted clipped."""

from __future__ import annotations

import json
import math

import numpy as np
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xgboost_byoc.errors import HttpError
from xgboost_byoc.serving import codecs
from xgboost_byoc.serving.app import create_app
from xgboost_byoc.serving.settings import Settings

WIDTH = 3

scalar = st.one_of(
    st.floats(),  # NaN and infinities: Python's json writes NaN / Infinity, which orjson refuses
    st.integers(-(10**25), 10**25),  # beyond 64 bits: orjson refuses them, Python's json reads them
    st.booleans(),
    st.none(),
    st.text(max_size=6),  # lone surrogates included
    st.sampled_from(["1.5", "1_000", "nan", "١"]),
)
document = st.recursive(
    scalar,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=20,
)
rows = st.lists(st.lists(scalar, min_size=WIDTH, max_size=WIDTH), min_size=1, max_size=4)
bodies = st.one_of(
    rows.map(lambda r: json.dumps(r).encode()),
    rows.map(lambda r: json.dumps({"instances": r}).encode()),
    rows.map(lambda r: json.dumps({"instances": [{"features": x} for x in r]}).encode()),
    rows.map(lambda r: ("\n".join(json.dumps(x) for x in r) + "\n").encode()),
    document.map(lambda d: json.dumps(d).encode()),
    document.map(lambda d: json.dumps(d).encode("utf-16")),
    st.binary(max_size=40),
)


def read(decoder: codecs.Decoder, body: bytes) -> np.ndarray | str:
    try:
        return decoder(body, WIDTH)
    except HttpError as exc:
        assert exc.status == 400
        return exc.message


def without_orjson(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(_: bytes) -> None:
        raise orjson.JSONDecodeError("refused for the test", "", 0)

    monkeypatch.setattr(codecs.orjson, "loads", refuse)


@settings(max_examples=400, deadline=None)
@given(body=bodies, decoder=st.sampled_from([codecs.decode_json, codecs.decode_jsonlines]))
def test_a_body_reads_the_same_with_orjson_as_with_pythons_json_alone(body: bytes, decoder: codecs.Decoder) -> None:
    fast = read(decoder, body)
    with pytest.MonkeyPatch.context() as monkeypatch:
        without_orjson(monkeypatch)
        slow = read(decoder, body)
    if isinstance(fast, str) or isinstance(slow, str):
        assert fast == slow, body
    else:
        assert fast.dtype == slow.dtype == np.float32 and np.array_equal(fast, slow, equal_nan=True), body


def test_orjson_reads_a_plain_body() -> None:
    """The fast path is taken, not just correct when skipped: with orjson alone, a plain body still reads."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(codecs.json, "loads", lambda *_: pytest.fail("Python's json was asked"))
        assert codecs.decode_json(b'{"instances": [[1, 2.5, -3e2]]}', WIDTH).tolist() == [[1, 2.5, -300]]


def test_nan_and_infinity_tokens_still_read_as_python_json_reads_them() -> None:
    X = codecs.decode_json(b"[[NaN, 1, 2]]", WIDTH)
    assert math.isnan(X[0, 0]) and X[0, 1:].tolist() == [1, 2]
    with pytest.raises(HttpError, match="row 1, column 2 is infinite"):
        codecs.decode_json(b"[[1, Infinity, 2]]", WIDTH)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory):
    import xgboost as xgb

    from xgboost_byoc.artifacts import Model
    from xgboost_byoc.serving.predictor import Predictor

    X = np.random.default_rng(0).random((100, WIDTH)).astype(np.float32)
    booster = xgb.train({"objective": "binary:logistic"}, xgb.DMatrix(X, label=X[:, 0] > 0.5), 3)
    predictor = Predictor(Model([booster], {"objective": "binary:logistic"}))
    return create_app(predictor, Settings(model_dir=tmp_path_factory.mktemp("m"), workers=1)).test_client()


@pytest.mark.parametrize("depth", [40, 990, 1020, 5000])
@pytest.mark.parametrize("content_type", ["application/json", "application/jsonlines"])
@pytest.mark.parametrize("where", ["whole", "in a cell"])
def test_a_deeply_nested_body_is_a_400_not_a_server_error(client, depth: int, content_type: str, where: str) -> None:
    nested = b"[" * depth + b"]" * depth
    body = nested if where == "whole" else b"[1, " + nested + b", 2]"
    response = client.post("/invocations", data=body, headers={"Content-Type": content_type})
    assert response.status_code == 400, response.get_data()[:300]
    message = response.get_json()["error"]
    assert len(message) < 200 and "\n" not in message


def test_a_long_value_is_quoted_clipped_with_its_length() -> None:
    body = json.dumps([[1, "x" * 100_000, 2]]).encode()
    with pytest.raises(HttpError) as caught:
        codecs.decode_json(body, WIDTH)
    assert caught.value.message == f'row 1, column 2: "{"x" * 60}"… (100,000 characters) is not a number'


def test_a_long_libsvm_token_is_quoted_clipped() -> None:
    with pytest.raises(HttpError, match=r"feature value 'x{60}'… \(10,000 characters\) is not a number$"):
        codecs.decode_libsvm(b"0 1:" + b"x" * 10_000 + b"\n", WIDTH)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("abc", "'abc'"),
        ("a" * 60, repr("a" * 60)),
        ("a" * 61, repr("a" * 60) + "… (61 characters)"),
        ([1] * 30, "[" + "1, " * 19 + "1,… (90 characters)"),  # not a text: its quoted form is clipped
    ],
)
def test_a_quoted_value_is_whole_when_short_and_clipped_with_its_length_when_long(value: object, shown: str) -> None:
    from xgboost_byoc.errors import quoted

    assert quoted(value) == shown
