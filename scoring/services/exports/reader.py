"""Export step 1 — read: everything an export needs, from the database and the run folders.

Reads only; no formatting. Scores come from ``comparison.project_scores`` so the export holds
exactly the dashboard's numbers.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from annotation.models import Adjudication, ClusterSample, Theme, ThemeMerge, ValidationRound
from projects.models import EngineRun

from .. import codes as code_tables
from ..comparison import ProjectScores, comparison, project_scores
from . import intrusion


@dataclass
class RunInputs:
    run: EngineRun
    manifest: dict
    labels: pd.DataFrame | None      # labels.parquet (every solution of the run), if present
    figure_files: list[Path] = field(default_factory=list)   # the engine's figures/*


@dataclass
class ExportInputs:
    project: object
    scores: ProjectScores
    comparison: dict
    cluster_codes: pd.DataFrame
    themes: pd.DataFrame
    merges: pd.DataFrame
    adjudications: pd.DataFrame
    clusters: pd.DataFrame        # per cluster sample: round name, the PI's cluster name
    decisions: pd.DataFrame       # the PI's decisions, keyed as the codes are
    rounds: list = field(default_factory=list)
    runs: list[RunInputs] = field(default_factory=list)
    intrusion_items: pd.DataFrame | None = None   # exports.intrusion.items_table
    intrusion_plans: list = field(default_factory=list)


def _run_manifest(run: EngineRun) -> dict:
    """manifest.json of the run folder (with versions, seeds, models, config), else the copy in
    the database."""
    path = Path(run.output_dir or "") / "manifest.json"
    if run.output_dir and path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))
    return dict(run.manifest or {})


def _labels(run: EngineRun) -> pd.DataFrame | None:
    path = Path(run.output_dir or "") / "labels.parquet"
    return pd.read_parquet(path) if run.output_dir and path.is_file() else None


def _themes(project) -> pd.DataFrame:
    rows = list(Theme.objects.filter(project=project).order_by("modality", "name").values_list(
        "pk", "modality", "name", "merged_into_id", "merged_into__name", "created_at"))
    return pd.DataFrame(rows, columns=["theme_id", "pass", "name", "merged_into_id",
                                       "merged_into", "created_at"])


def _merges(project) -> pd.DataFrame:
    rows = list(ThemeMerge.objects.filter(source__project=project).order_by("merged_at", "pk")
                .values_list("source_id", "source__name", "target_id", "target__name",
                             "source__modality", "note", "merged_at", "undone_at"))
    return pd.DataFrame(rows, columns=["source_id", "source", "target_id", "target", "pass",
                                       "note", "merged_at", "undone_at"])


def _adjudications(project) -> pd.DataFrame:
    """The PI's decisions; ``options_shown``: the row's coders and their themes when decided,
    as JSON text ([{"coder", "theme"}], empty for decisions made before it was kept)."""
    rows = [(*row[:-1], "" if row[-1] is None else json.dumps(row[-1], ensure_ascii=False))
            for row in Adjudication.objects.filter(cluster_sample__round__project=project)
            .order_by("cluster_sample__order", "pass_name", "pk").values_list(
                "cluster_sample__public_id", "cluster_sample__solution__solution_id",
                "pass_name", "sampled_post__public_id", "theme__name", "note",
                "decided_by__username", "decided_at", "options_shown")]
    return pd.DataFrame(rows, columns=["cluster_sample", "solution_id", "pass", "post", "theme",
                                       "note", "decided_by", "decided_at", "options_shown"])


def _clusters(project) -> pd.DataFrame:
    rows = list(ClusterSample.objects.filter(round__project=project).order_by("pk")
                .values_list("pk", "round__name", "name"))
    return pd.DataFrame(rows, columns=["sample_pk", "round_name", "cluster_name"])


def _decisions(project) -> pd.DataFrame:
    """The PI's current decisions keyed by cluster sample, pass and post (empty: the common
    theme), the decided theme after merges as the codes' reconciled theme is."""
    rows = list(Adjudication.objects.filter(cluster_sample__round__project=project)
                .order_by("pk").values_list(
                    "cluster_sample_id", "pass_name", "sampled_post__public_id", "theme_id",
                    "decided_by__username", "decided_at", "note"))
    frame = code_tables.add_themes(pd.DataFrame(rows, columns=[
        "sample_pk", "pass", "post", "theme_id", "decided_by", "decided_at", "decision_note"]),
        project)
    frame["decided_at"] = pd.to_datetime(frame["decided_at"], utc=True)
    return frame.rename(columns={"theme": "theme_adjudicated"})


def _figure_files(run: EngineRun) -> list[Path]:
    folder = Path(run.output_dir or "") / "figures"
    if not run.output_dir or not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and p.suffix in (".png", ".svg", ".pdf"))


def read_export_inputs(project) -> ExportInputs:
    scores = project_scores(project, codes=code_tables.post_codes(project))
    runs = {s.run_id: s.run for s in scores.solutions}
    return ExportInputs(
        project=project, scores=scores, comparison=comparison(project, scores=scores),
        cluster_codes=code_tables.cluster_codes(project), themes=_themes(project),
        merges=_merges(project), adjudications=_adjudications(project),
        clusters=_clusters(project), decisions=_decisions(project),
        rounds=list(ValidationRound.objects.filter(project=project).order_by("pk")
                    .prefetch_related("solutions")),
        runs=[RunInputs(run, _run_manifest(run), _labels(run), _figure_files(run))
              for _, run in sorted(runs.items())],
        intrusion_items=intrusion.items_table(project), intrusion_plans=intrusion.plans(project))
