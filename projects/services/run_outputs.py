"""Store a finished run's outputs: manifest -> Solution rows, clusters.json -> ClusterSummary rows.

Per-pair labels stay in labels.parquet (docs/storage.md). Representative pairs' texts and image
paths are looked up once here, reading only three columns of pairs.parquet, so gallery pages
never open the pairs file.
"""
from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from django.db import transaction

from ..models import ClusterSummary, EngineRun, Solution
from .search_index import build_index_quietly

SOLUTION_LISTS = (("solutions", Solution.Kind.COMBINED),
                  ("modality_solutions", Solution.Kind.MODALITY))


def _representative_rows(pairs_path: Path, pair_ids: set[str]) -> dict[str, dict]:
    if not pair_ids or not pairs_path.exists():
        return {}
    table = pq.read_table(pairs_path, columns=["pair_id", "text", "image"])
    table = table.filter(pc.is_in(table["pair_id"], value_set=pa.array(
        sorted(pair_ids), type=table.schema.field("pair_id").type)))
    return {row["pair_id"]: row for row in table.to_pylist()}


def _solution_fields(entry: dict, kind: str) -> dict:
    return dict(kind=kind, method=entry["method"], algorithm=entry["algorithm"],
                k=entry.get("k"), k_text=entry.get("k_text"), k_image=entry.get("k_image"),
                n_clusters=entry.get("n_clusters") or 0,
                noise_share=entry.get("noise_share") or 0.0, space=entry.get("space") or "",
                metrics=entry.get("metrics") or {})


@transaction.atomic
def store_run_outputs(run: EngineRun, manifest: dict | None = None) -> list[Solution]:
    """(Re)create the run's Solution and ClusterSummary rows from its output folder."""
    out = Path(run.output_dir)
    if manifest is None:
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    clusters_path = out / "clusters.json"
    clusters = json.loads(clusters_path.read_text(encoding="utf-8")) if clusters_path.exists() else {}
    rep_ids = {pid for entries in clusters.values() for c in entries
               for pid in c.get("representatives", [])}
    reps = _representative_rows(out / "pairs.parquet", rep_ids)

    run.solutions.all().delete()
    solutions = []
    summaries = []
    for key, kind in SOLUTION_LISTS:
        for entry in manifest.get(key, []):
            solution = Solution.objects.create(run=run, solution_id=entry["id"],
                                               **_solution_fields(entry, kind))
            solutions.append(solution)
            for rank, cluster in enumerate(clusters.get(entry["id"], []), start=1):
                representatives = [
                    {"pair_id": pid, "text": reps.get(pid, {}).get("text") or "",
                     "image": reps.get(pid, {}).get("image") or ""}
                    for pid in cluster.get("representatives", [])]
                terms = [t[0] if isinstance(t, (list, tuple)) else str(t)
                         for t in cluster.get("top_terms", [])]
                search_text = " ".join(terms + [r["text"] for r in representatives]).lower()
                summaries.append(ClusterSummary(
                    solution=solution, label=cluster["cluster"], rank=rank, size=cluster["size"],
                    share=cluster["share"], top_terms=cluster.get("top_terms", []),
                    representatives=representatives, search_text=search_text))
    ClusterSummary.objects.bulk_create(summaries, batch_size=1000)
    run.manifest = {k: v for k, v in manifest.items() if k not in ("solutions", "modality_solutions")}
    run.save(update_fields=["manifest"])
    build_index_quietly(run)  # gallery text search (services/search_index.py)
    return solutions
