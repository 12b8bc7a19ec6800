"""The files of a study: each data set's table and images, each run's output folder.

In the archive a data set lives under ``datasets/<id>/`` (``table/<file name>``, ``images/<path
as the table writes it>``, or ``image_hashes.json`` when the images stay behind) and a run under
``runs/<id>/`` (its output folder as it is); ids are the archive's, not the receiving
installation's.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from clustering_engine.table_reader import read_records

from ..services.storage import resolve_inside

CHUNK = 1 << 20


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def table_images(dataset) -> dict[str, Path]:
    """{image path as the table writes it: file} of the data set's images that exist under its
    images root (a missing image stays missing; nothing outside the root is read)."""
    raw = read_records(dataset.table_path)
    column = raw.columns.index("image")
    found = {}
    for _, values in raw.records:
        name = str(values[column] or "").strip() if column < len(values) else ""
        if not name or name in found:
            continue
        target = resolve_inside(dataset.images_root, name)
        if target is not None and target.is_file():
            found[name] = target
    return found


def dataset_files(dataset, with_images: bool) -> tuple[dict[str, Path], dict[str, str]]:
    """(archive name: file to copy, image path: sha256 for an images-left-behind manifest);
    nothing when the table is gone from this server (the manifest lists it as missing)."""
    prefix = f"datasets/{dataset.pk}"
    table = Path(dataset.table_path)
    if not dataset.table_path or not table.is_file():
        return {}, {}
    files = {f"{prefix}/table/{table.name}": table}
    images = table_images(dataset)
    if with_images:
        files.update({f"{prefix}/images/{name}": path for name, path in images.items()})
        return files, {}
    return files, {name: sha256_of(path) for name, path in sorted(images.items())}


def run_files(run) -> dict[str, Path]:
    folder = Path(run.output_dir or "")
    if not run.output_dir or not folder.is_dir():
        return {}
    return {f"runs/{run.pk}/{p.relative_to(folder).as_posix()}": p
            for p in sorted(folder.rglob("*")) if p.is_file()}
