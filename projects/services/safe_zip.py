"""Safe extraction of an uploaded zip of images.

Rejected before anything is written: absolute paths, drive letters, ``..`` components,
the same file twice, symbolic links (unix mode bits in ``external_attr``), nested archives,
more files or more uncompressed bytes than the caps, and entries whose compression ratio
marks a zip bomb.
The whole archive is capped too: what is extracted may not exceed ``max_total_ratio`` times
the zip's own size (a 332 KB zip of 300 × 1 MiB zero files: each entry under the per-entry
check, the whole 900-fold). Only the files the table names are extracted (``wanted``); the
rest of the archive never reaches the disk.
While writing, the actual bytes are counted too: the sizes in the central directory are
claims, not facts.
"""
from __future__ import annotations

import os
import shutil
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

NESTED_ARCHIVE_SUFFIXES = (".zip", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar", ".zst")
CHUNK = 1 << 20
SMALL_ARCHIVE_ALLOWANCE = 8 * CHUNK   # a tiny zip may always expand to this much


class UnsafeArchiveError(Exception):
    """The archive cannot be extracted safely; the message is for the user."""


@dataclass(frozen=True)
class ArchiveLimits:
    max_total_bytes: int
    max_files: int
    max_ratio: int = 200  # uncompressed / compressed size of one entry
    max_total_ratio: int = 200  # uncompressed bytes extracted / size of the zip file


@dataclass
class ExtractionResult:
    n_files: int
    total_bytes: int
    n_skipped: int = 0   # entries the table does not name: not extracted


def _safe_member_path(name: str) -> PurePosixPath:
    normalised = name.replace("\\", "/")
    path = PurePosixPath(normalised)
    if normalised.startswith("/") or path.is_absolute():
        raise UnsafeArchiveError(f"the zip holds an absolute path ({name!r}); refused")
    if path.parts and ":" in path.parts[0]:
        raise UnsafeArchiveError(f"the zip holds a drive-letter path ({name!r}); refused")
    if any(part == ".." for part in path.parts):
        raise UnsafeArchiveError(f"the zip holds a path that leaves the folder ({name!r}); refused")
    return path


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(info.external_attr >> 16)


def member_key(name: str) -> str:
    """How a zip entry and an image path of the table are compared (``./a/b.png`` = ``a/b.png``)."""
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
    return str(PurePosixPath(*parts))


def total_cap(zip_size: int, limits: ArchiveLimits) -> int:
    return min(limits.max_total_bytes,
               max(limits.max_total_ratio * zip_size, SMALL_ARCHIVE_ALLOWANCE))


def check_archive(archive: zipfile.ZipFile, limits: ArchiveLimits, wanted=None,
                  zip_size: int | None = None) -> list[zipfile.ZipInfo]:
    """Validate every entry; returns the file entries to extract (directories, and files not in
    ``wanted`` when it is given, skipped)."""
    entries = archive.infolist()
    files = [i for i in entries if not i.is_dir()]
    if len(files) > limits.max_files:
        raise UnsafeArchiveError(f"the zip holds {len(files):,} files; the limit is "
                                 f"{limits.max_files:,}")
    declared, seen = 0, set()
    for info in entries:
        _safe_member_path(info.filename)
        key = member_key(info.filename)
        if not info.is_dir() and key in seen:   # a second write to one file: say so here
            raise UnsafeArchiveError(f"the zip holds {info.filename!r} twice; keep one")
        seen.add(key)
        if _is_symlink(info):
            raise UnsafeArchiveError(f"the zip holds a symbolic link ({info.filename!r}); "
                                     "links are refused")
        if info.is_dir():
            continue
        if info.filename.lower().endswith(NESTED_ARCHIVE_SUFFIXES):
            raise UnsafeArchiveError(f"the zip holds another archive ({info.filename!r}); "
                                     "put the images in one zip without nested archives")
        if info.flag_bits & 0x1:
            raise UnsafeArchiveError(f"the zip holds an encrypted file ({info.filename!r})")
        declared += info.file_size
        if info.compress_size and info.file_size / info.compress_size > limits.max_ratio \
                and info.file_size > CHUNK:
            raise UnsafeArchiveError(
                f"{info.filename!r} expands {info.file_size / info.compress_size:,.0f}-fold; "
                "this looks like a zip bomb and was refused")
    if wanted is not None:
        files = [i for i in files if member_key(i.filename) in wanted]
        declared = sum(i.file_size for i in files)
    if declared > limits.max_total_bytes:
        raise UnsafeArchiveError(f"the zip expands to {declared:,} bytes; the limit is "
                                 f"{limits.max_total_bytes:,}")
    if zip_size is not None and declared > total_cap(zip_size, limits):
        raise UnsafeArchiveError(
            f"the zip ({zip_size:,} bytes) expands to {declared:,} bytes, more than "
            f"{limits.max_total_ratio}-fold; this looks like a zip bomb and was refused")
    return files


def extract_zip_safely(zip_path: str | os.PathLike, target: str | os.PathLike,
                       limits: ArchiveLimits, wanted=None) -> ExtractionResult:
    """Extract ``zip_path`` into ``target`` (created) or raise UnsafeArchiveError, leaving no
    partial extraction behind. ``wanted``: the ``member_key`` of each file to keep (None: all)."""
    target = Path(target)
    zip_size = os.path.getsize(zip_path)
    cap = total_cap(zip_size, limits)
    try:
        archive = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise UnsafeArchiveError(f"the upload is not a readable zip file ({exc})") from None
    target.mkdir(parents=True, exist_ok=True)
    written = 0
    try:
        with archive:
            files = check_archive(archive, limits, wanted, zip_size)
            skipped = sum(1 for i in archive.infolist() if not i.is_dir()) - len(files)
            for info in files:
                dest = target.joinpath(*_safe_member_path(info.filename).parts)
                dest.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(info) as src, open(dest, "xb") as out:
                    while block := src.read(CHUNK):
                        written += len(block)
                        if written > cap:
                            raise UnsafeArchiveError(
                                "the zip expands beyond its declared sizes and the limit of "
                                f"{cap:,} bytes; refused as a zip bomb")
                        out.write(block)
    except UnsafeArchiveError:
        shutil.rmtree(target, ignore_errors=True)
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError) as exc:
        shutil.rmtree(target, ignore_errors=True)
        raise UnsafeArchiveError(f"the zip could not be extracted ({exc})") from None
    return ExtractionResult(n_files=len(files), total_bytes=written, n_skipped=skipped)
