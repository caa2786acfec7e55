"""Content types ↔ arrays, as two tables: ``DECODERS`` (request Content-Type) and ``ENCODERS`` (Accept).

Every decoder returns a float32 matrix (dense, or CSR for libsvm) of exactly the model's feature count,
or raises ``HttpError(400)`` naming the row and column at fault. Missing values: an empty CSV cell,
``nan`` or JSON ``null`` (XGBoost treats them as missing). Infinite values are refused (XGBoost would
fail on them or silently mis-route them).

CSV bodies of ``ARROW_MIN_BYTES`` or more are read by pyarrow's CSV reader (a 1000-row Adult body in
~0.5 ms where ``numpy.loadtxt`` takes ~2 ms); smaller ones by ``numpy.loadtxt``, whose C reader answers a
one-row body in microseconds where pyarrow costs ~0.2-0.3 ms per call before reading a byte. pyarrow's answer
is used only when it is exactly the model's width of numbers; anything else (a header, a bad cell, ragged
rows, ...) is read again by ``numpy.loadtxt``, so both paths give the same matrix and the same located
error for the same body.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import io
import json
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.csv as pacsv

from xgboost_byoc.errors import HttpError, UserError, quoted

Decoder = Callable[[bytes, int], Any]
Encoder = Callable[[np.ndarray, str], bytes]

_ROW_COL = re.compile(r"at row (\d+), column (\d+)")
_COLUMNS_CHANGED = re.compile(r"number of columns changed from (\d+) to (\d+) at row (\d+)")
#: a number as text, as NumPy's and pyarrow's readers take one: ASCII digits and no "_" (Python's float
#: takes "1_000", and "١" for 1). Checked wherever a cell goes through float() (a JSON string cell, the
#: CSV converter for bodies with an empty cell), so a cell reads the same whatever the path.
_NUMBER_TEXT = re.compile(
    r"\s*[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?|nan|inf|infinity)\s*", re.ASCII | re.IGNORECASE
)


def _bad(message: str) -> HttpError:
    return HttpError(400, message)


_BLANK_FIRST_LINE = re.compile(rb"[ \t\r]*(?:\n|$)")
_BLANK_LATER_LINE = re.compile(rb"\n[ \t\r]*(?:\n|$)")
_LONE_CR = re.compile(rb"\r(?!\n)")


def _check_blank_lines(body: bytes) -> None:
    """Refuse blank lines, and a carriage return that ends no "\r\n" (Python's splitlines and pyarrow end
    a row there, SageMaker's batch transform does not): one output line per input line must hold. Regex
    scans, no Python loop."""
    text = body[:-2] if body.endswith(b"\r\n") else body[:-1] if body.endswith(b"\n") else body
    if not text.strip():
        raise _bad("the request body is empty: send one or more rows")
    if _BLANK_FIRST_LINE.match(text):
        raise _bad("line 1 is blank: send one record per line, with no blank lines")
    blank = _BLANK_LATER_LINE.search(text)
    if blank:
        number = text.count(b"\n", 0, blank.start()) + 2  # the blank line starts after the matched newline
        raise _bad(f"line {number} is blank: send one record per line, with no blank lines")
    lone = _LONE_CR.search(text) if b"\r" in text else None
    if lone:
        number = text.count(b"\n", 0, lone.start()) + 1
        raise _bad(f"line {number} holds a carriage return (\\r) that ends no line: end lines with \\n or \\r\\n")


def check_matrix(X: np.ndarray, n_features: int) -> np.ndarray:
    """A dense float32 matrix of the model's width with no infinite values, or a 400."""
    if X.ndim != 2 or X.shape[0] == 0:  # callers hand over 2-D matrices; JSON says "list of lists" itself
        raise _bad("the request holds no rows")
    if n_features > 0 and X.shape[1] != n_features:  # 0: a model_fn model of unknown width
        raise _bad(f"each row needs {n_features} features (no label column); this request has {X.shape[1]}")
    inf = np.isinf(X)
    if inf.any():
        row, col = (int(i) for i in np.argwhere(inf)[0])
        raise _bad(
            f"row {row + 1}, column {col + 1} is infinite or beyond float32's range (over 3.4e38 in magnitude); "
            "use an empty value (or null/nan) for missing"
        )
    return X


#: bodies from this size on are read by pyarrow first (the two readers cost the same near 6-7 KB)
ARROW_MIN_BYTES = 8192
UTF8_BOM = b"\xef\xbb\xbf"
_ARROW_READ = pacsv.ReadOptions(autogenerate_column_names=True, use_threads=False)


def decode_csv(body: bytes, n_features: int) -> np.ndarray:
    body = body.removeprefix(UTF8_BOM)  # spreadsheet exports start with one; pyarrow skips it too
    if len(body) >= ARROW_MIN_BYTES:
        X = read_csv_arrow(body, n_features)
        # pyarrow skips empty lines: a row for every line means there was none, and the regex scan of
        # _check_blank_lines (a tenth of the read) is not needed
        if X is not None and X.shape[0] == _line_count(body):
            return check_matrix(X, n_features)
    _check_blank_lines(body)
    X = read_csv_numpy(body)
    lines = _line_count(body)
    if X.shape[0] != lines:  # no blank line, no lone "\r": only a quoted value can hold a line break
        raise _bad(
            f"the body has {lines} lines but {X.shape[0]} rows: a quoted value holds a line break; "
            "send one record per line"
        )
    return check_matrix(X, n_features)


def _line_count(body: bytes) -> int:
    """Lines in the body when "\n" ends them (or "\r\n"); -1 when a lone "\r" might end one as well."""
    carriage_returns = body.count(b"\r")
    if carriage_returns and carriage_returns != body.count(b"\r\n"):
        return -1
    return body.count(b"\n") + (not body.endswith(b"\n"))


def read_csv_arrow(body: bytes, n_features: int) -> np.ndarray | None:
    """The body as a float32 matrix when pyarrow reads it as exactly ``n_features`` numeric columns, else None.

    Cells are parsed as float64 and then cast, as ``numpy.loadtxt`` does, so both readers give the same
    float32 values; an empty cell is a missing value (NaN), the only text taken for one.

    pyarrow's streaming reader, because ``read_csv``'s serial reader starts and joins a thread on every
    call; each batch (a block of up to 1 MB of text) becomes a row-major matrix in one C++ call.
    """
    if n_features <= 0:
        return None
    try:
        convert = _arrow_convert(n_features)
        reader = pacsv.open_csv(pa.py_buffer(body), read_options=_ARROW_READ, convert_options=convert)
        if len(reader.schema) != n_features:
            return None
        # float32 block by block: at most one block's float64 copy is alive at a time. A value beyond
        # float32's range becomes inf, which check_matrix refuses by name: numpy need not warn of it.
        with np.errstate(over="ignore"):
            blocks = [np.asarray(b.to_tensor(null_to_nan=True, row_major=True)).astype(np.float32) for b in reader]
    except pa.ArrowInvalid:
        return None
    if not blocks:
        return None
    return blocks[0] if len(blocks) == 1 else np.concatenate(blocks)


@functools.lru_cache(maxsize=8)
def _arrow_convert(n_features: int) -> pacsv.ConvertOptions:
    """Every one of the model's columns (pyarrow names them f0, f1, ...) as float64; only "" is missing.
    No true/false spellings: they only matter to boolean columns, and each call would build their tries."""
    types = {f"f{i}": pa.float64() for i in range(n_features)}
    return pacsv.ConvertOptions(column_types=types, null_values=[""], true_values=[], false_values=[])


def read_csv_numpy(body: bytes) -> np.ndarray:
    """The body as a float32 matrix by ``numpy.loadtxt``, or a 400 naming the line and column at fault."""
    options: dict[str, Any] = {"delimiter": ",", "dtype": np.float32, "ndmin": 2, "comments": None, "quotechar": '"'}
    with np.errstate(over="ignore"):  # beyond float32's range is inf, which check_matrix refuses by name
        return _loadtxt(body, options)


def _loadtxt(body: bytes, options: dict[str, Any]) -> np.ndarray:
    try:
        X = np.loadtxt(io.BytesIO(body), **options)
    except ValueError as exc:
        if "could not convert string ''" not in str(exc):
            raise _csv_error(str(exc)) from None
        try:  # empty cells are missing values: the slower converter path, only when they occur
            X = np.loadtxt(io.BytesIO(body), converters=_float_or_nan, **options)
        except ValueError as again:
            raise _csv_error(str(again)) from None
    return X


def _float_or_nan(cell: str) -> float:
    if not cell.strip():
        return float("nan")
    if not _NUMBER_TEXT.fullmatch(cell):
        raise ValueError(f"could not convert string {cell!r} to float32")
    return float(cell)


def _csv_error(message: str) -> HttpError:
    changed = _COLUMNS_CHANGED.search(message)
    if changed:
        first, now, row = changed.groups()
        return _bad(f"line {row} has {now} values but line 1 has {first}; every row needs the same number")
    at = _ROW_COL.search(message)
    value = re.search(r"""could not convert string ('.*'|".*") to""", message)
    if at and value:
        cell = _as_sent(value.group(1))
        return _bad(f"line {int(at.group(1)) + 1}, column {at.group(2)}: {cell!r} is not a number")
    return _bad(f"cannot parse the CSV body: {message.splitlines()[0]}")


def _as_sent(quoted: str) -> str:
    """The cell as the client wrote it, from numpy's repr of it. numpy.loadtxt decodes a bytes body as
    latin-1, so a "–1" (an en dash, as spreadsheets write a minus) would read back as "â\x80\x931";
    bytes that are not UTF-8 stay escaped."""
    try:
        cell = ast.literal_eval(quoted)
        return str(cell).encode("latin-1").decode("utf-8", errors="backslashreplace")
    except (ValueError, SyntaxError, UnicodeEncodeError):  # not a plain repr, or text beyond latin-1 already
        return quoted[1:-1]


def _rows_to_matrix(rows: Any, n_features: int, what: str, *, cell_by_cell: bool) -> np.ndarray:
    """``cell_by_cell``: the body may hold a ``true``/``false`` or a string cell, so every cell is checked
    one by one (``numpy.array`` would quietly take ``true`` for 1.0, and read a string as Python's
    ``float`` does: "1_000" as 1000, "١" as 1, where the CSV readers refuse both)."""
    if not isinstance(rows, list) or not rows:
        raise _bad(f"{what} must be a non-empty list of rows")
    if not isinstance(rows[0], list):  # a single row given as a flat list of numbers
        rows = [rows]
    widths = {len(r) if isinstance(r, list) else -1 for r in rows}
    if -1 in widths:
        raise _bad(f"{what}: every row must be a list of numbers")
    if len(widths) > 1:
        lengths = [len(r) for r in rows]
        odd = next(i for i, n in enumerate(lengths) if n != lengths[0])
        raise _bad(f"{what}: row {odd + 1} has {lengths[odd]} values but row 1 has {lengths[0]}")
    X = None
    with np.errstate(over="ignore"):  # beyond float32's range is inf, which check_matrix refuses by name
        if not cell_by_cell:
            # a cell numpy cannot read leaves X None: the cell-by-cell read says which
            with contextlib.suppress(TypeError, ValueError):
                X = np.array(rows, dtype=np.float32)
        if X is None:
            X = np.array([[_json_cell(v, i, j) for j, v in enumerate(r)] for i, r in enumerate(rows)], dtype=np.float32)
    if X.ndim > 2:  # every cell a list of the same length: numpy made a cube of it
        raise _bad(f"{what}: each row must be a flat list of numbers, not a list of lists")
    return check_matrix(X, n_features)


def _cell_by_cell(body: bytes) -> bool:
    """Whether the JSON body may hold a boolean or a string cell: a ``true``/``false``, or a ``"`` that is
    not one of the record form's keys."""
    if b"true" in body or b"false" in body:
        return True
    keys = body.count(b'"features"') + body.count(b'"instances"')
    return body.count(b'"') != 2 * keys


def _json_cell(value: Any, row: int, col: int) -> float:
    if value is None:
        return float("nan")
    if isinstance(value, bool):
        raise _bad(f"row {row + 1}, column {col + 1}: {json.dumps(value)} is not a number (send 1 or 0)")
    if not isinstance(value, (int, float, str)) or (isinstance(value, str) and not _NUMBER_TEXT.fullmatch(value)):
        raise _bad(f"row {row + 1}, column {col + 1}: {_shown(value)} is not a number")
    return float(value)


def _shown(value: Any) -> str:
    """A JSON value as a message quotes it (``quoted``, as JSON); a list or object too deeply nested for
    Python's json to write is named by its kind."""
    try:
        return quoted(value, quote=lambda v: json.dumps(v, ensure_ascii=False))
    except RecursionError:
        return f"a {'list' if isinstance(value, list) else 'JSON object'} nested hundreds deep"


def _load_json(text: bytes, where: str) -> Any:
    """The JSON document, or a 400 naming what is wrong with it.

    orjson reads it first (a 1000-row body 3x faster than Python's json). What orjson refuses goes to
    Python's json, which also takes NaN / Infinity (missing and infinite values, as documented), UTF-16
    and UTF-32 bodies and lone surrogates, and whose message then says what is wrong: a body reads the same
    either way. A body nested deeper than Python's json can recurse is a 400 too, not a RecursionError.
    """
    with contextlib.suppress(orjson.JSONDecodeError):
        return orjson.loads(text)
    try:
        return json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "not UTF-8"
        raise _bad(f"{where} is not valid JSON: {reason}") from None
    except RecursionError:
        raise _bad(f"{where} is nested too deeply to be rows of numbers") from None


def _features_of(record: Any) -> Any:
    """A row from ``[..]`` or AWS's ``{"features": [..]}`` record form."""
    return record.get("features") if isinstance(record, dict) else record


def decode_json(body: bytes, n_features: int) -> np.ndarray:
    if not body.strip():
        raise _bad("the request body is empty: send one or more rows")
    document = _load_json(body, "the body")
    if isinstance(document, dict):
        if "instances" not in document:
            raise _bad('a JSON object body needs an "instances" list: {"instances": [[...], ...]}')
        document = document["instances"]
    if isinstance(document, list):
        document = [_features_of(r) for r in document]
    return _rows_to_matrix(document, n_features, "the JSON body", cell_by_cell=_cell_by_cell(body))


def decode_jsonlines(body: bytes, n_features: int) -> np.ndarray:
    _check_blank_lines(body)
    rows = [_features_of(_load_json(line, f"line {i}")) for i, line in enumerate(body.splitlines(), start=1)]
    if any(not isinstance(r, list) or (r and isinstance(r[0], list)) for r in rows):
        raise _bad('each JSON line must be one row: a list of numbers or {"features": [...]}')
    return _rows_to_matrix(rows, n_features, "the JSON lines", cell_by_cell=_cell_by_cell(body))


def decode_libsvm(body: bytes, n_features: int) -> Any:
    from xgboost_byoc.data import parse_libsvm

    _check_blank_lines(body)
    try:
        matrix, _labels = parse_libsvm(body, name="the libsvm body", n_features=n_features)
    except UserError as exc:
        raise _bad(exc.message) from None
    lines = _line_count(body)
    if matrix.shape[0] != lines:  # parse_libsvm skips a line that holds only a "#" comment
        raise _bad(
            f"the body has {lines} lines but {matrix.shape[0]} records: a line holds only a comment; "
            "send one record per line"
        )
    if np.isinf(matrix.data).any():
        raise _bad(
            "the libsvm body holds an infinite value or one beyond float32's range (over 3.4e38 in magnitude); "
            "leave missing values out"
        )
    return matrix


def decode_npy(body: bytes, n_features: int) -> np.ndarray:
    try:
        array = np.load(io.BytesIO(body), allow_pickle=False)
    except ValueError as exc:  # pickled object arrays land here too: never unpickled
        raise _bad(f"the body is not a NumPy .npy array without objects: {str(exc).splitlines()[0]}") from None
    except (OSError, EOFError):
        raise _bad("the body is not a NumPy .npy array") from None
    if not isinstance(array, np.ndarray):  # np.load reads a .npz archive too
        raise _bad("the body is a .npz archive; send one array in .npy format (numpy.save)")
    if array.dtype.kind not in "biuf":
        raise _bad(f"the .npy array must hold real numbers, not {array.dtype}")
    if array.ndim == 1:
        array = array[None, :]
    if array.ndim != 2:
        raise _bad(f"the .npy array must be 1- or 2-dimensional, not {array.ndim}-dimensional")
    return check_matrix(array.astype(np.float32, copy=False), n_features)


DECODERS: dict[str, Decoder] = {
    "text/csv": decode_csv,
    "application/json": decode_json,
    "application/jsonlines": decode_jsonlines,
    "text/libsvm": decode_libsvm,
    "application/x-npy": decode_npy,
}
CONTENT_TYPE_ALIASES = {
    "csv": "text/csv",
    "text/x-libsvm": "text/libsvm",
    "application/x-jsonlines": "application/jsonlines",
    "application/jsonl": "application/jsonlines",
    "application/npy": "application/x-npy",
}


def decoder_for(content_type: str) -> Decoder:
    kind = CONTENT_TYPE_ALIASES.get(content_type, content_type)
    decoder = DECODERS.get(kind)
    if decoder is None:
        raise HttpError(415, f"Content-Type {content_type!r} is not supported; use one of {', '.join(DECODERS)}")
    return decoder


# ------------------------------------------------------------------------------------------ encoders

#: the JSON key of each output kind (``score`` as AWS's XGBoost container answers)
JSON_KEYS = {"probability": "score", "prediction": "score"}


def _rows(predictions: np.ndarray) -> np.ndarray:
    return predictions.reshape(predictions.shape[0], -1) if predictions.ndim > 1 else predictions


def _orjson_writes(values: np.ndarray) -> bool:
    """Whether orjson writes every value of this (C-contiguous) array as the number it is: integers, and
    float32/float64 with no NaN or infinity (JSON has none; orjson would write null)."""
    kind, size = values.dtype.kind, values.dtype.itemsize
    return kind in "iu" or (kind == "f" and size >= 4 and bool(np.isfinite(values).all()))


def _orjson(document: Any) -> bytes:
    return orjson.dumps(document, option=orjson.OPT_SERIALIZE_NUMPY)


def encode_csv(predictions: np.ndarray, output: str) -> bytes:
    """One line per row, each value written as the shortest text that reads back as exactly the same
    number (float32 or float64, as the array holds it; integers as integers).

    orjson writes the whole array in one C call (a 1000-row answer in ~0.03 ms, where one "%.9g"
    %-operation, the fastest pure-Python way, takes ~0.15 ms); its brackets and commas then become line
    ends. NaN and infinities, and any dtype orjson does not write, go by "%.9g" instead (``nan``, ``inf``).
    """
    rows = np.ascontiguousarray(_rows(predictions))
    if rows.size == 0:
        return b""
    if _orjson_writes(rows):
        text = _orjson(rows)
        if rows.ndim == 1:
            return text[1:-1].replace(b",", b"\n") + b"\n"
        return text[2:-2].replace(b"],[", b"\n") + b"\n"
    return _encode_csv_printf(rows)


def _encode_csv_printf(rows: np.ndarray) -> bytes:
    """Every value by "%.9g" (it round-trips float32, but is the shortest text only by chance), in one
    %-operation: the fastest way Python itself has."""
    cols = 1 if rows.ndim == 1 else rows.shape[1]
    line = ",".join(["%.9g"] * cols) + "\n"
    return ((line * rows.shape[0]) % tuple(rows.ravel().tolist())).encode()


def _json_records(predictions: np.ndarray, output: str) -> tuple[list[dict[str, Any]], bool]:
    """One ``{key: value}`` per row, and whether orjson writes them (see ``_orjson_writes``). Its values
    are then NumPy's own (a float32 written as float32's shortest text, ``0.1``, as in CSV); otherwise
    Python's (``json`` writes NaN and Infinity, as Python's own JSON reader takes them)."""
    key = JSON_KEYS.get(output, output)
    values = np.ascontiguousarray(predictions)
    if _orjson_writes(values):
        return [{key: v} for v in values], True
    return [{key: v} for v in values.tolist()], False


def encode_json(predictions: np.ndarray, output: str) -> bytes:
    records, fast = _json_records(predictions, output)
    return _orjson({"predictions": records}) if fast else json.dumps({"predictions": records}).encode()


def encode_jsonlines(predictions: np.ndarray, output: str) -> bytes:
    """One record per line. orjson writes them as one list, whose "},{" (found only between records: a
    value is a number or a list of numbers) then become line ends."""
    records, fast = _json_records(predictions, output)
    if not records:
        return b""
    if fast:
        return _orjson(records)[1:-1].replace(b"},{", b"}\n{") + b"\n"
    return ("\n".join(json.dumps(r) for r in records) + "\n").encode()


ENCODERS: dict[str, Encoder] = {
    "text/csv": encode_csv,
    "application/json": encode_json,
    "application/jsonlines": encode_jsonlines,
}
