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
import gc
import os
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Literal

import pandas as pd
from PIL import Image

from .cell_values import (IMAGE_SEPARATOR, as_id, as_images, as_text,  # noqa: F401
                          clean_extra, has_undecodable_bytes)
from .errors import ConfigError, DataError
from .hashing import text_sha256
from .image_files import PathPolicy, check_image_files
from .spec import EXTENSION_FORMATS  # noqa: F401  (re-exported)
from .table_reader import (FORMATS, MAX_CELL_CHARS, REQUIRED_COLUMNS, RawRecords,  # noqa: F401
                           detect_encoding, read_records)
from .validation import CHECK_MODES, CheckMode, RejectedRow, ValidationReport

__all__ = ["PairsTable", "RejectedRow", "ValidationReport", "load_pairs", "detect_encoding", "read_records"]

GENERATED_COLUMNS = ("pair_id", "post_id", "text", "image", "image_path", "image_sha256", "text_sha256")


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


@_gc_paused()
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
    ``report`` attribute then holds the ValidationReport). Runs with the cyclic GC paused.
    """
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
    policy = PathPolicy(base, roots)
    if max_image_pixels is None:
        max_image_pixels = Image.MAX_IMAGE_PIXELS

    raw = read_records(source, format)
    pending, rejected, n_expanded, extra_columns = _expand_rows(raw, policy)
    n_rows_read, encoding = raw.n_rows_read, raw.encoding
    del raw  # the pending pairs hold what is still needed

    # Pass 2: each distinct file once.
    distinct = list(dict.fromkeys(p[5] for p in pending))
    checks = check_image_files(distinct, check_images, policy.real_roots, max_image_pixels,
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
    return PairsTable(_pairs_frame(kept, extra_columns), report, images_root)


def _expand_rows(raw: RawRecords, policy: PathPolicy
                 ) -> tuple[list[tuple], list[RejectedRow], int, list[str]]:
    """Pass 1: row-level checks and `;` expansion. Returns the pending pairs, each
    (row, pair_id, post_id, text, image string, lexical path, extra values), the rejected rows,
    the number of pairs before any pair-level check, and the extra column names."""
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
                   if isinstance(value(values, i), str) and has_undecodable_bytes(values[i])]
            if bad:
                reject(bad[0], "undecodable_text",
                       f"{', '.join(bad)} holds bytes that are not valid {raw.encoding.split()[0]}")
                continue
        post_key, problem = as_id(values[i_id])
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
        text, problem = as_text(values[i_text])
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
        images, problem = as_images(values[i_image])
        if problem:
            reject("image", "invalid_value", problem, post_key)
            continue
        if not images:
            reject("image", "missing_image", "no image path", post_key)
            continue
        if i_post is None:
            post_id = post_key
        else:
            post_id, problem = as_id(values[i_post])
            if problem:
                reject("post_id", "invalid_value", problem, post_key)
                continue
            post_id = post_id or post_key
        if check_undecodable:  # damaged bytes in a kept column become U+FFFD
            extras = [clean_extra(values[i]) for i in extra_index]
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
    return pending, rejected, n_expanded, extra_columns


def _pairs_frame(kept: list[tuple], extra_columns: list[str]) -> pd.DataFrame:
    """The valid pairs as a DataFrame (columns: GENERATED_COLUMNS, then the extra columns)."""
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
    return pd.DataFrame(data)
