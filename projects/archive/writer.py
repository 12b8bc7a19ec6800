"""Write a project archive: one zip with ``manifest.json`` (every other file with its sha256,
the Diptych version, the schema), ``records.jsonl`` (the project's rows, Django's serialization, one a line),
``users.json`` (pseudonyms and roles) and the study's files (see ``files``)."""
from __future__ import annotations

import datetime
import decimal
import hashlib
import json
import os
import uuid
import zipfile
from pathlib import Path
from typing import Iterator

from django.core import serializers
from django.db import connections, transaction
from django.utils import timezone

from clustering_engine import __version__

from .contents import (BATCH, collect_ids, insertion_order, pseudonyms, referenced_user_ids,
                       rows_of, schema)
from .files import dataset_files, run_files, sha256_of

FORMAT = "diptych-project-archive/1"
MANIFEST, RECORDS, USERS = "manifest.json", "records.jsonl", "users.json"
# Already compressed: stored as they are (deflating them costs time and saves nothing).
STORED_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".gif", ".webp", ".parquet", ".zip"})


def _json_default(value):
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()         # full microseconds (DjangoJSONEncoder drops them)
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    raise TypeError(f"cannot archive a value of type {type(value).__name__}")


def _dump(value) -> bytes:
    return json.dumps(value, default=_json_default, ensure_ascii=False).encode("utf-8")


def study_records(project, ids: dict) -> Iterator[bytes]:
    """The project's rows as JSON lines (Django's serialization, one record a line), model by
    model in insertion order, each model's rows in id order."""
    using = project._state.db or "default"
    for model in insertion_order(ids):
        batch = []
        for row in rows_of(model, ids[model], using):
            batch.append(row)
            if len(batch) == BATCH:
                yield from _lines(batch)
                batch = []
        yield from _lines(batch)


def _lines(rows) -> Iterator[bytes]:
    for record in serializers.serialize("python", rows):
        yield _dump(record) + b"\n"


def study_users(project, ids: dict) -> list[dict]:
    using = project._state.db or "default"
    user_ids = referenced_user_ids(ids, using) | set(
        project.memberships.values_list("user_id", flat=True))
    return pseudonyms(project, user_ids)


def write_archive(project, out: str | Path, *, with_images: bool = True) -> dict:
    """Write ``project`` to the zip ``out`` (replaced only once complete); returns the manifest."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    using = project._state.db or "default"
    connection = connections[using]
    outer = connection.in_atomic_block   # then its isolation level can no longer change
    with transaction.atomic(using=using):
        if connection.vendor == "postgresql" and not outer:
            # one snapshot for every read: codes saved meanwhile are all in or all out
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        return _write(project, out, with_images)


def _write(project, out: Path, with_images: bool) -> dict:
    ids = collect_ids(project)
    users = study_users(project, ids)
    files: dict[str, str] = {}
    partial = out.with_name(f".{out.name}.partial")
    try:
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
            def put_bytes(name: str, data: bytes) -> None:
                archive.writestr(name, data)
                files[name] = hashlib.sha256(data).hexdigest()

            digest = hashlib.sha256()
            with archive.open(RECORDS, "w", force_zip64=True) as entry:
                for line in study_records(project, ids):
                    entry.write(line)
                    digest.update(line)
            files[RECORDS] = digest.hexdigest()
            put_bytes(USERS, _dump(users))
            missing = []
            for dataset in project.datasets.order_by("pk"):
                copies, image_hashes = dataset_files(dataset, with_images)
                if not copies:
                    missing.append(f"data set {dataset.pk}: table {Path(dataset.table_path).name}")
                if not with_images:
                    put_bytes(f"datasets/{dataset.pk}/image_hashes.json", _dump(image_hashes))
                for name, path in copies.items():
                    _put_file(archive, files, name, path)
            for run in project.runs.order_by("pk"):
                copies = run_files(run)
                if not copies and run.output_dir:
                    missing.append(f"run {run.pk}: output folder")
                for name, path in copies.items():
                    _put_file(archive, files, name, path)
            manifest = {
                "format": FORMAT, "diptych_version": __version__,
                "created_at": timezone.now().isoformat(),
                "project": {"id": project.pk, "name": project.name},
                "schema": schema(project._state.db or "default"),
                "images": "included" if with_images else "sha256 only (image_hashes.json)",
                "counts": {"users": len(users), **{m._meta.label_lower: len(v) for m, v in ids.items()}}, "missing": missing, "files": files}
            archive.writestr(MANIFEST, json.dumps(manifest, indent=1, ensure_ascii=False))
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    return manifest


def _put_file(archive: zipfile.ZipFile, files: dict, name: str, path: Path) -> None:
    compress = (zipfile.ZIP_STORED if path.suffix.lower() in STORED_SUFFIXES
                else zipfile.ZIP_DEFLATED)
    files[name] = sha256_of(path)
    archive.write(path, name, compress_type=compress)
