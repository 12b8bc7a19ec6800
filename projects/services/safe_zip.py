"""Safe extraction of an uploaded zip of images.

Rejected before anything is written: absolute paths, drive letters, ``..`` components,
symbolic links (unix mode bits in ``external_attr``), nested archives, more files or more
uncompressed bytes than the caps, and entries whose compression ratio marks a zip bomb.
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


class UnsafeArchiveError(Exception):
    """The archive cannot be extracted safely; the message is for the user."""


@dataclass(frozen=True)
class ArchiveLimits:
    max_total_bytes: int
    max_files: int
    max_ratio: int = 200  # uncompressed / compressed size of one entry


@dataclass
class ExtractionResult:
    n_files: int
    total_bytes: int


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


def check_archive(archive: zipfile.ZipFile, limits: ArchiveLimits) -> list[zipfile.ZipInfo]:
    """Validate every entry; returns the file entries to extract (directories skipped)."""
    entries = archive.infolist()
    files = [i for i in entries if not i.is_dir()]
    if len(files) > limits.max_files:
        raise UnsafeArchiveError(f"the zip holds {len(files):,} files; the limit is "
                                 f"{limits.max_files:,}")
    declared = 0
    for info in entries:
        _safe_member_path(info.filename)
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
    if declared > limits.max_total_bytes:
        raise UnsafeArchiveError(f"the zip expands to {declared:,} bytes; the limit is "
                                 f"{limits.max_total_bytes:,}")
    return files


def extract_zip_safely(zip_path: str | os.PathLike, target: str | os.PathLike,
                       limits: ArchiveLimits) -> ExtractionResult:
    """Extract ``zip_path`` into ``target`` (created) or raise UnsafeArchiveError, leaving no
    partial extraction behind."""
    target = Path(target)
    try:
        archive = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise UnsafeArchiveError(f"the upload is not a readable zip file ({exc})") from None
    target.mkdir(parents=True, exist_ok=True)
    written = 0
    try:
        with archive:
            files = check_archive(archive, limits)
            for info in files:
                dest = target.joinpath(*_safe_member_path(info.filename).parts)
                dest.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(info) as src, open(dest, "xb") as out:
                    while block := src.read(CHUNK):
                        written += len(block)
                        if written > limits.max_total_bytes:
                            raise UnsafeArchiveError(
                                "the zip expands beyond its declared sizes and the limit of "
                                f"{limits.max_total_bytes:,} bytes; refused as a zip bomb")
                        out.write(block)
    except UnsafeArchiveError:
        shutil.rmtree(target, ignore_errors=True)
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError) as exc:
        shutil.rmtree(target, ignore_errors=True)
        raise UnsafeArchiveError(f"the zip could not be extracted ({exc})") from None
    return ExtractionResult(n_files=len(files), total_bytes=written)
