"""The CSV decoder's two readers — pyarrow for large bodies, numpy.loadtxt for small ones and for every
body pyarrow does not read as the model's width of numbers — give the same matrix, or the same 400."""

from __future__ import annotations

import io
import json

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xgboost_byoc.errors import HttpError
from xgboost_byoc.serving import codecs

WIDTH = 3

cell = st.one_of(
    st.floats(width=32).map(lambda v: f"{v:.9g}"),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.integers(-(10**12), 10**12).map(str),
    st.sampled_from(["", "nan", "NaN", "inf", "-inf", "Infinity", " 1", "2 ", '"1.5"', '""', "+1", ".5", "5.", "1e5"]),
    st.sampled_from(["NA", "null", "abc", "1_0", "0x10", "1d5", "1,5", '"', "\ufeff1", "١", "\t3", "--1"]),
)
row = st.lists(cell, min_size=1, max_size=WIDTH + 1).map(",".join)
body = st.tuples(st.lists(row, min_size=1, max_size=8), st.sampled_from(["\n", "\r\n"]), st.booleans()).map(
    lambda parts: (parts[1].join(parts[0]) + (parts[1] if parts[2] else "")).encode()
)


def decode(data: bytes, min_bytes: int, monkeypatch: pytest.MonkeyPatch) -> np.ndarray | str:
    """decode_csv's answer with pyarrow tried from ``min_bytes`` on: the matrix, or the 400's message."""
    monkeypatch.setattr(codecs, "ARROW_MIN_BYTES", min_bytes)
    try:
        return codecs.decode_csv(data, WIDTH)
    except HttpError as exc:
        assert exc.status == 400
        return exc.message


def same(a: np.ndarray | str, b: np.ndarray | str) -> bool:
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=True)


@settings(max_examples=400, deadline=None)
@given(data=st.one_of(body, st.binary(max_size=120)))
def test_pyarrow_and_loadtxt_answer_every_body_alike(data: bytes) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        by_arrow = decode(data, 0, monkeypatch)
        by_numpy = decode(data, 1 << 30, monkeypatch)
    assert same(by_arrow, by_numpy), (data, by_arrow, by_numpy)


@settings(max_examples=200, deadline=None)
@given(data=body)
def test_a_body_pyarrow_reads_is_one_loadtxt_reads_identically(data: bytes) -> None:
    data = data.removeprefix(codecs.UTF8_BOM)  # as decode_csv hands bodies on (pyarrow skips a BOM, numpy not)
    X = codecs.read_csv_arrow(data, WIDTH)
    if X is not None:
        assert same(X, codecs.read_csv_numpy(data))


@pytest.fixture(scope="module")
def large_body() -> tuple[bytes, np.ndarray]:
    """1000 rows of 13 features, some cells empty (missing): over ARROW_MIN_BYTES."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(1000, 13)).astype(np.float32) * 1000
    lines = [",".join("" if (i + j) % 97 == 0 else f"{v:.9g}" for j, v in enumerate(row)) for i, row in enumerate(X)]
    data = ("\n".join(lines) + "\n").encode()
    assert len(data) >= codecs.ARROW_MIN_BYTES
    expected = X.copy()
    expected[np.add.outer(np.arange(1000), np.arange(13)) % 97 == 0] = np.nan
    return data, expected


def test_a_large_body_is_read_by_pyarrow_to_the_exact_float32_values(large_body: tuple[bytes, np.ndarray]) -> None:
    data, expected = large_body
    X = codecs.read_csv_arrow(data, 13)
    assert X is not None and X.dtype == np.float32 and X.flags.c_contiguous
    assert np.array_equal(X, expected, equal_nan=True)
    assert np.array_equal(codecs.decode_csv(data, 13), expected, equal_nan=True)


def test_a_body_of_several_pyarrow_blocks_is_read_whole_and_in_order(
    large_body: tuple[bytes, np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    """pyarrow hands a body over in blocks (1 MB each in the server); 4 KB blocks here make ~30 of them."""
    small_blocks = pacsv.ReadOptions(autogenerate_column_names=True, use_threads=False, block_size=4096)
    monkeypatch.setattr(codecs, "_ARROW_READ", small_blocks)
    data, expected = large_body
    assert len(list(pacsv.open_csv(pa.py_buffer(data), read_options=small_blocks))) > 10
    X = codecs.read_csv_arrow(data, 13)
    assert X is not None and X.dtype == np.float32 and X.flags.c_contiguous
    assert np.array_equal(X, expected, equal_nan=True)
    lines = data.decode().splitlines()
    lines[900] = "abc" + lines[900][lines[900].index(",") :]  # a bad cell in a late block: the located 400
    with pytest.raises(HttpError, match=r"line 901, column 1: 'abc' is not a number"):
        codecs.decode_csv(("\n".join(lines) + "\n").encode(), 13)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda lines: [*lines[:500], lines[500] + ",1", *lines[501:]], "line 501 has 14 values but line 1 has 13"),
        (lambda lines: [*lines[:700], "abc" + lines[700][lines[700].index(",") :], *lines[701:]], "line 701, column 1"),
        (lambda lines: [",".join(f"c{i}" for i in range(13)), *lines], "line 1, column 1: 'c0' is not a number"),
        (
            lambda lines: [line + ",0" for line in lines],
            "each row needs 13 features (no label column); this request has 14",
        ),
        (
            lambda lines: [line[: line.rindex(",")] for line in lines],
            "each row needs 13 features (no label column); this request has 12",
        ),
        (
            lambda lines: [*lines[:9], "inf" + lines[9][lines[9].index(",") :], *lines[10:]],
            "row 10, column 1 is infinite",
        ),
        (lambda lines: [*lines[:299], "", *lines[299:]], "line 300 is blank"),
        (lambda lines: [*lines[:299], " \t", *lines[299:]], "line 300 is blank"),
        (lambda lines: [*lines[:299], "\r", *lines[299:]], "line 300 is blank"),
        (lambda lines: [*lines, ""], "line 1001 is blank"),
        (lambda lines: ["", *lines], "line 1 is blank"),
    ],
)
def test_a_large_bad_body_gets_the_same_located_error_as_a_small_one(
    large_body: tuple[bytes, np.ndarray], change, message: str
) -> None:
    lines = change(large_body[0].decode().splitlines())
    data = ("\n".join(lines) + "\n").encode()
    with pytest.raises(HttpError, match=message.replace("(", r"\(").replace(")", r"\)")) as caught:
        codecs.decode_csv(data, 13)
    assert caught.value.status == 400


@pytest.mark.parametrize(
    ("cell", "shown"),
    [
        ("\u20131", "'\u20131'"),
        ("\uff11", "'\uff11'"),
        ("\u0661", "'\u0661'"),
        (b"\xff1", "'\\\\xff1'"),
        ("it's", '"it\'s"'),
    ],
    ids=["en dash minus", "full-width digit", "arabic-indic digit", "not UTF-8", "a quote in it"],
)
def test_a_non_ascii_cell_is_named_as_it_was_sent(cell: str | bytes, shown: str) -> None:
    raw = cell if isinstance(cell, bytes) else cell.encode()
    for body in (raw + b",2,3\n", (raw + b",2,3\n") * 2000):  # numpy's reader, and pyarrow's then numpy's
        with pytest.raises(HttpError) as caught:
            codecs.decode_csv(body, 3)
        assert caught.value.message == f"line 1, column 1: {shown} is not a number"


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_a_large_body_with_a_row_for_every_line_skips_the_blank_line_scan(
    large_body: tuple[bytes, np.ndarray], newline: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(body: bytes) -> None:
        raise AssertionError("scanned for blank lines although pyarrow read a row for every line")

    monkeypatch.setattr(codecs, "_check_blank_lines", refuse)
    data, expected = large_body
    data = data.replace(b"\n", newline.encode())
    assert np.array_equal(codecs.decode_csv(data, 13), expected, equal_nan=True)
    assert np.array_equal(codecs.decode_csv(data.removesuffix(newline.encode()), 13), expected, equal_nan=True)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        # CRLF lines, one of them blank: pyarrow skips it, so its rows are one short of the lines
        (lambda lines: "\r\n".join([*lines[:299], "", *lines[299:]]) + "\r\n", "line 300 is blank"),
        # a lone "\r" ends a row for pyarrow but no line: with a blank line too, rows and "\n" lines are
        # equal in number, so a lone "\r" sends the body to the scan
        (lambda lines: lines[0] + "\r" + "\n".join([*lines[1:500], "", *lines[500:]]) + "\n", "line 500 is blank"),
    ],
)
def test_a_blank_line_pyarrow_skipped_is_found_whatever_ends_the_lines(
    large_body: tuple[bytes, np.ndarray], build, message: str
) -> None:
    data = build(large_body[0].decode().splitlines()).encode()
    with pytest.raises(HttpError, match=message):
        codecs.decode_csv(data, 13)


def test_loadtxt_is_the_reader_of_small_bodies(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object) -> None:
        raise AssertionError("pyarrow was asked to read a small body")

    monkeypatch.setattr(codecs, "read_csv_arrow", refuse)
    assert codecs.decode_csv(b"1,2,3\n", 3).tolist() == [[1.0, 2.0, 3.0]]
    np.testing.assert_array_equal(
        codecs.decode_csv(b"1,,3\n4,5,6", 3), np.loadtxt(io.StringIO("1,nan,3\n4,5,6"), delimiter=",", ndmin=2)
    )


def test_a_leading_utf8_bom_is_skipped_by_both_readers(monkeypatch: pytest.MonkeyPatch) -> None:
    for min_bytes in (0, 1 << 30):
        assert decode(b"\xef\xbb\xbf1,2,3\n4,5,6\n", min_bytes, monkeypatch).tolist() == [[1, 2, 3], [4, 5, 6]]  # type: ignore[union-attr]
        assert (
            decode(b"\xef\xbb\xbf\n1,2,3\n", min_bytes, monkeypatch)
            == "line 1 is blank: send one record per line, with no blank lines"
        )


@pytest.mark.parametrize(("where", "line"), [(0, 1), (400, 401), (2000, 2001)])
def test_a_blank_line_is_refused_for_a_one_feature_model_too(where: int, line: int) -> None:
    """With one feature a blank line would read as one missing value: it is refused, as for every model."""
    lines = [f"{v:.9g}" for v in np.random.default_rng(5).normal(size=2000)]
    lines.insert(where, "")
    data = ("\n".join(lines) + "\n").encode()
    assert len(data) >= codecs.ARROW_MIN_BYTES
    with pytest.raises(HttpError, match=f"line {line} is blank"):
        codecs.decode_csv(data, 1)
    assert codecs.decode_csv(data.replace(b"\n\n", b"\n").removeprefix(b"\n"), 1).shape == (2000, 1)


json_text = st.one_of(
    cell.filter(lambda c: c.strip() != "" and '"' not in c and "," not in c and "\ufeff" not in c),
    st.text(alphabet="0123456789+-.eE_ \tnaifNAIF\u0661\uff11", min_size=1, max_size=7).filter(str.strip),
)


@settings(max_examples=300, deadline=None)
@given(text=json_text)
def test_a_json_string_cell_is_read_as_the_csv_readers_read_the_same_text(text: str) -> None:
    """The same row, sent as CSV or as JSON with a string cell, gives the same value or a refusal in both
    (Python's float would read "1_000" as 1000 and "١" as 1, which the CSV readers refuse)."""
    answers = []
    for decode_body in (
        lambda: codecs.decode_csv(f"{text},1,2\n".encode(), WIDTH),
        lambda: codecs.decode_json(json.dumps([[text, 1, 2]]).encode(), WIDTH),
        lambda: codecs.decode_jsonlines(json.dumps({"features": [text, 1, 2]}).encode(), WIDTH),
    ):
        try:
            answers.append(decode_body())
        except HttpError as exc:
            assert exc.status == 400
            answers.append(None)
    csv_answer = answers[0]
    for other in answers[1:]:
        assert (csv_answer is None) == (other is None), (text, answers)
        if csv_answer is not None:
            assert np.array_equal(csv_answer, other, equal_nan=True), (text, answers)


@settings(max_examples=300, deadline=None)
@given(text=json_text)
def test_an_empty_cell_elsewhere_changes_nothing_about_how_a_cell_is_read(text: str) -> None:
    """A body with an empty cell goes through numpy's slower converter path (Python's float, which took
    "1_000" for 1000): the cell reads the same as in a body without one."""
    answers = []
    for body in (f"1,1,{text}\n", f"1,,{text}\n"):
        try:
            answers.append(codecs.decode_csv(body.encode(), WIDTH)[0, 2])
        except HttpError as exc:
            assert exc.status == 400
            answers.append(None)
    assert (answers[0] is None) == (answers[1] is None), (text, answers)
    if answers[0] is not None:
        assert np.array_equal(answers[0], answers[1], equal_nan=True), (text, answers)


split_cell = st.sampled_from(['"1\n"', '"\n2"', "3\r4", "\r", '"5\r\n"'])
split_body = st.tuples(
    st.lists(st.lists(st.one_of(cell, split_cell), min_size=WIDTH, max_size=WIDTH).map(",".join), min_size=1),
    st.sampled_from(["\n", "\r\n"]),
    st.integers(1, 400),
).map(lambda parts: ((parts[1].join(parts[0]) + parts[1]) * parts[2]).encode())


@settings(max_examples=200, deadline=None)
@given(data=split_body)
def test_a_body_read_has_one_row_per_line_however_its_cells_hide_line_breaks(data: bytes) -> None:
    """Batch transform splits on "\\n" and joins one answer per line: a quoted line break or a lone "\\r"
    that a reader took for one row too few or too many is refused instead (numpy- and pyarrow-sized)."""
    try:
        X = codecs.decode_csv(data, WIDTH)
    except HttpError as exc:
        assert exc.status == 400
        return
    assert X.shape[0] == data.count(b"\n"), data[:200]
