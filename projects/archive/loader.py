"""Import a project archive: every row is created afresh (primary keys remapped, old id -> new
id for every foreign key and many-to-many), users become inactive pseudonymous accounts, and the
study's files are written to a staging folder and moved into place only once every row is in.
One transaction: a refusal or a failure leaves no row and no file behind.

Rows of one model are inserted in the archive's id order, so the new ids keep the old order
(pages and exports that sort by id read the same). Timestamps are kept as archived (a raw
insert: ``auto_now`` fields are not reset). An archive of an older schema is deserialised with
today's models: fields it lacks take their defaults, fields since removed are ignored.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import serializers
from django.core.serializers.base import DeserializationError
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from ..models import Dataset, EngineRun, Project
from ..services.storage import datasets_root, run_output_dir
from .reader import ArchiveRefused, OpenedArchive, open_archive
from .contents import BATCH
from .writer import RECORDS

CHUNK = 1 << 20


@dataclass
class Imported:
    project: Project
    ids: dict = field(default_factory=dict)     # (model label, old id) -> new id
    users: dict = field(default_factory=dict)   # old user id -> new user id


def import_archive(path: str | Path, using: str = DEFAULT_DB_ALIAS) -> Imported:
    opened = open_archive(path, using)
    staging = Path(tempfile.mkdtemp(prefix=".archive-import-",
                                    dir=_ensure(Path(settings.MEDIA_ROOT))))
    placed: list[Path] = []
    try:
        with opened.zip, transaction.atomic(using=using):
            imported = Imported(project=None)
            imported.users = _users(opened.users, using)
            _rows(opened, imported, using)
            moves = _stage_files(opened, imported, staging, using)
            for source, target in moves:
                if target.exists():
                    raise ArchiveRefused(f"{target}: already exists on this installation")
                _ensure(target.parent)
                os.replace(source, target)
                placed.append(target)
        return imported
    except BaseException:
        for folder in placed:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _ensure(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _users(users: list[dict], using: str) -> dict[int, int]:
    """An inactive account without a usable password per pseudonym; an account of that name made
    by an earlier import is reused, anyone else's name is never taken over."""
    user_model = get_user_model()
    manager = user_model._default_manager.db_manager(using)
    ids = {}
    for entry in users:
        name, n = str(entry["pseudonym"]), 1
        while True:
            existing = manager.filter(username=name).first()
            if existing is None:
                user = user_model(username=name, is_active=False)
                user.set_unusable_password()
                user.save(using=using)
                break
            if not existing.is_active and not existing.has_usable_password():
                user = existing
                break
            n += 1
            name = f"{entry['pseudonym']}-{n}"
        ids[int(entry["pk"])] = user.pk
    return ids


def _chunks(opened: OpenedArchive):
    """Runs of up to BATCH consecutive records of one model."""
    chunk: list[dict] = []
    for record in opened.records():
        if chunk and (record["model"] != chunk[0]["model"] or len(chunk) == BATCH):
            yield chunk
            chunk = []
        chunk.append(record)
    if chunk:
        yield chunk


def _deserialised(records: list[dict], using: str) -> list:
    try:
        return list(serializers.deserialize("python", records, using=using,
                                            ignorenonexistent=True))
    except (DeserializationError, LookupError, ValueError, TypeError) as exc:
        raise ArchiveRefused(f"{RECORDS}: a {records[0]['model']} record does not fit this "
                             f"installation ({exc})") from None


def _rows(opened: OpenedArchive, imported: Imported, using: str) -> None:
    user_model = get_user_model()
    self_links: list = []
    for records in _chunks(opened):
        items = _deserialised(records, using)
        model = type(items[0].object)
        meta = model._meta
        for item in items:
            obj = item.object
            for f in meta.concrete_fields:
                if not f.is_relation or getattr(obj, f.attname) is None:
                    continue
                old = getattr(obj, f.attname)
                if f.related_model is model and not f.primary_key:
                    self_links.append((model, obj, f, old))
                    setattr(obj, f.attname, None)
                    continue
                new = (imported.users.get(old) if f.related_model is user_model
                       else imported.ids.get((f.related_model._meta.label, old)))
                if new is None and not f.null:
                    raise ArchiveRefused(f"{RECORDS}: {meta.label} {obj.pk} points at "
                                         f"{f.related_model._meta.label} {old}, which the "
                                         "archive does not hold")
                setattr(obj, f.attname, new)
        _refuse_taken_unique_values(model, [i.object for i in items], using)
        _insert(model, items, imported, using)
    for model, obj, f, old in self_links:
        model._base_manager.using(using).filter(pk=obj.pk).update(
            **{f.attname: imported.ids.get((model._meta.label, old))})
    project_ids = [new for (label, _), new in imported.ids.items()
                   if label == Project._meta.label]
    if len(project_ids) != 1:
        raise ArchiveRefused(f"{RECORDS}: holds {len(project_ids)} projects, not one")
    imported.project = Project.objects.using(using).get(pk=project_ids[0])


def _refuse_taken_unique_values(model, objs, using: str) -> None:
    """A unique public id that this installation already holds means the study (or a copy of
    it) is here already: refuse, naming it, rather than fail on the constraint."""
    for f in model._meta.concrete_fields:
        if not f.unique or f.primary_key:
            continue
        values = [getattr(o, f.attname) for o in objs if getattr(o, f.attname) is not None]
        for start in range(0, len(values), 500):
            taken = model._base_manager.using(using).filter(
                **{f"{f.attname}__in": values[start:start + 500]}).values_list(
                f.attname, flat=True).first()
            if taken is not None:
                raise ArchiveRefused(
                    f"{RECORDS}: {model._meta.label} {f.name} {taken!r} already exists here: "
                    "this study (or a copy of it) is already in this installation")


def _insert(model, items, imported: Imported, using: str) -> None:
    meta = model._meta
    auto_pk = meta.pk.db_returning
    fields = [f for f in meta.local_concrete_fields if not (auto_pk and f.primary_key)]
    objs = []
    for item in items:
        old = item.object.pk
        item.old_pk = old
        if auto_pk:
            item.object.pk = None
        objs.append(item.object)
    ops = connections[using].ops
    batch = max(1, ops.bulk_batch_size(fields, objs) if objs else 1)
    manager = model._base_manager.using(using)
    for start in range(0, len(objs), batch):
        chunk = objs[start:start + batch]
        returned = manager._insert(chunk, fields=fields, returning_fields=[meta.pk] if auto_pk
                                   else None, raw=True, using=using)
        if auto_pk:
            for obj, row in zip(chunk, returned):
                obj.pk = row[0]
    for item in items:
        imported.ids[(meta.label, item.old_pk)] = item.object.pk
        item.object._state.adding, item.object._state.db = False, using
    for item in items:
        for name, values in (item.m2m_data or {}).items():
            relation = meta.get_field(name)
            target = relation.related_model._meta.label
            through = relation.remote_field.through
            through._base_manager.using(using).bulk_create([through(**{
                f"{relation.m2m_field_name()}_id": item.object.pk,
                f"{relation.m2m_reverse_field_name()}_id": imported.ids[(target, int(v))]})
                for v in values])


def _stage_files(opened: OpenedArchive, imported: Imported, staging: Path,
                 using: str) -> list[tuple[Path, Path]]:
    """Extract data sets and run folders into ``staging``, point their rows at where they will
    live, and return the (staged, final) folder pairs to move."""
    moves = []
    new_datasets = {}
    for (label, old), new in imported.ids.items():
        if label != Dataset._meta.label:
            continue
        dataset = Dataset.objects.using(using).get(pk=new)
        final = datasets_root() / f"imported-{new}"
        staged = _ensure(staging / "datasets" / str(new))
        prefix = f"datasets/{old}/"
        table = None
        for name in opened.members_under(prefix):
            rest = name[len(prefix):]
            if rest.startswith("table/"):
                table = rest[len("table/"):]
                _extract(opened, name, staged / table)
            elif rest.startswith("images/") or rest == "image_hashes.json":
                _extract(opened, name, staged / rest)
        _ensure(staged / "images")
        dataset.table_path = str(final / table) if table else ""
        dataset.images_root = str(final / "images")
        dataset.storage_dir = str(final)
        dataset.save(update_fields=["table_path", "images_root", "storage_dir"])
        new_datasets[new] = dataset
        moves.append((staged, final))
    for (label, old), new in imported.ids.items():
        if label != EngineRun._meta.label:
            continue
        run = EngineRun.objects.using(using).get(pk=new)
        prefix = f"runs/{old}/"
        names = opened.members_under(prefix)
        if not names:
            if run.output_dir:
                EngineRun.objects.using(using).filter(pk=new).update(output_dir="")
            continue
        final = run_output_dir(new)
        staged = _ensure(staging / "runs" / str(new))
        for name in names:
            _extract(opened, name, staged / name[len(prefix):])
        dataset = new_datasets[run.dataset_id]
        _repoint_manifest(staged / "manifest.json", dataset)
        run.manifest = _repointed(run.manifest, dataset)
        run.output_dir = str(final)
        run.save(update_fields=["manifest", "output_dir"])
        moves.append((staged, final))
    return moves


def _extract(opened: OpenedArchive, name: str, target: Path) -> None:
    _ensure(target.parent)
    with opened.zip.open(name) as source, open(target, "wb") as out:
        shutil.copyfileobj(source, out, CHUNK)


def _repointed(manifest: dict, dataset: Dataset) -> dict:
    """The engine manifest with its data section naming the imported table and images (the
    engine's ``verify`` reruns from them)."""
    if not isinstance(manifest, dict) or not isinstance(manifest.get("data"), dict):
        return manifest
    data = dict(manifest["data"])
    if "table" in data:
        data["table"] = dataset.table_path
    if "images_root" in data:
        data["images_root"] = dataset.images_root
    return {**manifest, "data": data}


def _repoint_manifest(path: Path, dataset: Dataset) -> None:
    if path.is_file():
        manifest = json.loads(path.read_text(encoding="utf-8"))
        path.write_text(json.dumps(_repointed(manifest, dataset), indent=2, ensure_ascii=False),
                        encoding="utf-8")
