"""Reading a pairs table file (CSV / TSV / JSONL / Parquet) into raw records: encoding and
delimiter detection, one reader per format. Validation of the values is ``data.load_pairs``' job."""
from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass, field
from typing import Any, Iterable

from .errors import DataError
from .spec import EXTENSION_FORMATS, TABLE_FORMATS
from .validation import RejectedRow

REQUIRED_COLUMNS = ("id", "text", "image")
FORMATS = TABLE_FORMATS
# Longest text kept per cell (characters): a post is far shorter; a longer cell is a broken
# export (e.g. an unbalanced quote swallowing the rest of the file) and is rejected with reason
# "cell_too_large" instead of being embedded. Equal to the csv module's default field limit.
MAX_CELL_CHARS = 131_072
# Deepest nesting of a JSONL line (the row object is level 1): a post's fields are flat; a line
# nested deeper is refused as malformed instead of overflowing the recursion of later steps.
MAX_JSON_DEPTH = 32


@dataclass
class RawRecords:
    """A table as read, before validation: column names and (row number, values) records."""

    columns: list[str]
    records: list[tuple[int, list[Any]]]
    rejected: list[RejectedRow] = field(default_factory=list)
    n_rows_read: int = 0
    encoding: str | None = None
    may_have_undecodable: bool = False  # text was decoded with surrogateescape


# ---------------------------------------------------------------------------------------------
# Reading


def detect_encoding(raw: bytes) -> str | None:
    """Codec name for ``raw``, or None for "UTF-8 with some undecodable rows".

    Order: UTF-8 (BOM or not), UTF-16 with BOM, then "mostly UTF-8" (more non-ASCII lines
    decode as UTF-8 than fail: a UTF-8 file with a few damaged rows, which must not be misread
    as GB18030), then GB18030 (superset of GBK / GB2312, common in Weibo exports), then
    charset-normalizer's best guess.
    """
    if raw.startswith(b"\xef\xbb\xbf"):
        try:
            raw.decode("utf-8-sig")
            return "utf-8-sig"
        except UnicodeDecodeError:
            return None
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    try:
        raw.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    valid = invalid = 0
    for line in raw.split(b"\n"):
        if not line.isascii():
            try:
                line.decode("utf-8")
                valid += 1
            except UnicodeDecodeError:
                invalid += 1
    if valid > invalid:
        return None
    try:
        raw.decode("gb18030")
        return "gb18030"
    except UnicodeDecodeError:
        pass
    import charset_normalizer  # only needed for the rare encodings

    matches = charset_normalizer.from_bytes(raw)
    best = matches.best()
    if best is None:
        return None
    # On short samples charset-normalizer often ties cp1252 (Excel's default export on Western
    # Windows) with Baltic / Central European code pages; prefer cp1252 when it fits as well.
    for m in matches:
        if (m.encoding == "cp1252" and m.chaos <= best.chaos + 0.1
                and m.coherence >= best.coherence - 0.05):
            return "cp1252"
    return best.encoding


def _decode_file(path: str) -> tuple[str, str, bool]:
    """(text, encoding label, may contain surrogate-escaped undecodable bytes)."""
    with open(path, "rb") as f:
        raw = f.read()
    encoding = detect_encoding(raw)
    if encoding is None:
        text = raw.decode("utf-8", "surrogateescape")
        return text.removeprefix("\ufeff"), "utf-8 (some bytes undecodable)", True
    return raw.decode(encoding).removeprefix("\ufeff"), encoding, False


def _detect_format(path: str, format: str | None) -> str:
    if format is not None:
        if format not in FORMATS:
            raise DataError(f"{path}: unknown format {format!r}; use one of {', '.join(FORMATS)}")
        return format
    ext = os.path.splitext(path)[1].lower()
    if ext not in EXTENSION_FORMATS:
        raise DataError(f"{path}: cannot tell the format from the extension {ext!r}; "
                        f"pass format= one of {', '.join(FORMATS)}")
    return EXTENSION_FORMATS[ext]


def _header_names(names: list[str], path: str) -> list[str]:
    columns = [n.strip() or f"column_{i + 1}" for i, n in enumerate(names)]
    duplicates = sorted({c for c in columns if columns.count(c) > 1})
    if duplicates:
        raise DataError(f"{path}: duplicate column name(s) in the header: {', '.join(duplicates)}")
    return columns


def _pick_delimiter(first_line: str, default: str) -> str:
    """The delimiter under which the header holds all required columns (else ``default``):
    spreadsheet exports in some locales use ``;`` or tabs."""
    for delimiter in (default, ",", "\t", ";", "|"):
        names = {n.strip() for n in next(csv.reader([first_line], delimiter=delimiter), [])}
        if set(REQUIRED_COLUMNS) <= names:
            return delimiter
    return default


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


def _lines(text: str) -> Iterable[str]:
    """Lines with their endings (\r\n, \r or \n), lazily: io.StringIO would copy the whole
    text into a 4-bytes-per-character buffer (~4x the file size)."""
    return (m.group() for m in _LINE.finditer(text))


def _read_delimited(path: str, default_delimiter: str) -> RawRecords:
    text, encoding, may_have_undecodable = _decode_file(path)
    first_line = next((ln for ln in re.split(r"\r\n|\r|\n", text, maxsplit=50) if ln.strip()), "")
    delimiter = _pick_delimiter(first_line, default_delimiter)
    csv.field_size_limit(MAX_CELL_CHARS)
    reader = csv.reader(_lines(text), delimiter=delimiter)
    out = RawRecords([], [], encoding=encoding, may_have_undecodable=may_have_undecodable)
    header: list[str] | None = None
    row_no = 0
    while True:
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # e.g. a field over csv.field_size_limit (unbalanced quote)
            row_no += 1
            if "field larger than field limit" in str(exc):
                out.rejected.append(RejectedRow(
                    row_no, None, "*", "cell_too_large",
                    f"line {reader.line_num}: a cell is longer than {MAX_CELL_CHARS:,} "
                    "characters (an unbalanced quote?); the row is skipped"))
            else:
                out.rejected.append(RejectedRow(row_no, None, "*", "malformed_row",
                                                f"line {reader.line_num}: {exc}"))
            continue
        if not values or (len(values) == 1 and not values[0].strip()):
            continue  # blank line: not a data row
        if header is None:
            header = _header_names(values, path)
            continue
        row_no += 1
        if len(values) > len(header):
            out.rejected.append(RejectedRow(
                row_no, values[0].strip() or None, "*", "malformed_row",
                f"line {reader.line_num}: {len(values)} fields, the header has {len(header)} "
                f"(an unquoted {delimiter!r} in a field?)"))
            continue
        if len(values) < len(header):  # short row: missing trailing fields read as empty
            values += [""] * (len(header) - len(values))
        out.records.append((row_no, values))
    if header is None:
        raise DataError(f"{path}: the file is empty")
    if row_no == 0:
        raise DataError(f"{path}: the file has a header but no data rows")
    out.columns = header
    out.n_rows_read = row_no
    return out


def _nested_deeper_than(value, limit: int) -> bool:
    """Whether lists / objects nest deeper than ``limit`` (iterative: no recursion to overflow)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > limit:
                return True
            stack.extend((v, depth + 1) for v in (item.values() if isinstance(item, dict)
                                                  else item))
    return False


def _read_jsonl(path: str) -> RawRecords:
    import json

    text, encoding, may_have_undecodable = _decode_file(path)
    out = RawRecords([], [], encoding=encoding, may_have_undecodable=may_have_undecodable)
    objects: list[tuple[int, dict]] = []
    columns: dict[str, None] = {}  # ordered set: column order = first appearance
    for line_no, line in enumerate(text.split("\n"), start=1):
        line = line.strip()
        if not line:
            continue
        out.n_rows_read += 1
        try:
            obj = json.loads(line)
            too_deep = _nested_deeper_than(obj, MAX_JSON_DEPTH)
        except RecursionError:   # json.loads recurses per level: 100,000 levels overflow it
            too_deep = True
        except ValueError as exc:
            out.rejected.append(RejectedRow(line_no, None, "*", "malformed_json", f"line {line_no}: {exc}"))
            continue
        if too_deep:
            out.rejected.append(RejectedRow(line_no, None, "*", "malformed_json",
                                            f"line {line_no}: JSON nested deeper than "
                                            f"{MAX_JSON_DEPTH} levels"))
            continue
        if not isinstance(obj, dict):
            out.rejected.append(RejectedRow(line_no, None, "*", "malformed_json",
                                            f"line {line_no}: a JSON {type(obj).__name__}, not an object"))
            continue
        columns.update(dict.fromkeys(str(k).strip() for k in obj))
        objects.append((line_no, obj))
    if out.n_rows_read == 0:
        raise DataError(f"{path}: the file is empty")
    out.columns = list(columns)
    out.records = [(n, [obj.get(c) for c in out.columns]) for n, obj in
                   ((n, {str(k).strip(): v for k, v in o.items()}) for n, o in objects)]
    return out


def _read_parquet(path: str) -> RawRecords:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise DataError(f"{path}: cannot read as Parquet: {exc}") from exc
    if table.num_rows == 0:
        raise DataError(f"{path}: the file has no rows")
    columns = _header_names([str(n) for n in table.column_names], path)
    # to_pylist keeps int64 ids exact (pandas would turn an int column with nulls into floats)
    values = [table.column(i).to_pylist() for i in range(table.num_columns)]
    records = [(i + 1, list(row)) for i, row in enumerate(zip(*values))]
    return RawRecords(columns, records, n_rows_read=table.num_rows, encoding=None)


def read_records(path: str, format: str | None = None) -> RawRecords:
    """Read a pairs table without validating it (raises DataError for unreadable files)."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise DataError(f"{path}: no such file")
    fmt = _detect_format(path, format)
    if fmt == "parquet":
        raw = _read_parquet(path)
    elif fmt == "jsonl":
        raw = _read_jsonl(path)
    else:
        raw = _read_delimited(path, "\t" if fmt == "tsv" else ",")
    if raw.columns or not raw.rejected:  # JSONL with only malformed lines: let the report speak
        missing = [c for c in REQUIRED_COLUMNS if c not in raw.columns]
        if missing:
            raise DataError(f"{path}: missing required column(s): {', '.join(missing)} "
                            f"(found: {', '.join(raw.columns) or 'none'})")
    return raw
