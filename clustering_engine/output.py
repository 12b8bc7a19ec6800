"""Writes a run's output folder (format `RUN_FORMAT`, documented in the README): every file in
it, manifest.json included."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from .grid import GridResult
from .run_arrays import ARRAY_LAYOUT, ARRAY_LAYOUT_NOTE, write_array
from .spec import FIGURE_FORMATS

# /2: embeddings/ and spaces/ store each distinct row once (run_arrays.py); /1 stored every row.
RUN_FORMAT = "diptych-engine-run/2"
# Tables: zstd, a third smaller than parquet's default snappy on pairs + labels (same speed).
PARQUET_COMPRESSION = "zstd"


def finite(value):
    """``value`` with every NaN / ±Infinity float replaced by None (JSON has no NaN; a
    degenerate data set, e.g. every text identical, can make a ratio 0/0)."""
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return float(value) if np.isfinite(value) else None
    return value


EMBEDDINGS_NOT_COPIED = ("not copied into this folder (run with copy_embeddings off): the "
                         "vectors are in the embedding cache under models.*, by content hash; "
                         "the spaces/ arrays are here")


def write_outputs(out: Path, manifest: dict, pairs: pd.DataFrame, embeddings, result: GridResult,
                  descriptions: dict, validation_report, embed_failures: pd.DataFrame,
                  figure_formats=FIGURE_FORMATS, copy_embeddings: bool = True) -> dict:
    """Write every file but manifest.json; returns the manifest's ``arrays`` entry (the layout
    and, per array, its rows, distinct rows, shape and dtype). Without ``copy_embeddings`` the
    model vectors are not copied into ``embeddings/`` (the embedding cache holds them, keyed by
    model version and content hash): at scale they are most of a run folder's bytes."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "embeddings").mkdir(exist_ok=True)
    (out / "spaces").mkdir(exist_ok=True)

    # Row order everywhere = pairs.parquet = embeddings/pair_ids.txt.
    pairs.drop(columns=["image_path"], errors="ignore").to_parquet(
        out / "pairs.parquet", index=False, compression=PARQUET_COMPRESSION)
    (out / "embeddings" / "pair_ids.txt").write_text("\n".join(embeddings.pair_ids) + "\n",
                                                     encoding="utf-8")
    arrays = {"layout": ARRAY_LAYOUT, "about": ARRAY_LAYOUT_NOTE}
    if not copy_embeddings:
        arrays["embeddings"] = EMBEDDINGS_NOT_COPIED
    for name in ("text", "image", "joint", "cca"):
        vectors = getattr(embeddings, name, None)
        if vectors is not None and copy_embeddings:
            arrays[f"embeddings/{name}"] = write_array(out / "embeddings", name,
                                                       np.asarray(vectors, dtype=np.float32))
    for name, vectors in result.spaces.items():
        arrays[f"spaces/{name}"] = write_array(out / "spaces", name, vectors)

    columns = {"pair_id": embeddings.pair_ids}
    for s in result.solutions + result.modality_solutions:
        columns[s.id] = s.labels.astype(np.int32)
    pd.DataFrame(columns).to_parquet(out / "labels.parquet", index=False,
                                     compression=PARQUET_COMPRESSION)

    (out / "clusters.json").write_text(json.dumps(finite(descriptions), ensure_ascii=False, allow_nan=False),
                                       encoding="utf-8")
    validation_report.to_csv(out / "validation_report.csv")
    validation_report.to_json(out / "validation_report.json")
    embed_failures.to_csv(out / "embedding_failures.csv", index=False)

    from .html_report import write_report

    write_report(out, manifest, pairs, result, descriptions, figure_formats)
    return arrays


def write_manifest(out: Path, manifest: dict) -> dict:
    """Write ``manifest.json`` (strict JSON: NaN / Infinity become null); returns what was written."""
    manifest = finite(manifest)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False,
                                                  allow_nan=False),
                                       encoding="utf-8")
    return manifest
