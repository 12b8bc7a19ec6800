"""Queries over a finished run's outputs for the dashboards: figures, AMI card, chosen K,
comparisons, gallery search (the pages are in projects.views)."""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from clustering_engine.spec import FIGURE_FORMATS, GALLERY_FORMAT, chosen_solutions

from ..models import EngineRun, Solution
from .storage import resolve_inside

FIGURE_TITLES = {
    "sdbw_vs_k_own": "S_Dbw vs K — own clustering space",
    "sdbw_vs_k_common": "S_Dbw vs K — common space",
    "marginal_gain_common": "Marginal gain and the chosen K (common space)",
    "data_loss": "Data loss at top-k",
    "cooccurrence_heatmap": "Permuted co-occurrence heatmap (text × image labels)",
    "gallery_label": "Gallery — label-level combination",
    "gallery_vector": "Gallery — vector-level combination",
    "gallery_joint": "Gallery — joint embedding",
}
# Charts come in FIGURE_FORMATS, galleries as one JPEG; a page shows PNG, else JPEG, else SVG.
FILE_FORMATS = (*FIGURE_FORMATS, GALLERY_FORMAT)
PREVIEW_FORMATS = ("png", GALLERY_FORMAT, "svg")


def figures(run: EngineRun) -> list[dict]:
    """Figures in the run's figures/ folder: one entry per name with its available formats."""
    folder = Path(run.output_dir) / "figures"
    found: dict[str, set[str]] = defaultdict(set)
    if folder.is_dir():
        for path in folder.iterdir():
            suffix = path.suffix.lstrip(".").lower()
            if suffix in FILE_FORMATS and path.is_file():
                found[path.stem].add(suffix)
    order = list(FIGURE_TITLES)
    names = sorted(found, key=lambda n: (order.index(n) if n in order else len(order), n))
    return [{"name": n, "title": FIGURE_TITLES.get(n, n.replace("_", " ").capitalize()),
             "formats": [f for f in FILE_FORMATS if f in found[n]],
             "preview": next(f for f in PREVIEW_FORMATS if f in found[n])}
            for n in names if found[n] & set(PREVIEW_FORMATS)]


def figure_file(run: EngineRun, filename: str) -> Path | None:
    suffix = Path(filename).suffix.lstrip(".").lower()
    if suffix not in FILE_FORMATS or "/" in filename:
        return None
    path = resolve_inside(Path(run.output_dir) / "figures", filename)
    return path if path is not None and path.is_file() else None


def ami_card(run: EngineRun) -> dict | None:
    """The AMI diagnostic row shown on the card: K-Means at the K_t × K_i closest to 5 × 5."""
    rows = run.manifest.get("ami_diagnostic") or []
    if not rows:
        return None
    kmeans = [r for r in rows if r.get("algorithm") == "kmeans" and r.get("k_text")] or rows
    headline = min(kmeans, key=lambda r: abs((r.get("k_text") or 0) * (r.get("k_image") or 0) - 25))
    return {"headline": headline, "rows": rows}


def k_selection_rows(run: EngineRun) -> list[dict]:
    return sorted((run.manifest.get("k_selection") or {}).values(),
                  key=lambda r: (r.get("space", ""), r.get("method", ""), r.get("algorithm", "")))


def chosen_solution_ids(run: EngineRun) -> set[str]:
    """Per method, the K-Means solution at the K chosen in the common space."""
    return set(chosen_solutions(run.manifest.get("k_selection") or {}).values())


def cross_tabulation(a: Solution, b: Solution, max_clusters: int = 40) -> dict:
    """How solution a's clusters spread over solution b's (row shares), from labels.parquet.

    Reads just the two label columns; noise (-1) is a row/column of its own.
    """
    path = Path(a.run.output_dir) / "labels.parquet"
    labels = pd.read_parquet(path, columns=[a.solution_id, b.solution_id])
    table = pd.crosstab(labels[a.solution_id], labels[b.solution_id])
    rows = table.sum(axis=1).sort_values(ascending=False).index[:max_clusters]
    cols = table.sum(axis=0).sort_values(ascending=False).index[:max_clusters]
    totals = table.loc[rows].sum(axis=1).to_numpy()  # before dropping small columns
    table = table.loc[rows, cols]
    shares = table.to_numpy() / np.maximum(totals[:, None], 1)
    return {"rows": [int(r) for r in rows], "columns": [int(c) for c in cols],
            "counts": table.to_numpy().tolist(), "shares": np.round(shares, 3).tolist(),
            "row_totals": totals.tolist()}


def clusters_matching_text(solution: Solution, query: str) -> dict[int, int]:
    """{cluster label: number of its pairs whose text contains ``query``} (case-insensitive).

    Searches every pair, not only representatives, through the run's search index
    (services/search_index.py: built once per run, never a scan of pairs.parquet per request),
    then reads this solution's column of labels.parquet (same row order). Noise is left out.
    """
    from .search_index import matching_rows

    rows = matching_rows(solution.run, query)
    if not rows.size:
        return {}
    out = Path(solution.run.output_dir)
    labels = pq.read_table(out / "labels.parquet", columns=[solution.solution_id])
    labels = labels[solution.solution_id].to_numpy()[rows]
    values, counts = np.unique(labels[labels >= 0], return_counts=True)
    return {int(v): int(c) for v, c in zip(values, counts)}
