"""Data set import: a pairs table + a zip of images, or a folder on the server.

Both end in the engine's ``load_pairs`` so that what the page reports is exactly what a run
will use. Nothing is left behind when an import fails: the folder is removed and no Dataset row
exists (the call runs in a transaction), so a bad upload leaves the project as it was.
"""
from __future__ import annotations

import shutil
import uuid
from pathlib import Path

from django.conf import settings
from django.db import transaction

from clustering_engine.cell_values import as_images
from clustering_engine.data import load_pairs
from clustering_engine.errors import EngineError
from clustering_engine.spec import EXTENSION_FORMATS
from clustering_engine.table_reader import read_records

from ..models import Dataset, Project
from .paths import relative_to_base
from .quota import QuotaExceeded, copy_within_quota, quota_left
from .safe_zip import ArchiveLimits, UnsafeArchiveError, extract_zip_safely, member_key
from .storage import datasets_root

TABLE_SUFFIXES = tuple(EXTENSION_FORMATS)   # every suffix the engine's reader knows


class DatasetImportError(Exception):
    """The import failed; the message is meant for the user."""


def archive_limits(max_total_bytes: int | None = None) -> ArchiveLimits:
    cap = settings.DIPTYCH_MAX_ARCHIVE_BYTES
    if max_total_bytes is not None:
        cap = min(cap, max_total_bytes)
    return ArchiveLimits(max_total_bytes=cap,
                         max_files=settings.DIPTYCH_MAX_ARCHIVE_FILES,
                         max_ratio=settings.DIPTYCH_MAX_COMPRESSION_RATIO,
                         max_total_ratio=settings.DIPTYCH_MAX_COMPRESSION_RATIO)


def referenced_images(table_path: Path) -> set[str]:
    """The images the table names, as zip member keys: only these are extracted from a zip."""
    try:
        raw = read_records(str(table_path))
    except EngineError as exc:
        raise DatasetImportError(relative_to_base(str(exc), table_path.parent)) from None
    if "image" not in raw.columns:
        return set()
    column = raw.columns.index("image")
    return {member_key(name) for _, values in raw.records
            for name in as_images(values[column])[0]}


PAIR_COLUMNS = ("id", "text", "image", "post_id")


def grouping_columns(dataset) -> list[str]:
    """The table's other columns (e.g. an event label): candidates for known groupings."""
    try:
        columns = read_records(str(dataset.table_path)).columns
    except (EngineError, OSError):
        return []
    return [c for c in columns if c not in PAIR_COLUMNS]


def _table_name(filename: str) -> str:
    suffix = Path(filename).suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise DatasetImportError(f"the table must be one of {', '.join(TABLE_SUFFIXES)} "
                                 f"(got {filename!r})")
    return "table" + suffix


def validate_pairs(table_path: Path, images_root: Path):
    """Run the engine's validation; returns its ValidationReport or raises DatasetImportError."""
    try:
        table = load_pairs(table_path, images_root, allowed_roots=[images_root],
                           check_images=settings.DIPTYCH_IMPORT_CHECK_IMAGES,
                           workers=settings.DIPTYCH_ENGINE_WORKERS)
    except EngineError as exc:
        message = str(exc)
        report = getattr(exc, "report", None)
        if report is not None and report.rejected:
            message += f" — {report.top_reasons_text()}"
        raise DatasetImportError(relative_to_base(message, images_root, table_path.parent)
                                 ) from None
    return table.report


def _create(project: Project, name: str, source: str, table_path: Path, images_root: Path,
            storage_dir: str, report, created_by=None, stored_bytes: int = 0) -> Dataset:
    info = relative_to_base(report.to_dict(), images_root, table_path.parent)
    return Dataset.objects.create(
        project=project, name=name, source=source, table_path=str(table_path),
        images_root=str(images_root), storage_dir=storage_dir, validation_report=info,
        created_by=created_by, stored_bytes=stored_bytes,
        n_rows_read=info["n_rows_read"], n_pairs_valid=info["n_pairs_valid"],
        n_rejected=info["n_rejected"])


def import_uploaded_dataset(project: Project, name: str, table_file, table_filename: str,
                            images_zip=None, user=None) -> Dataset:
    """Store the table, extract the images it names from the zip safely into a new folder,
    validate, create the row. ``user``: the uploader, whose storage quota it counts against."""
    table_name = _table_name(table_filename)
    left = None
    folder = datasets_root() / f"upload-{uuid.uuid4().hex}"
    images_root = folder / "images"
    try:
        folder.mkdir(parents=True)
        table_path = folder / table_name
        # checked against the quota before and while each upload is written, not after
        stored = copy_within_quota(table_file, table_path, quota_left(user))
        left = quota_left(user, stored)
        images_root.mkdir()
        if images_zip is not None:
            zip_path = folder / "upload.zip"
            copy_within_quota(images_zip, zip_path, left)
            try:
                stored += extract_zip_safely(zip_path, images_root, archive_limits(left),
                                             wanted=referenced_images(table_path)).total_bytes
            finally:
                zip_path.unlink(missing_ok=True)
        report = validate_pairs(table_path, images_root)
        with transaction.atomic():
            return _create(project, name, Dataset.Source.UPLOAD, table_path, images_root,
                           str(folder), report, created_by=user, stored_bytes=stored)
    except UnsafeArchiveError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        quota = (f" (your storage quota leaves {left:,} bytes)"
                 if left is not None and left < settings.DIPTYCH_MAX_ARCHIVE_BYTES else "")
        raise DatasetImportError(relative_to_base(f"{exc}{quota}", images_root, folder)
                                 ) from None
    except QuotaExceeded as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise DatasetImportError(str(exc)) from None
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def allowed_server_folder(folder: str | Path, extra_roots=(), roots=None) -> Path:
    """The resolved folder if it lies under an allowed data root; else DatasetImportError.

    ``roots``: the roots this caller may use (access.server_folder_roots); None = every
    configured root (operators: management commands)."""
    resolved = Path(folder).resolve()
    base = settings.DIPTYCH_ALLOWED_DATA_ROOTS if roots is None else roots
    roots = [Path(r).resolve() for r in (*base, *extra_roots)]
    if not roots:
        raise DatasetImportError(
            "importing a folder on the server is for staff, or for projects an administrator "
            "granted a data root; upload a table and a zip of images instead")
    if not any(resolved == r or r in resolved.parents for r in roots):
        raise DatasetImportError(
            f"{folder} is not under an allowed data root; allowed: "
            f"{', '.join(map(str, roots))}")
    if not resolved.is_dir():
        raise DatasetImportError(f"{folder} is not a folder")
    return resolved


def import_server_folder(project: Project, name: str, folder: str | Path,
                         table_name: str = "pairs.csv", extra_roots=(), roots=None) -> Dataset:
    """Use a folder on the server in place (nothing copied); images resolve inside it.

    ``roots``: what the requesting user may use (pages and API pass
    ``access.server_folder_roots``); ``extra_roots`` lets trusted callers (management commands
    run by the operator) add roots.
    """
    root = allowed_server_folder(folder, extra_roots, roots)
    table_path = (root / table_name).resolve()
    if root not in table_path.parents:
        raise DatasetImportError(f"the table {table_name!r} must be inside {root}")
    if not table_path.is_file():
        raise DatasetImportError(f"no table {table_name!r} in {root}")
    report = validate_pairs(table_path, root)
    return _create(project, name, Dataset.Source.SERVER_FOLDER, table_path, root, "", report)


def delete_dataset_files(dataset: Dataset) -> None:
    """Remove the folder Diptych owns for an uploaded data set (server folders are left alone)."""
    if dataset.storage_dir:
        shutil.rmtree(dataset.storage_dir, ignore_errors=True)
