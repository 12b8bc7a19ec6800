"""Read a pairs table (CSV / TSV / JSONL / Parquet) into validated text-image pairs.

``load_pairs`` reads the table, expands posts with several images into one pair per image
(paper §4.1), checks every distinct image file once (in parallel), and returns the valid pairs
with a ``ValidationReport`` of everything skipped. Bad rows never crash the load; a
``DataError`` is raised only for an unusable file (missing, empty, header only, required column
absent) or when no valid pair is left.

Conventions:
- required columns ``id``, ``text``, ``image``; optional ``post_id``; other columns are kept
  (renamed ``source_<name>`` if they clash with a generated column).
- ``image`` may list several images separated by ``;`` (JSONL / Parquet: also a list).
  Pair id: one image -> ``str(id)``; the k-th of several -> ``f"{id}#{k}"``, k = 1-based position
  in the list, so ids stay stable when another image of the post is rejected.
- ids are strings (CSV read as text; JSON / Parquet integers converted exactly; a float id is
  rejected since digits may already be lost). Text is kept verbatim.
- relative image paths resolve against ``images_root``, else the table's folder. When a root is
  given (``images_root`` or ``allowed_roots``), paths and symlink targets must stay inside the
  allowed roots; with neither, any path is accepted.
- encoding (CSV / TSV / JSONL): see ``detect_encoding``; CSV delimiter: the one under which the
  header holds the required columns (``,`` first; ``;``, tab and ``|`` for locale exports).
- row numbers in the report: see ``RejectedRow``.
- memory: about 2 KB per row at peak (300,000 rows: ~0.5 GB RSS), all held as Python strings.
"""

from __future__ import annotations

import contextlib
import csv
import gc
import math
import os
import re
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Literal

import pandas as pd
from PIL import Image

from .errors import ConfigError, DataError
from .hashing import text_sha256
from .validation import (
    CHECK_MODES,
    CheckMode,
    ImageCheck,
    RejectedRow,
    ValidationReport,
    check_image_chunk,
    is_under,
)

__all__ = ["PairsTable", "RejectedRow", "ValidationReport", "load_pairs", "detect_encoding", "read_records"]

REQUIRED_COLUMNS = ("id", "text", "image")
GENERATED_COLUMNS = ("pair_id", "post_id", "text", "image", "image_path", "image_sha256", "text_sha256")
EXTENSION_FORMATS = {
    ".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".txt": "csv",  # .txt: delimiter from the header
    ".jsonl": "jsonl", ".ndjson": "jsonl",
    ".parquet": "parquet", ".pq": "parquet",
}
FORMATS = ("csv", "tsv", "jsonl", "parquet")
IMAGE_SEPARATOR = ";"
# Longest text kept per cell (characters): a post is far shorter; a longer cell is a broken
# export (e.g. an unbalanced quote swallowing the rest of the file) and is rejected with reason
# "cell_too_large" instead of being embedded. Equal to the csv module's default field limit.
MAX_CELL_CHARS = 131_072
_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


@dataclass
class PairsTable:
    """Valid pairs plus the report of what was skipped.

    ``pairs`` columns: pair_id, post_id, text, image (string as written), image_path (absolute,
    symlinks resolved), image_sha256 (of the file bytes; None if hashing was off), text_sha256
    (of the UTF-8 text), then the extra source columns; index 0..n-1 in source order.
    """

    pairs: pd.DataFrame
    report: ValidationReport
    images_root: str | None

    def __len__(self) -> int:
        return len(self.pairs)


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
        except ValueError as exc:
            out.rejected.append(RejectedRow(line_no, None, "*", "malformed_json", f"line {line_no}: {exc}"))
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


# ---------------------------------------------------------------------------------------------
# Field normalisation


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _undecodable(value: str) -> bool:
    """True if ``value`` holds surrogate-escaped bytes that were not valid in the file encoding."""
    try:
        value.encode("utf-8")
        return False
    except UnicodeEncodeError:
        return True


def _clean_extra(value: Any) -> Any:
    if isinstance(value, str) and _undecodable(value):
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return value


def _as_id(value: Any) -> tuple[str | None, str | None]:
    """(id string, problem) for an ``id`` / ``post_id`` value."""
    if isinstance(value, str):
        return value.strip() or None, None
    if _is_missing(value):
        return None, None
    if isinstance(value, bool):
        return None, f"boolean id {value!r}"
    if isinstance(value, int):
        return str(value), None
    if isinstance(value, float):
        return None, f"floating-point id {value!r} (digits may be lost; store ids as text or integers)"
    return None, f"id of type {type(value).__name__}"


def _as_text(value: Any) -> tuple[str, str | None]:
    if isinstance(value, str):
        return value, None
    if _is_missing(value):
        return "", None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value), None
    return "", f"text of type {type(value).__name__}"


def _as_images(value: Any) -> tuple[list[str], str | None]:
    """Image strings of one post (``;``-separated string or a list), blanks dropped."""
    if isinstance(value, str):
        if IMAGE_SEPARATOR not in value:  # fast path: the common single image
            value = value.strip()
            return ([value] if value else []), None
        items = value.split(IMAGE_SEPARATOR)
    elif _is_missing(value):
        return [], None
    elif isinstance(value, (list, tuple)):
        items = value
    else:
        return [], f"image of type {type(value).__name__}"
    if not all(isinstance(v, str) or v is None for v in items):
        return [], "image list holds non-string items"
    return [s.strip() for s in items if s and s.strip()], None


# ---------------------------------------------------------------------------------------------
# Image paths and checks


class _PathPolicy:
    """Resolves image strings to absolute lexical paths and applies the allowed-roots rule."""

    def __init__(self, base: str, roots: list[str] | None):
        self.base = base
        self.roots = roots
        self.real_roots = tuple(os.path.realpath(r) for r in roots) if roots else None
        # a root given through a symlink may be written either way in the table
        self.lexical_roots = tuple(roots) + self.real_roots if roots else None

    def resolve(self, image: str) -> tuple[str | None, str | None, str]:
        """(lexical absolute path, reason, message); reason None when the path may be checked."""
        if _URL.match(image):
            return None, "url_not_supported", f"{image} is a URL; download the images and list local paths"
        if "\x00" in image:
            return None, "invalid_path", f"{image!r} contains a NUL character"
        path = os.path.normpath(image if os.path.isabs(image) else os.path.join(self.base, image))
        if self.lexical_roots is not None and not is_under(path, self.lexical_roots):
            return None, "path_outside_root", (
                f"{image} resolves to {path}, outside the allowed roots ({', '.join(self.roots)})")
        return path, None, ""


def _check_images(
    paths: list[str],
    mode: CheckMode,
    real_roots: tuple[str, ...] | None,
    max_image_pixels: int | None,
    hash_bytes: bool,
    workers: int | None,
    executor: str,
    progress: bool | Callable[[int, int], None],
) -> dict[str, ImageCheck]:
    """Check distinct files in parallel chunks; returns lexical path -> ImageCheck."""
    total = len(paths)
    if workers is None:
        workers = min(32, (os.cpu_count() or 1) + 4) if executor == "thread" else (os.cpu_count() or 1)
    chunk_size = max(1, min(64, total // (max(workers, 1) * 4) or 1))
    chunks = [paths[i:i + chunk_size] for i in range(0, total, chunk_size)]
    args = (mode, real_roots, max_image_pixels, hash_bytes)

    bar = None
    if progress is True:
        from tqdm.auto import tqdm

        bar = tqdm(total=total, unit="img", desc="checking images")
    done = 0

    def advance(n: int) -> None:
        nonlocal done
        done += n
        if bar is not None:
            bar.update(n)
        elif callable(progress):
            progress(done, total)

    results: dict[str, ImageCheck] = {}
    try:
        if workers <= 1 or len(chunks) <= 1:
            for chunk in chunks:
                results.update(zip(chunk, check_image_chunk(chunk, *args)))
                advance(len(chunk))
        else:
            pool: Executor
            if executor == "process":
                import multiprocessing

                # spawn: forking a process that runs threads (tqdm, the caller's) can deadlock
                pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
            else:
                pool = ThreadPoolExecutor(workers, thread_name_prefix="image-check")
            with pool:
                futures = {pool.submit(check_image_chunk, chunk, *args): chunk for chunk in chunks}
                for future in as_completed(futures):
                    chunk = futures[future]
                    results.update(zip(chunk, future.result()))
                    advance(len(chunk))
    finally:
        if bar is not None:
            bar.close()
    return results


# ---------------------------------------------------------------------------------------------
# Public entry point


@contextlib.contextmanager
def _gc_paused():
    """Pause the cyclic GC: building ~10^6 acyclic lists / tuples otherwise triggers repeated
    full collections that cost as much as the parsing itself (measured ~1.5-2x on 300k rows)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def load_pairs(
    path,
    images_root=None,
    *,
    allowed_roots: Iterable | None = None,
    check_images: CheckMode = "full",
    workers: int | None = None,
    progress: bool | Callable[[int, int], None] = False,
    format: str | None = None,
    max_image_pixels: int | None = None,
    hash_images: bool = True,
    executor: Literal["thread", "process"] = "thread",
) -> PairsTable:
    """Read, expand and validate a pairs table; see the module docstring for the conventions.

    check_images: "full" decodes every distinct image, "header" identifies it and runs Pillow's
        ``verify()`` (fast; misses truncated JPEG data), "none" checks existence and size only.
    allowed_roots: folders images may live in (default: ``[images_root]`` if given, else no limit).
    workers: parallel image checks (default: CPU count + 4 threads); 0 or 1 checks in this process.
    progress: True for a tqdm bar over image checks, or a callable ``(done, total)``.
    format: "csv", "tsv", "jsonl" or "parquet" (default: from the extension).
    max_image_pixels: width × height limit (default: ``PIL.Image.MAX_IMAGE_PIXELS``).
    hash_images: compute ``image_sha256`` (reads every file even with check_images="none").
    executor: "thread" (decoding and hashing release the GIL) or "process".
    Raises DataError when the file cannot be used or no valid pair is left (the exception's
    ``report`` attribute then holds the ValidationReport).
    """
    with _gc_paused():
        return _load_pairs(path, images_root, allowed_roots=allowed_roots,
                           check_images=check_images, workers=workers, progress=progress,
                           format=format, max_image_pixels=max_image_pixels,
                           hash_images=hash_images, executor=executor)


def _load_pairs(
    path,
    images_root=None,
    *,
    allowed_roots: Iterable | None = None,
    check_images: CheckMode = "full",
    workers: int | None = None,
    progress: bool | Callable[[int, int], None] = False,
    format: str | None = None,
    max_image_pixels: int | None = None,
    hash_images: bool = True,
    executor: Literal["thread", "process"] = "thread",
) -> PairsTable:
    """``load_pairs`` proper (the public function runs it with the GC paused)."""
    source = os.path.abspath(os.fspath(path))
    if check_images not in CHECK_MODES:
        raise ConfigError(f"check_images must be one of {', '.join(CHECK_MODES)}, not {check_images!r}")
    if executor not in ("thread", "process"):
        raise ConfigError(f"executor must be 'thread' or 'process', not {executor!r}")
    if images_root is not None:
        images_root = os.path.abspath(os.fspath(images_root))
        if not os.path.isdir(images_root):
            raise DataError(f"images root {images_root} is not a folder")
    base = images_root or os.path.dirname(source)
    if allowed_roots is not None:
        roots = [os.path.abspath(os.fspath(r)) for r in allowed_roots]
    else:
        roots = [images_root] if images_root else None
    policy = _PathPolicy(base, roots)
    if max_image_pixels is None:
        max_image_pixels = Image.MAX_IMAGE_PIXELS

    raw = read_records(source, format)
    rejected = list(raw.rejected)
    columns = raw.columns
    col = {c: i for i, c in enumerate(columns)}
    extra_columns = [c for c in columns if c not in ("id", "text", "image", "post_id")]
    extra_index = [col[c] for c in extra_columns]
    i_id, i_text, i_image = col.get("id"), col.get("text"), col.get("image")
    i_post = col.get("post_id")
    check_undecodable = raw.may_have_undecodable

    def value(values: list, i: int | None) -> Any:
        return None if i is None else values[i]  # every reader yields full-width records

    # Pass 1: row-level checks and `;` expansion. A pending pair is
    # (row, pair_id, post_id, text, image string, lexical path, extra values).
    pending: list[tuple] = []
    seen_ids: set[str] = set()
    seen_pair_ids: set[str] = set()
    resolved: dict[str, tuple[str | None, str | None, str]] = {}
    n_expanded = 0
    for row_no, values in raw.records:
        def reject(field_name: str, reason: str, message: str, rid: str | None = None) -> None:
            rejected.append(RejectedRow(row_no, rid, field_name, reason, message))

        if check_undecodable:
            bad = [c for c, i in (("id", i_id), ("text", i_text), ("image", i_image), ("post_id", i_post))
                   if isinstance(value(values, i), str) and _undecodable(values[i])]
            if bad:
                reject(bad[0], "undecodable_text",
                       f"{', '.join(bad)} holds bytes that are not valid {raw.encoding.split()[0]}")
                continue
        post_key, problem = _as_id(values[i_id])
        if problem:
            reject("id", "invalid_value", problem)
            continue
        if post_key is None:
            reject("id", "missing_id", "empty id")
            continue
        if post_key in seen_ids:
            reject("id", "duplicate_id", f"id {post_key} already used by an earlier row (kept)", post_key)
            continue
        seen_ids.add(post_key)
        text, problem = _as_text(values[i_text])
        if problem:
            reject("text", "invalid_value", problem, post_key)
            continue
        if len(text) > MAX_CELL_CHARS:  # JSONL / Parquet: no reader-level limit
            reject("text", "cell_too_large", f"text of {len(text):,} characters; the limit "
                   f"is {MAX_CELL_CHARS:,} per cell", post_key)
            continue
        if not text.strip():
            reject("text", "empty_text", "empty or whitespace-only text", post_key)
            continue
        images, problem = _as_images(values[i_image])
        if problem:
            reject("image", "invalid_value", problem, post_key)
            continue
        if not images:
            reject("image", "missing_image", "no image path", post_key)
            continue
        if i_post is None:
            post_id = post_key
        else:
            post_id, problem = _as_id(values[i_post])
            if problem:
                reject("post_id", "invalid_value", problem, post_key)
                continue
            post_id = post_id or post_key
        if check_undecodable:  # damaged bytes in a kept column become U+FFFD
            extras = [_clean_extra(values[i]) for i in extra_index]
        else:
            extras = [values[i] for i in extra_index]

        in_post: set[str] = set()
        n_expanded += len(images)
        for k, image in enumerate(images, start=1):
            pair_id = post_key if len(images) == 1 else f"{post_key}#{k}"
            if pair_id in seen_pair_ids:  # e.g. a post "5" with two images next to a post "5#1"
                reject("image", "duplicate_pair_id", f"pair id {pair_id} already generated by an earlier row", pair_id)
                continue
            seen_pair_ids.add(pair_id)
            if image not in resolved:
                resolved[image] = policy.resolve(image)
            lexical, reason, message = resolved[image]
            if reason:
                reject("image", reason, message, pair_id)
                continue
            if lexical in in_post:
                reject("image", "duplicate_image_in_post", f"{image} listed twice in this post", pair_id)
                continue
            in_post.add(lexical)
            pending.append((row_no, pair_id, post_id, text, image, lexical, extras))

    n_rows_read, encoding = raw.n_rows_read, raw.encoding
    del raw  # the pending pairs hold what is still needed

    # Pass 2: each distinct file once.
    distinct = list(dict.fromkeys(p[5] for p in pending))
    checks = _check_images(distinct, check_images, policy.real_roots, max_image_pixels,
                           hash_images, workers, executor, progress)

    kept = []
    for pair in pending:
        check = checks[pair[5]]
        if check.reason:
            rejected.append(RejectedRow(pair[0], pair[1], "image", check.reason, check.message))
        else:
            kept.append((pair, check))
    rejected.sort(key=lambda r: r.row)  # stable: row-level before pair-level within a row

    report = ValidationReport(source, n_rows_read, n_expanded, len(kept), rejected, encoding)
    if not kept:
        err = DataError(f"{source}: no valid pairs ({len(rejected):,} rejected). "
                        f"Top reasons: {report.top_reasons_text()}")
        err.report = report
        raise err

    text_hashes: dict[str, str] = {}  # posts with several images share one text
    data: dict[str, list] = {c: [] for c in GENERATED_COLUMNS}
    for (_, pair_id, post_id, text, image, _, _), check in kept:
        data["pair_id"].append(pair_id)
        data["post_id"].append(post_id)
        data["text"].append(text)
        data["image"].append(image)
        data["image_path"].append(check.real_path)
        data["image_sha256"].append(check.sha256)
        if text not in text_hashes:
            text_hashes[text] = text_sha256(text)
        data["text_sha256"].append(text_hashes[text])
    for j, name in enumerate(extra_columns):
        out_name = f"source_{name}" if name in GENERATED_COLUMNS else name
        data[out_name] = [pair[6][j] for pair, _ in kept]
    pairs = pd.DataFrame(data)
    return PairsTable(pairs, report, images_root)
