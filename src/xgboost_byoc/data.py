"""Channel files → matrices: CSV, libsvm and parquet, read by pyarrow (no Python loops over rows).

Conventions are the built-in algorithm's: the label is column 0; with ``csv_weights`` column 1 holds
instance weights; every other column is a feature. Empty CSV cells are missing values (NaN, which XGBoost
treats as missing). libsvm feature indices are taken literally, as XGBoost does (index 3 is column 3).

Bad data fails fast with a ``UserError`` naming the file, the line and column where known, and what was
expected. ``parse_csv`` and ``parse_libsvm`` also serve request bodies (see ``serving/codecs.py``).
"""

from __future__ import annotations

import gzip
import io
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from xgboost_byoc.config import Channel
from xgboost_byoc.errors import UserError, quoted

if TYPE_CHECKING:
    import pyarrow as pa
    import scipy.sparse as sp

log = logging.getLogger(__name__)

CSV = "text/csv"
LIBSVM = "text/libsvm"
PARQUET = "application/x-parquet"
_CONTENT_TYPES = {
    "text/csv": CSV,
    "csv": CSV,
    "text/libsvm": LIBSVM,
    "libsvm": LIBSVM,
    "text/x-libsvm": LIBSVM,
    "application/x-parquet": PARQUET,
    "application/parquet": PARQUET,
    "parquet": PARQUET,
}
_EXTENSIONS = {".csv": CSV, ".libsvm": LIBSVM, ".svm": LIBSVM, ".parquet": PARQUET, ".pq": PARQUET}
_FLOAT = re.compile(r"^\s*[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|nan|inf|infinity)\s*$", re.I)

Source = str | Path | bytes


@dataclass(frozen=True)
class ContentType:
    kind: str  # CSV, LIBSVM or PARQUET
    header: bool | None = None  # CSV: True/False when declared (header=present|absent), None to detect
    label_size: int = 1


def parse_content_type(value: str, *, where: str) -> ContentType:
    """``text/csv; label_size=1; header=present`` → ContentType; UserError for what we cannot read."""
    base, *params = [part.strip() for part in value.split(";")]
    kind = _CONTENT_TYPES.get(base.lower())
    if kind is None:
        raise UserError(
            f"{where}: content type {value!r} is not supported; use text/csv, text/libsvm or application/x-parquet"
        )
    options = dict(p.split("=", 1) for p in params if "=" in p)
    header = {"present": True, "absent": False}.get(options.get("header", "").lower())
    label_size = options.get("label_size", "1")
    if label_size not in ("0", "1"):
        raise UserError(f"{where}: label_size={label_size} is not supported; use label_size=1")
    return ContentType(kind, header, int(label_size))


@dataclass
class Dataset:
    """One channel's rows: features ``X`` (float32, dense or CSR), label ``y``, optional ``weights``."""

    X: Any  # np.ndarray | scipy.sparse.csr_matrix
    y: np.ndarray
    weights: np.ndarray | None = None
    feature_names: list[str] | None = None
    files: list[tuple[str, int, int]] = field(default_factory=list)  # (name, rows, header lines)

    @property
    def n_rows(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.X.shape[1])

    def locate(self, row: int) -> str:
        """Where row ``row`` (0-based, over the whole channel) came from: ``file line N``."""
        start = 0
        for name, rows, header in self.files:
            if row < start + rows:
                return f"{name} line {row - start + 1 + header}"
            start += rows
        return f"row {row + 1}"


# ---------------------------------------------------------------------------------------------- CSV


def _open_text_head(source: Source) -> bytes:
    if isinstance(source, bytes):
        return source[:65536]
    path = Path(source)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        return fh.readline(65536)


def _first_line_cells(head: bytes) -> list[str]:
    line = head.split(b"\n", 1)[0].rstrip(b"\r")
    return line.decode("utf-8", errors="replace").split(",")


def detect_header(cells: Sequence[str]) -> bool:
    """A first row with any non-empty, non-numeric cell is a header."""
    return any(cell.strip() and not _FLOAT.match(cell.strip().strip('"')) for cell in cells)


def parse_csv(
    source: Source, *, name: str, header: bool | None = None, use_threads: bool = True
) -> tuple[np.ndarray, list[str] | None, bool]:
    """CSV → (float32 matrix, header names or None, whether a header row was read)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    head = _open_text_head(source)
    if not head.strip():
        raise UserError(f"{name} is empty: expected comma-separated numeric rows")
    cells = _first_line_cells(head)
    has_header = detect_header(cells) if header is None else header
    names = [c.strip().strip('"') for c in cells] if has_header else None
    columns = [f"c{i}" for i in range(len(cells))]
    read = pacsv.ReadOptions(column_names=columns, skip_rows=1 if has_header else 0, use_threads=use_threads)
    convert = pacsv.ConvertOptions(column_types={c: pa.float32() for c in columns}, strings_can_be_null=False)
    stream = io.BytesIO(source) if isinstance(source, bytes) else source
    try:
        table = pacsv.read_csv(stream, read_options=read, convert_options=convert)
    except pa.ArrowInvalid as exc:
        raise _csv_error(source, name, str(exc), has_header, len(columns)) from None
    if table.num_rows == 0:
        raise UserError(f"{name} has a header but no data rows")
    matrix = np.empty((table.num_rows, table.num_columns), dtype=np.float32)
    for i, column in enumerate(table.columns):
        matrix[:, i] = column.to_numpy()
    return matrix, names, has_header


def _csv_error(source: Source, name: str, message: str, has_header: bool, ncols: int) -> UserError:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    ragged = re.search(r"Expected (\d+) columns, got (\d+)", message)
    if ragged:
        row = re.search(r"Row #(\d+)", message)
        if row is None:  # the threaded reader does not number rows; the serial one does
            try:
                pacsv.read_csv(
                    io.BytesIO(source) if isinstance(source, bytes) else source,
                    read_options=pacsv.ReadOptions(autogenerate_column_names=True, use_threads=False),
                )
            except pa.ArrowInvalid as again:
                row = re.search(r"Row #(\d+)", str(again))
        where = f"line {row.group(1)}" if row else "a row"
        return UserError(
            f"{name}: {where} has {ragged.group(2)} columns, expected {ragged.group(1)} "
            "(every row needs the same number of comma-separated values)"
        )
    bad_col = re.search(r"column #(\d+)", message)
    if bad_col and "conversion error" in message:
        col = int(bad_col.group(1))
        strings = pacsv.read_csv(
            io.BytesIO(source) if isinstance(source, bytes) else source,
            read_options=pacsv.ReadOptions(
                column_names=[f"c{i}" for i in range(ncols)], skip_rows=1 if has_header else 0
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={f"c{i}": pa.string() for i in range(ncols)}, include_columns=[f"c{col}"]
            ),
        ).column(0)
        numeric = pc.or_(
            pc.match_substring_regex(strings, _FLOAT.pattern, ignore_case=True),
            pc.equal(pc.utf8_trim_whitespace(strings), ""),
        )
        bad = np.flatnonzero(~numeric.to_numpy(zero_copy_only=False))
        if len(bad):
            first = int(bad[0])
            value = strings[first].as_py()
            return UserError(
                f"{name}: line {first + 1 + int(has_header)}, column {col + 1}: {quoted(value)} is not a number "
                "(cells must be numeric; leave a cell empty for a missing value)"
            )
    return UserError(f"{name}: cannot parse CSV: {message.splitlines()[0]}")


# ------------------------------------------------------------------------------------------- libsvm


def parse_libsvm(source: Source, *, name: str, n_features: int | None = None) -> tuple[sp.csr_matrix, np.ndarray]:
    """libsvm (``label index:value ...``, ``#`` comments) → (float32 CSR matrix, float32 labels)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv
    import scipy.sparse as sp

    stream = io.BytesIO(source) if isinstance(source, bytes) else source
    try:
        table = pacsv.read_csv(
            stream,
            read_options=pacsv.ReadOptions(column_names=["line"]),
            # every line a row, empty ones too, so that a message can give the file's own line number
            parse_options=pacsv.ParseOptions(
                delimiter="\x1f", quote_char=False, escape_char=False, ignore_empty_lines=False
            ),
            convert_options=pacsv.ConvertOptions(column_types={"line": pa.string()}, strings_can_be_null=False),
        )
    except pa.ArrowInvalid as exc:
        reason = "it is not UTF-8 text" if "UTF8" in str(exc) else str(exc).splitlines()[0]
        raise UserError(f"{name} cannot be read as libsvm: {reason}") from None
    lines = pc.utf8_trim_whitespace(pc.replace_substring_regex(table.column("line"), r"#.*$", ""))
    kept = pc.not_equal(lines, "")
    numbers = np.flatnonzero(kept.to_numpy(zero_copy_only=False)) + 1  # each record's line in the file
    lines = lines.filter(kept)
    if len(lines) == 0:
        raise UserError(f"{name} has no libsvm rows: expected lines like '1 0:0.5 3:1.2'")
    tokens = pc.split_pattern_regex(lines, r"\s+")
    labels = _cast_tokens(pc.list_element(tokens, 0), pa.float32(), name, "label", numbers)
    features = pc.list_slice(tokens, 1)
    row_lengths = pc.list_value_length(features).to_numpy(zero_copy_only=False).astype(np.int64)
    indptr = np.concatenate([[0], np.cumsum(row_lengths)])
    pairs = pc.split_pattern(pc.list_flatten(features), ":", max_splits=1)
    if len(pairs) and pc.min(pc.list_value_length(pairs)).as_py() != 2:
        bad = np.flatnonzero(pc.list_value_length(pairs).to_numpy(zero_copy_only=False) != 2)[0]
        row = int(np.searchsorted(indptr, bad, side="right") - 1)
        token = pc.list_flatten(features)[int(bad)].as_py()
        raise UserError(f"{name}: line {numbers[row]}: {quoted(token)} is not index:value")
    indices = _cast_tokens(pc.list_element(pairs, 0), pa.int64(), name, "feature index", numbers, indptr)
    values = _cast_tokens(pc.list_element(pairs, 1), pa.float32(), name, "feature value", numbers, indptr)
    if len(indices) and indices.min() < 0:
        raise UserError(f"{name}: feature indices must be >= 0")
    width = int(indices.max()) + 1 if len(indices) else 0
    if n_features is not None:
        if width > n_features:
            raise UserError(f"{name}: feature index {width - 1} is out of range for {n_features} features")
        width = n_features
    matrix = sp.csr_matrix((values, indices, indptr), shape=(len(lines), width), dtype=np.float32)
    if not matrix.has_sorted_indices:  # libsvm does not promise sorted indices; XGBoost's CSR reader wants them
        matrix = sp.csr_matrix((values.copy(), indices.copy(), indptr), shape=matrix.shape, dtype=np.float32)
        matrix.sort_indices()
    _refuse_repeated_indices(matrix, name, numbers)
    return matrix, labels


def _refuse_repeated_indices(matrix: sp.csr_matrix, name: str, numbers: np.ndarray) -> None:
    """A feature given twice in one line is a UserError naming the line and the index: which value is meant
    cannot be told (summing them, as scipy's sum_duplicates would, is a value nobody wrote). ``matrix`` has
    sorted indices, so a repeat is two equal neighbours within a row."""
    if matrix.nnz < 2:
        return
    repeated = np.diff(matrix.indices) == 0
    starts = matrix.indptr[1:-1]
    repeated[starts[(starts > 0) & (starts < matrix.nnz)] - 1] = False  # neighbours across two rows
    if repeated.any():
        at = int(np.flatnonzero(repeated)[0])
        row = int(np.searchsorted(matrix.indptr, at, side="right") - 1)
        raise UserError(f"{name}: line {numbers[row]}: feature index {int(matrix.indices[at])} is given twice")


def _cast_tokens(
    tokens: pa.Array | pa.ChunkedArray,
    to: pa.DataType,
    name: str,
    what: str,
    numbers: np.ndarray,
    indptr: np.ndarray | None = None,
) -> np.ndarray:
    """``tokens`` cast to ``to``, or a UserError naming the first bad one and its line (``numbers``: the
    file line of each record; ``indptr``: which record each token belongs to, when not one per record)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        return np.asarray(pc.cast(tokens, to).to_numpy(zero_copy_only=False))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pattern = _FLOAT.pattern if pa.types.is_floating(to) else r"^\s*[-+]?\d+\s*$"
        ok = pc.match_substring_regex(tokens, pattern, ignore_case=True).to_numpy(zero_copy_only=False)
        bad = int(np.flatnonzero(~ok)[0])
        row = bad if indptr is None else int(np.searchsorted(indptr, bad, side="right") - 1)
        raise UserError(
            f"{name}: line {numbers[row]}: {what} {quoted(tokens[bad].as_py())} is not "
            f"{'a number' if pa.types.is_floating(to) else 'a whole number'}"
        ) from None


# ------------------------------------------------------------------------------------------ parquet


def parse_parquet(path: Path, *, name: str) -> tuple[np.ndarray, list[str]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise UserError(f"{name}: cannot read parquet: {exc}") from None
    for fld in table.schema:
        if not (pa.types.is_integer(fld.type) or pa.types.is_floating(fld.type) or pa.types.is_boolean(fld.type)):
            raise UserError(f"{name}: column {fld.name!r} has type {fld.type}; every column must be numeric")
    if table.num_rows == 0:
        raise UserError(f"{name} has no rows")
    matrix = np.empty((table.num_rows, table.num_columns), dtype=np.float32)
    for i, column in enumerate(table.columns):
        matrix[:, i] = column.cast(pa.float32()).to_numpy()
    return matrix, list(table.schema.names)


# -------------------------------------------------------------------------------------- a channel


def channel_files(directory: Path, channel: str) -> list[Path]:
    """Data files of a channel (recursive, sorted); hidden and ``_``-prefixed files are skipped, loudly."""
    if directory.is_file():  # a single file given directly (xgb-byoc report --data FILE)
        return [directory]
    if not directory.is_dir():
        raise UserError(f"channel {channel!r} has no data folder ({directory})")
    files: list[Path] = []
    skipped: list[Path] = []
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        rel = path.relative_to(directory)
        (skipped if any(part.startswith((".", "_")) for part in rel.parts) else files).append(path)
    if skipped:
        log.warning("channel %s: skipping %s", channel, ", ".join(str(p.relative_to(directory)) for p in skipped))
    if not files:
        raise UserError(f"channel {channel!r} is empty: no data files in {directory}")
    return files


def channel_content_type(channel: Channel, files: Sequence[Path]) -> ContentType:
    where = f"channel {channel.name!r}"
    if channel.input_mode.lower() == "pipe":
        raise UserError(f"{where}: Pipe input mode is not supported; use File or FastFile")
    if channel.content_type:
        return parse_content_type(channel.content_type, where=where)
    suffixes = {_EXTENSIONS.get(p.suffix.lower()) for p in files if p.suffix != ".gz"}
    suffixes |= {_EXTENSIONS.get(Path(p.stem).suffix.lower()) for p in files if p.suffix == ".gz"}
    kinds = suffixes - {None}
    if len(kinds) == 1:
        return ContentType(kinds.pop())  # type: ignore[arg-type]
    if len(kinds) > 1:
        raise UserError(f"{where} mixes file types ({', '.join(sorted(k for k in kinds if k))}); set ContentType")
    log.info("%s has no ContentType and no telling file extension: reading it as text/csv", where)
    return ContentType(CSV)


def read_channel(
    channel: Channel,
    directory: Path,
    *,
    csv_header: str = "auto",
    weights: bool = False,
) -> Dataset:
    """All files of one channel → one Dataset (label column 0, optional weight column 1)."""
    files = channel_files(directory, channel.name)
    ctype = channel_content_type(channel, files)
    if ctype.label_size == 0:
        raise UserError(f"channel {channel.name!r}: training data needs a label (label_size=1)")
    header = ctype.header if csv_header == "auto" else csv_header == "present"
    blocks: list[Any] = []
    labels: list[np.ndarray] = []
    weight_cols: list[np.ndarray] = []
    record: list[tuple[str, int, int]] = []
    names: list[str] | None = None
    for path in files:
        rel = f"{channel.name}/{path.relative_to(directory)}" if directory.is_dir() else str(path)
        if ctype.kind == LIBSVM:
            matrix, y = parse_libsvm(path, name=rel)
            blocks.append(matrix)
            labels.append(y)
            record.append((rel, matrix.shape[0], 0))
            continue
        if ctype.kind == CSV:
            table, file_names, had_header = parse_csv(path, name=rel, header=header)
        else:
            table, file_names = parse_parquet(path, name=rel)
            had_header = False
        min_cols = 3 if weights else 2
        if table.shape[1] < min_cols:
            raise UserError(
                f"{rel} has {table.shape[1]} column(s); expected the label in column 1"
                + (", the weight in column 2" if weights else "")
                + " and at least one feature"
            )
        if blocks and table.shape[1] != blocks[0].shape[1] + 1 + int(weights):
            raise UserError(
                f"{rel} has {table.shape[1]} columns but {record[0][0]} has "
                f"{blocks[0].shape[1] + 1 + int(weights)}; all files of a channel need the same columns"
            )
        first_feature = 2 if weights else 1
        blocks.append(table[:, first_feature:])
        labels.append(table[:, 0])
        if weights:
            weight_cols.append(table[:, 1])
        if file_names is not None and names is None:
            names = file_names[first_feature:]
        record.append((rel, table.shape[0], int(had_header)))
    return _assemble(channel.name, blocks, labels, weight_cols or None, record, names)


def _assemble(
    channel: str,
    blocks: list[Any],
    labels: list[np.ndarray],
    weights: list[np.ndarray] | None,
    record: list[tuple[str, int, int]],
    names: list[str] | None,
) -> Dataset:
    if blocks and hasattr(blocks[0], "tocsr"):
        import scipy.sparse as sp

        width = max(b.shape[1] for b in blocks)
        X: Any = sp.vstack([sp.csr_matrix(b, shape=(b.shape[0], width)) for b in blocks], format="csr")
    else:
        X = blocks[0] if len(blocks) == 1 else np.concatenate(blocks)
    y = np.concatenate(labels).astype(np.float32, copy=False)
    w = np.concatenate(weights).astype(np.float32, copy=False) if weights else None
    ds = Dataset(X=X, y=y, weights=w, feature_names=names, files=record)
    if ds.n_rows == 0:
        raise UserError(f"channel {channel!r} has no data rows")
    _check_finite(ds)
    return ds


def _check_finite(ds: Dataset) -> None:
    bad_label = np.flatnonzero(~np.isfinite(ds.y))
    if len(bad_label):
        raise UserError(f"{ds.locate(int(bad_label[0]))}: the label (column 1) is missing or not finite")
    if ds.weights is not None:
        bad = np.flatnonzero(~np.isfinite(ds.weights) | (ds.weights < 0))
        if len(bad):
            raise UserError(
                f"{ds.locate(int(bad[0]))}: the weight (column 2) is {ds.weights[bad[0]]}; "
                "weights must be finite and >= 0"
            )
    values = ds.X.data if hasattr(ds.X, "tocsr") else ds.X
    if np.isinf(values).any():
        if hasattr(ds.X, "tocsr"):
            row = int(np.flatnonzero(np.isinf(ds.X.toarray()).any(axis=1))[0])
        else:
            row = int(np.flatnonzero(np.isinf(values).any(axis=1))[0])
        raise UserError(
            f"{ds.locate(row)}: a feature is infinite or beyond float32's range (over 3.4e38 in magnitude); "
            "use an empty cell for a missing value"
        )


def check_labels(ds: Dataset, objective: str, num_class: int | None, *, channel: str) -> None:
    """Labels fit the objective (binary: 0/1; multi: 0..num_class-1; counts: >= 0; gamma: > 0)."""
    y = ds.y
    if objective.startswith("binary:"):
        bad = np.flatnonzero((y != 0) & (y != 1))
        rule = "must be 0 or 1 for binary objectives"
    elif objective.startswith("multi:"):
        assert num_class is not None
        bad = np.flatnonzero((y < 0) | (y >= num_class) | (y != np.floor(y)))
        rule = f"must be a whole number in 0..{num_class - 1} (num_class={num_class})"
    elif objective == "reg:logistic":
        bad = np.flatnonzero((y < 0) | (y > 1))
        rule = "must be in [0, 1] for reg:logistic"
    elif objective in ("count:poisson", "reg:tweedie"):
        bad = np.flatnonzero(y < 0)
        rule = f"must be >= 0 for {objective}"
    elif objective == "reg:gamma":
        bad = np.flatnonzero(y <= 0)
        rule = "must be > 0 for reg:gamma"
    elif objective == "reg:squaredlogerror":
        bad = np.flatnonzero(y <= -1)
        rule = "must be > -1 for reg:squaredlogerror"
    else:
        return
    if len(bad):
        row = int(bad[0])
        raise UserError(f"{ds.locate(row)}: label {y[row]:g} {rule} ({len(bad)} such row(s) in channel {channel!r})")
