"""Queries over a finished run's outputs for the dashboards: figures, AMI card, chosen K,
comparisons, gallery search (the pages are in projects.views)."""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from clustering_engine.metrics import s_dbw_reading
from clustering_engine.spec import (FIGURE_FORMATS, GALLERY_FORMAT, METHODS, SPACE_TITLES,
                                   chosen_solutions, k_choice_flag, solution_id)

from ..models import EngineRun, Solution
from .storage import resolve_inside

FIGURE_TITLES = {
    "sdbw_vs_k_own": "S_Dbw vs K — each method in its own space",
    "marginal_gain_own": "Marginal gain and the chosen K (own spaces; red cross: S_Dbw rose)",
    "truth_ami_by_k": "Agreement with the known groupings (AMI) by K",
    **{f"sdbw_vs_k_{space}": f"S_Dbw vs K — every method scored in the {title}"
       for space, title in SPACE_TITLES.items()},
    "sdbw_vs_k_common": "S_Dbw vs K — vector-level space (older runs)",
    "marginal_gain_common": "Marginal gain and the chosen K (vector-level space, older runs)",
    "data_loss": "Data loss at top-k",
    "cooccurrence_heatmap": "Permuted co-occurrence heatmap (text × image labels)",
    "gallery_label": "Gallery — label-level combination",
    "gallery_vector": "Gallery — vector-level combination",
    "gallery_joint": "Gallery — joint embedding",
    "gallery_cca": "Gallery — CCA space learned from the pairs",
    "gallery_text": "Gallery — text only",
    "gallery_image": "Gallery — image only",
}
# Charts come in FIGURE_FORMATS, galleries as one JPEG; a page shows PNG, else JPEG, else SVG.
FILE_FORMATS = (*FIGURE_FORMATS, GALLERY_FORMAT)
PREVIEW_FORMATS = ("png", GALLERY_FORMAT, "svg")
GALLERY_PREVIEW_CLUSTERS = 10   # as many as the engine's gallery figure draws


def heatmap_shown(run: EngineRun) -> dict | None:
    """The K_t × K_i the co-occurrence heatmap shows, its AMI and normalisation (manifest;
    None for runs stored before the engine recorded it)."""
    shown = run.manifest.get("cooccurrence_heatmap")
    if not shown:
        return None
    return {**shown, "normalisation": (run.manifest.get("ami") or {}).get("normalisation")}


def _heatmap_title(run: EngineRun) -> str:
    title = FIGURE_TITLES["cooccurrence_heatmap"]
    shown = heatmap_shown(run)
    if shown is None:
        return title
    ami = "n/a" if shown.get("ami") is None else f"{shown['ami']:.3f}"
    return (f"{title} at K_t × K_i = {shown['k_text']} × {shown['k_image']} "
            f"({shown['solution']}): AMI = {ami}, {shown['normalisation']} normalisation")


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
    titles = {**FIGURE_TITLES, "cooccurrence_heatmap": _heatmap_title(run)}
    return [{"name": n, "title": titles.get(n, n.replace("_", " ").capitalize()),
             "formats": [f for f in FILE_FORMATS if f in found[n]],
             "preview": next(f for f in PREVIEW_FORMATS if f in found[n])}
            for n in names if found[n] & set(PREVIEW_FORMATS)]


def gallery_previews(run: EngineRun, solutions: list[Solution]) -> dict[str, dict]:
    """{gallery figure name: the chosen solution it draws and its largest clusters}, for the
    dashboard to show each gallery as HTML (thumbnails with captions): the JPEG is drawn for
    print and is unreadable at a dashboard's width, so there it is a full-size link."""
    by_id = {s.solution_id: s for s in solutions}
    out = {}
    for method, sid in chosen_solutions(run.manifest.get("k_selection") or {}).items():
        if sid in by_id:
            out[f"gallery_{method}"] = {
                "solution": by_id[sid],
                "clusters": list(by_id[sid].clusters.all()[:GALLERY_PREVIEW_CLUSTERS])}
    return out


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
    return {"headline": headline, "rows": rows, "about": run.manifest.get("ami") or {},
            "heatmap": heatmap_shown(run)}


def k_selection_rows(run: EngineRun) -> list[dict]:
    """The entries that choose each method's K (its own space; older runs: every entry)."""
    entries = list((run.manifest.get("k_selection") or {}).values())
    choosing = [e for e in entries if e.get("selects_k")] or entries
    return sorted(choosing, key=lambda r: (_method_order(r.get("method")), r.get("algorithm", ""),
                                           r.get("space", "")))


def _method_order(method) -> int:
    return METHODS.index(method) if method in METHODS else len(METHODS)


def k_table(run: EngineRun) -> list[dict]:
    """One row per method x algorithm x K in the space that chooses its K: S_Dbw, marginal
    gain, and flags (chosen, S_Dbw rose from the previous K, S_Dbw reduced to Scat)."""
    rows = []
    for entry in k_selection_rows(run):
        rose = entry.get("s_dbw_rose") or [None] * len(entry["ks"])
        scat = entry.get("reduced_to_scat") or [False] * len(entry["ks"])
        for i, k in enumerate(entry["ks"]):
            rows.append({"method": entry["method"], "algorithm": entry["algorithm"],
                         "space": entry["space"], "k": k, "s_dbw": entry["s_dbw"][i],
                         "marginal_gain": entry["marginal_gain"][i],
                         "chosen": entry.get("chosen_k") == k,
                         "k_fallback": entry.get("chosen_k") == k and bool(k_choice_flag(entry)),
                         "rose": bool(rose[i]), "reduced_to_scat": bool(scat[i])})
    return rows


def space_matrix(run: EngineRun, solutions: list[Solution]) -> dict:
    """S_Dbw of every solution (rows) in every method's space (columns), its own marked."""
    # The JSON column does not keep key order: the methods' order is the vocabulary's.
    spaces = sorted((run.manifest.get("evaluation_spaces") or {}).get("matrix") or {},
                    key=_method_order)
    rows = []
    for s in solutions:
        by_space = s.metrics.get("s_dbw_by_space") or {}
        parts = s.metrics.get("s_dbw_parts_by_space") or {}
        rows.append({"solution_id": s.solution_id, "cells": [
            {"space": name, "value": by_space.get(name), "own": name == s.metrics.get("own_space"),
             "scat_only": s_dbw_reading(parts.get(name))} for name in spaces]})
    return {"spaces": [{"name": n, "title": SPACE_TITLES.get(n, n)} for n in spaces],
            "rows": rows}


def chosen_solution_ids(run: EngineRun) -> set[str]:
    """Per method, the K-Means solution at the K chosen by marginal gain in its own space."""
    return set(chosen_solutions(run.manifest.get("k_selection") or {}).values())


def fallback_solution_ids(run: EngineRun) -> set[str]:
    """The chosen solutions whose K is the grid's largest because no marginal gain fell below
    the threshold (the rule never fired)."""
    return {solution_id(sel["method"], "kmeans", sel["chosen_k"])
            for sel in (run.manifest.get("k_selection") or {}).values()
            if sel.get("selects_k") and sel.get("algorithm") == "kmeans" and k_choice_flag(sel)}


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
    """{cluster label: number of its pairs whose text contains ``query``} (case-insensitive)."""
    return {label: len(rows) for label, rows in rows_matching_text(solution, query).items()}


def rows_matching_text(solution: Solution, query: str) -> dict[int, np.ndarray]:
    """{cluster label: rows (pairs.parquet order) of its pairs whose text contains ``query``}.

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
    return {int(label): rows[labels == label] for label in np.unique(labels[labels >= 0])}


def matching_posts(solution: Solution, rows) -> list[dict]:
    """The posts at ``rows`` (text as written, dataset-relative image path), in that order."""
    from .search_index import posts

    found = posts(solution.run, rows)
    return [found[int(r)] for r in rows if int(r) in found]
