"""A coded study to archive, and its scoring export read back as CSV frames.

``export_tables`` is also run by ``sqlite_side`` in a subprocess, so it takes no fixtures.
"""
from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

import pandas as pd

# Columns holding database ids: remapped on import (order kept), so compared by rank.
ID_SUFFIX = "_id"
USER_COLUMNS = ("decided_by", "chosen_by", "created_by", "merged_by", "renamed_by")


def export_tables(project) -> dict[str, pd.DataFrame]:
    """Every CSV of the project's scoring export (the same code path as the export job)."""
    from scoring.services.exports.builder import build_bundle
    from scoring.services.exports.reader import read_export_inputs
    from scoring.services.exports.writer import write_bundle

    inputs = read_export_inputs(project)
    with tempfile.TemporaryDirectory() as work:
        root = Path(work) / "export"
        write_bundle(build_bundle(inputs), root,
                     [(r.run.pk, f) for r in inputs.runs for f in r.figure_files])
        return {p.relative_to(root).as_posix(): pd.read_csv(p, dtype=str, keep_default_na=False)
                for p in sorted(root.rglob("*.csv"))}


def comparable(frame: pd.DataFrame, usernames: dict[str, str]) -> pd.DataFrame:
    """The frame with database ids replaced by their rank in the column (an import keeps the
    order of ids, not their values) and usernames by their pseudonyms."""
    frame = frame.copy()
    for column in frame.columns:
        # an id column with an empty cell is written as floats ("5.0")
        if column.endswith(ID_SUFFIX) and frame[column].str.fullmatch(r"(\d+(\.0)?)?").all():
            numbers = pd.to_numeric(frame[column].replace("", None))
            frame[column] = numbers.rank(method="dense").astype("Int64").astype(str)
        elif column in USER_COLUMNS:
            frame[column] = frame[column].map(lambda v: usernames.get(v, v))
    return frame


def archive_members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def rewrite_archive(path: Path, out: Path, members: dict[str, bytes]) -> Path:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    out.write_bytes(buffer.getvalue())
    return out
