"""Per-user storage quota (``DIPTYCH_USER_STORAGE_QUOTA_BYTES``): what a user's uploaded data
sets, engine runs and exports take on disk, counted together.

Data sets carry their size (``Dataset.stored_bytes``); a run's output folder is measured on disk
(runs started by the user); apps above this one add their own files through
``register_storage_counter`` (scoring counts its export zips), so this module never imports
them. Uploads are checked before they are written and counted while they are written
(``copy_within_quota``): a file larger than what is left never lands on disk in full.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from django.conf import settings
from django.db.models import Sum

from ..models import Dataset, EngineRun

CHUNK = 1 << 20
_COUNTERS: list[Callable[[object], int]] = []


class QuotaExceeded(Exception):
    """The user's storage quota cannot hold this; the message is for the user."""


def register_storage_counter(counter: Callable[[object], int]) -> None:
    """``counter(user) -> bytes`` of files an app stores for the user (idempotent)."""
    if counter not in _COUNTERS:
        _COUNTERS.append(counter)


def folder_bytes(path) -> int:
    """Bytes of the files under ``path`` (0 when it does not exist); links are not followed."""
    total, stack = 0, [os.fspath(path)] if path else []
    while stack:
        try:
            with os.scandir(stack.pop()) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
                    elif entry.is_file(follow_symlinks=False):
                        total += entry.stat(follow_symlinks=False).st_size
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            continue
    return total


def storage_used(user) -> int:
    """Bytes stored for ``user``: uploaded data sets, outputs of runs they started, and what
    registered counters report (exports)."""
    datasets = Dataset.objects.filter(created_by=user).aggregate(n=Sum("stored_bytes"))["n"]
    runs = sum(folder_bytes(d) for d in EngineRun.objects.filter(created_by=user).exclude(
        output_dir="").values_list("output_dir", flat=True))
    return (datasets or 0) + runs + sum(counter(user) for counter in _COUNTERS)


def _used_up_message(quota: int) -> str:
    return (f"your storage quota of {quota:,} bytes is used up (data sets, run outputs and "
            "exports count); delete some or ask an administrator for more")


def quota_left(user, already: int = 0) -> int | None:
    """Bytes ``user`` may still store after ``already`` more; None for operators (no user).
    Raises QuotaExceeded when nothing is left."""
    if user is None:       # operators (management commands): no quota
        return None
    quota = settings.DIPTYCH_USER_STORAGE_QUOTA_BYTES
    left = quota - storage_used(user) - already
    if left < 0:
        raise QuotaExceeded(_used_up_message(quota))
    return left


def copy_within_quota(upload, dest: Path, left: int | None) -> int:
    """Write an upload (Django UploadedFile, or an open binary file) to ``dest``; refused before
    writing when its declared size exceeds ``left``, and stopped (file removed) as soon as the
    bytes written do. Returns the bytes written."""
    size = getattr(upload, "size", None)
    if left is not None and size is not None and size > left:
        raise QuotaExceeded(f"the upload ({size:,} bytes) is larger than what your storage "
                            f"quota leaves ({left:,} bytes)")
    chunks = upload.chunks() if hasattr(upload, "chunks") else iter(
        lambda: upload.read(CHUNK), b"")
    written = 0
    try:
        with open(dest, "wb") as out:
            for chunk in chunks:
                written += len(chunk)
                if left is not None and written > left:
                    raise QuotaExceeded(f"the upload is larger than what your storage quota "
                                        f"leaves ({left:,} bytes)")
                out.write(chunk)
    except QuotaExceeded:
        Path(dest).unlink(missing_ok=True)
        raise
    return written
