"""Validation report for a pairs table, and the per-image checks that feed it.

Reason codes (``RejectedRow.reason``) are stable strings meant for filtering and counting:

row level (``field`` names the column):
    malformed_row       a CSV record with more fields than the header
    malformed_json      a JSONL line that is not a JSON object
    undecodable_text    a field whose bytes cannot be decoded in the file's encoding
    invalid_value       a value of an unusable type (e.g. a float id, which may have lost digits)
    missing_id          empty ``id``
    duplicate_id        ``id`` seen on an earlier row (the first row is kept)
    empty_text          empty or whitespace-only ``text``
    cell_too_large      a cell over ``data.MAX_CELL_CHARS`` characters (131,072; e.g. an
                        unbalanced quote swallowing the rest of a CSV); the row is skipped
    missing_image       empty ``image``
pair level (``field`` is ``image``; ``id`` is the pair id):
    duplicate_image_in_post   the same image listed twice in one post
    duplicate_pair_id   a generated pair id that an earlier pair already has
    url_not_supported   ``image`` is a URL: download the images first
    path_outside_root   the path (``../`` or absolute) leaves the allowed roots
    symlink_outside_root  the path is inside a root but a symlink resolves outside it
    missing_file / not_a_file / unreadable_file / empty_file
    not_an_image        Pillow cannot identify the format (e.g. a text file named .jpg)
    truncated_image     the file ends before the image data does
    corrupt_image       the image data cannot be decoded
    decompression_bomb  declared size above ``max_image_pixels``

Truncation is detected only while ``PIL.ImageFile.LOAD_TRUNCATED_IMAGES`` is False (Pillow's
default); code that sets it process-wide makes truncated files pass the "full" check.
"""

from __future__ import annotations

import csv
import io
import json
import os
import stat
from collections import Counter
from dataclasses import asdict, dataclass, field
from struct import error as struct_error
from typing import Iterable, Literal

from PIL import Image, UnidentifiedImageError

from .hashing import bytes_sha256
from .spec import CHECK_MODES  # noqa: F401  (re-exported)

CheckMode = Literal["full", "header", "none"]


@dataclass
class RejectedRow:
    """One skipped row or pair.

    ``row`` is the 1-based data row number in the source file, header excluded (CSV: the n-th
    record after the header, blank lines not counted, so it is ``pandas.read_csv(...).iloc[row-1]``;
    JSONL: the line number; Parquet: the row position + 1). Pairs expanded from one row share it.
    ``id`` is the post id for row-level reasons and the pair id for image reasons (None if unknown).
    """

    row: int
    id: str | None
    field: str
    reason: str
    message: str


@dataclass
class ValidationReport:
    """What was read, what survived, and why each skipped row or pair was skipped.

    ``n_rows_read`` counts data records (blank lines excluded, malformed ones included);
    ``n_pairs_expanded`` the pairs the parsed rows give after ``;`` expansion (a row with no
    image counts as one); ``n_pairs_valid`` the pairs kept.
    """

    source: str
    n_rows_read: int
    n_pairs_expanded: int
    n_pairs_valid: int
    rejected: list[RejectedRow] = field(default_factory=list)
    encoding: str | None = None

    def counts_by_reason(self) -> dict[str, int]:
        """Rejections per reason code, most frequent first."""
        return dict(Counter(r.reason for r in self.rejected).most_common())

    def summary(self, max_reasons: int = 8) -> str:
        """A few lines for the screen: totals, then counts per reason."""
        lines = [
            f"{os.path.basename(self.source)}: {self.n_rows_read:,} rows read, "
            f"{self.n_pairs_expanded:,} pairs, {self.n_pairs_valid:,} valid, "
            f"{len(self.rejected):,} rejected"
        ]
        counts = self.counts_by_reason()
        for reason, n in list(counts.items())[:max_reasons]:
            lines.append(f"  {reason}: {n:,}")
        if len(counts) > max_reasons:
            rest = sum(list(counts.values())[max_reasons:])
            lines.append(f"  ({len(counts) - max_reasons} more reasons: {rest:,})")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """JSON-ready dict: totals, counts per reason and every rejected row."""
        return {
            "source": self.source,
            "encoding": self.encoding,
            "n_rows_read": self.n_rows_read,
            "n_pairs_expanded": self.n_pairs_expanded,
            "n_pairs_valid": self.n_pairs_valid,
            "n_rejected": len(self.rejected),
            "counts_by_reason": self.counts_by_reason(),
            "rejected": [asdict(r) for r in self.rejected],
        }

    def to_json(self, path) -> None:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.to_dict(), f, ensure_ascii=False, indent=1)

    def to_csv(self, path) -> None:
        """One line per rejected row: row, id, field, reason, message (UTF-8)."""
        with open(path, "w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["row", "id", "field", "reason", "message"])
            for r in self.rejected:
                writer.writerow([r.row, "" if r.id is None else r.id, r.field, r.reason, r.message])

    def top_reasons_text(self, n: int = 3) -> str:
        """E.g. ``missing_file: 10 (row 3, id '42': ...); empty_text: 2 (...)``."""
        parts = []
        for reason, count in list(self.counts_by_reason().items())[:n]:
            first = next(r for r in self.rejected if r.reason == reason)
            parts.append(f"{reason}: {count:,} (e.g. row {first.row}, id {first.id!r}: {first.message})")
        return "; ".join(parts)


@dataclass
class ImageCheck:
    """Outcome of checking one distinct image file. ``reason`` is None when the file is usable."""

    real_path: str
    sha256: str | None = None
    reason: str | None = None
    message: str = ""


def is_under(path: str, roots: Iterable[str]) -> bool:
    """True if normalised absolute ``path`` equals or lies below one of ``roots`` (also normalised)."""
    path = os.path.normcase(path)
    for root in roots:
        root = os.path.normcase(root)
        if path == root or path.startswith(root if root.endswith(os.sep) else root + os.sep):
            return True
    return False


def check_image_file(
    lexical_path: str,
    mode: CheckMode = "full",
    real_roots: tuple[str, ...] | None = None,
    max_image_pixels: int | None = None,
    hash_bytes: bool = True,
) -> ImageCheck:
    """Resolve, hash and (per ``mode``) decode one image file; never raises for bad files.

    ``real_roots``: symlink-resolved allowed roots, or None for no containment check.
    ``mode``: "full" decodes every pixel (``img.load()``), "header" identifies the format and runs
    ``verify()`` (PNG chunk CRCs; JPEG data is not decoded), "none" only checks the file exists.
    ``max_image_pixels``: declared width × height above this is a decompression bomb; it is
    checked from the header, before any pixel is decoded, so the guard does not depend on
    Pillow's process-wide ``Image.MAX_IMAGE_PIXELS`` (Pillow's own DecompressionBombError is
    caught too).
    """
    real_path = os.path.realpath(lexical_path)
    if real_roots is not None and not is_under(real_path, real_roots):
        return ImageCheck(real_path, reason="symlink_outside_root",
                          message=f"{lexical_path} resolves to {real_path}, outside the allowed roots")
    try:
        st = os.stat(real_path)
    except FileNotFoundError:
        return ImageCheck(real_path, reason="missing_file", message=f"no such file: {lexical_path}")
    except OSError as exc:
        return ImageCheck(real_path, reason="unreadable_file", message=f"{lexical_path}: {exc.strerror or exc}")
    if not stat.S_ISREG(st.st_mode):
        return ImageCheck(real_path, reason="not_a_file", message=f"not a regular file: {lexical_path}")
    if st.st_size == 0:
        return ImageCheck(real_path, reason="empty_file", message=f"0-byte file: {lexical_path}")
    if mode == "none" and not hash_bytes:
        return ImageCheck(real_path)
    try:
        with open(real_path, "rb") as f:
            data = f.read()
    except OSError as exc:
        return ImageCheck(real_path, reason="unreadable_file", message=f"{lexical_path}: {exc.strerror or exc}")
    sha256 = bytes_sha256(data) if hash_bytes else None
    if mode == "none":
        return ImageCheck(real_path, sha256)
    reason, message = _decode_problem(data, mode, max_image_pixels)
    if reason:
        return ImageCheck(real_path, sha256, reason, f"{lexical_path}: {message}")
    return ImageCheck(real_path, sha256)


def _decode_problem(data: bytes, mode: CheckMode, max_image_pixels: int | None) -> tuple[str | None, str]:
    """(reason, message) for image bytes that Pillow cannot use, or (None, "")."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            width, height = img.size
            if max_image_pixels is not None and width * height > max_image_pixels:
                return "decompression_bomb", (
                    f"declared size {width}x{height} = {width * height:,} pixels exceeds the "
                    f"limit of {max_image_pixels:,}")
            if mode == "header":
                img.verify()
            else:
                img.load()
    except Image.DecompressionBombError as exc:
        return "decompression_bomb", str(exc)
    except UnidentifiedImageError:
        return "not_an_image", "not an image file Pillow can identify"
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError,
            struct_error, MemoryError, ZeroDivisionError) as exc:
        # Pillow signals damaged data with a zoo of exception types; "truncated" is the only
        # one worth a separate code (a partial download), the rest is corrupt data.
        text = str(exc) or type(exc).__name__
        if "truncated" in text.lower() or isinstance(exc, EOFError):
            return "truncated_image", text
        return "corrupt_image", text
    return None, ""


def check_image_chunk(
    paths: list[str],
    mode: CheckMode,
    real_roots: tuple[str, ...] | None,
    max_image_pixels: int | None,
    hash_bytes: bool,
) -> list[ImageCheck]:
    """Check several files in one task (amortises executor overhead on many small images)."""
    return [check_image_file(p, mode, real_roots, max_image_pixels, hash_bytes) for p in paths]
