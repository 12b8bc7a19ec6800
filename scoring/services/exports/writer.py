"""Export step 3 — write: tables as CSV (spreadsheet-safe), JSONL and Parquet (the coded posts
also as Stata .dta); LaTeX; figures as PNG, SVG and PDF; the data dictionary (JSON and README);
the manifest; then one zip.

Spreadsheet safety (CSV only): a text cell starting with ``= + - @``, a tab or a carriage
return is prefixed with a single quote, so Excel/LibreOffice never evaluate it as a formula.
Only text (object/string) columns are touched: numeric columns stay numeric, so ``-1`` or
``-0.25`` is written as a number.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.api.types import is_object_dtype, is_string_dtype

from clustering_engine.figures import FORMATS, save_figure

from .builder import ExportBundle
from .dictionary import dictionary_files
from .stata import write_stata

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value):
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    for column in frame.columns:
        values = frame[column]
        if not (is_object_dtype(values) or is_string_dtype(values)):
            continue
        try:     # vectorised where the column holds text only (750,000 codes)
            risky = values.str.startswith(FORMULA_STARTS).fillna(False).astype(bool)
        except AttributeError:              # mixed values: cell by cell
            frame[column] = values.map(neutralise_cell)
            continue
        if risky.any():
            frame[column] = values.astype(object).where(~risky, "'" + values.astype(object)
                                                        .where(risky, ""))
    return frame


def iso_times(frame: pd.DataFrame) -> pd.DataFrame:
    """Timestamps as ISO 8601 UTC text (``2026-01-31T12:00:00.123456Z``), formatted by numpy in
    one call per column: pandas formats them one Python object at a time (seconds per 100,000)."""
    columns = [c for c in frame.columns if isinstance(frame[c].dtype, pd.DatetimeTZDtype)]
    if not columns:
        return frame
    frame = frame.copy()
    for column in columns:
        values = frame[column]
        text = np.datetime_as_string(values.dt.tz_convert("UTC").dt.tz_localize(None)
                                     .to_numpy(dtype="datetime64[us]"), unit="us") + "Z"
        frame[column] = pd.Series(text, index=frame.index, dtype=object).where(values.notna())
    return frame


# CSV and JSONL are written this many rows at a time: formatting converts every text column to
# Python strings, ~1 GiB at once for the 750,000 codes; the files are the same bytes either way.
ROWS_PER_CHUNK = 50_000


def write_table(frame: pd.DataFrame, stem: Path) -> list[Path]:
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_suffix(".csv"), stem.with_suffix(".jsonl"), stem.with_suffix(".parquet")]
    with (open(paths[0], "w", encoding="utf-8", newline="") as csv,
          open(paths[1], "w", encoding="utf-8", newline="") as jsonl):
        for start in range(0, max(len(frame), 1), ROWS_PER_CHUNK):
            text = iso_times(frame.iloc[start:start + ROWS_PER_CHUNK])
            spreadsheet_safe(text).to_csv(csv, index=False, header=start == 0)
            text.to_json(jsonl, orient="records", lines=True, force_ascii=False)
    if frame.empty and not len(frame.columns):
        frame = pd.DataFrame({"empty": pd.Series(dtype="string")})
    frame.to_parquet(paths[2], index=False)
    return paths


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# Tables also written for Stata: the one analyses start from.
STATA_TABLES = ("data/coded_posts",)


def write_bundle(bundle: ExportBundle, folder: Path, engine_figures=()) -> list[Path]:
    """Write every part under ``folder``; returns the paths written (manifest last)."""
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for stem, frame in bundle.tables.items():
        written += write_table(frame, folder / stem)
        if stem in STATA_TABLES:
            written.append(write_stata(frame, folder / f"{stem}.dta", stem))
    for name, text in bundle.latex.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    for stem, figure in bundle.figures.items():
        written += save_figure(figure, folder / stem, FORMATS)
    for run_id, source in engine_figures:
        target = folder / "figures" / f"run-{run_id}" / source.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        written.append(target)
    # described after everything else is written, so it lists exactly the zip's files
    for name, text in dictionary_files(bundle.tables,
                                       [p.relative_to(folder).as_posix() for p in written]).items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    manifest = dict(bundle.manifest)
    manifest["files"] = {str(p.relative_to(folder)): _sha256(p) for p in written}
    path = folder / "manifest.json"
    path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False, default=str),
                    encoding="utf-8")
    return written + [path]


# Deflate level of the export zip: the export's time is what its users wait for, and level 1
# is several times faster than the default 6 for a somewhat larger zip (both timed by
# benchmarks/bench_export_parts.py).
ZIP_LEVEL = 1


def zip_folder(folder: Path, target: Path, compresslevel: int = ZIP_LEVEL) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".zip.part")
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED,
                             compresslevel=compresslevel) as archive:
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    archive.write(path, path.relative_to(folder).as_posix())
    except BaseException:  # e.g. the disk is full: leave no half-written file behind
        partial.unlink(missing_ok=True)
        raise
    partial.replace(target)   # a half-written zip is never offered for download
    return target
