"""Writes a run's output folder (format "diptych-engine-run/1", documented in the README): every
file in it, manifest.json included."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from .grid import GridResult
from .spec import FIGURE_FORMATS


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


def write_outputs(out: Path, manifest: dict, pairs: pd.DataFrame, embeddings, result: GridResult,
                  descriptions: dict, validation_report, embed_failures: pd.DataFrame,
                  figure_formats=FIGURE_FORMATS) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "embeddings").mkdir(exist_ok=True)
    (out / "spaces").mkdir(exist_ok=True)

    # Row order everywhere = pairs.parquet = embeddings/pair_ids.txt.
    pairs.drop(columns=["image_path"], errors="ignore").to_parquet(out / "pairs.parquet",
                                                                   index=False)
    (out / "embeddings" / "pair_ids.txt").write_text("\n".join(embeddings.pair_ids) + "\n",
                                                     encoding="utf-8")
    for name in ("text", "image", "joint", "cca"):
        vectors = getattr(embeddings, name, None)
        if vectors is not None:
            np.save(out / "embeddings" / f"{name}.npy", np.asarray(vectors, dtype=np.float32))
    for name, vectors in result.spaces.items():
        np.save(out / "spaces" / f"{name}.npy", vectors)

    columns = {"pair_id": embeddings.pair_ids}
    for s in result.solutions + result.modality_solutions:
        columns[s.id] = s.labels.astype(np.int32)
    pd.DataFrame(columns).to_parquet(out / "labels.parquet", index=False)

    (out / "clusters.json").write_text(json.dumps(finite(descriptions), ensure_ascii=False, allow_nan=False),
                                       encoding="utf-8")
    validation_report.to_csv(out / "validation_report.csv")
    validation_report.to_json(out / "validation_report.json")
    embed_failures.to_csv(out / "embedding_failures.csv", index=False)

    from .html_report import write_report

    write_report(out, manifest, pairs, result, descriptions, figure_formats)


def write_manifest(out: Path, manifest: dict) -> dict:
    """Write ``manifest.json`` (strict JSON: NaN / Infinity become null); returns what was written."""
    manifest = finite(manifest)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False,
                                                  allow_nan=False),
                                       encoding="utf-8")
    return manifest
