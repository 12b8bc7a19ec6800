"""The comparison table: every solution used in a round, its machine metrics next to its human
scores (one row per solution), plus the PI's choice.

``project_scores`` computes everything once from the codes; the export reads it directly, the
dashboard and its JSON API read it as stored by the recomputation job (services.snapshots), so
their numbers agree.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from annotation.models import ValidationRound
from annotation.passes import PASS_VALUES as PASSES
from projects.models import Solution
from projects.tables import labels

from ..models import SolutionChoice

from . import codes as code_tables
from . import table_columns
from .consistency import cluster_means, cluster_scores, solution_scores
from .intrusion import dashboard_section, intrusion_scores, score_tables
from .reliability import reliability_table
from .solution_comparisons import all_comparisons

# column key -> label (services.table_columns is the one home of the table's columns)
METRIC_COLUMNS = labels(table_columns.METRICS)
TRUTH_COLUMNS = labels(table_columns.TRUTH)
SORT_KEYS = table_columns.SORT_KEYS


@dataclass
class ProjectScores:
    post_codes: pd.DataFrame
    cluster_scores: pd.DataFrame       # cluster × pass × coder
    cluster_means: pd.DataFrame        # cluster × pass (coders averaged)
    solution_scores: pd.DataFrame      # solution × pass
    reliability: pd.DataFrame          # solution × pass
    reliability_overall: pd.DataFrame  # pass (all solutions)
    solutions: list = field(default_factory=list)
    intrusion: dict = field(default_factory=dict)   # services.intrusion.intrusion_scores
    n_intrusion_answers: int | None = None   # stored scores keep the count, not the answers
    comparisons: pd.DataFrame = field(default_factory=pd.DataFrame)   # pairs of solutions
    ranking: pd.DataFrame = field(default_factory=pd.DataFrame)       # per pass / kind


def round_solutions(project, round_ids=None):
    rounds = ValidationRound.objects.filter(project=project)
    if round_ids is not None:
        rounds = rounds.filter(pk__in=round_ids)
    return list(Solution.objects.filter(validation_rounds__in=rounds).distinct()
                .select_related("run").order_by("method", "algorithm", "k", "solution_id", "pk"))


def project_scores(project, round_ids=None, codes: pd.DataFrame | None = None) -> ProjectScores:
    """Every score from the codes: ``codes`` as ``codes.post_codes`` reads them (the export
    passes them, it writes them too), else only the columns scores need (``score_codes``)."""
    if codes is None:
        codes = code_tables.score_codes(project, round_ids)
    per_coder = cluster_scores(codes)
    intrusion = intrusion_scores(project, round_ids)
    pairs, ranked = all_comparisons(per_coder, intrusion.get("answers"))
    # α is read whenever the PI wants it, on the themes as reconciled so far (same-named themes
    # of different coders already agree: annotation.services.codebook.effective_theme_map);
    # reading it changes nothing coders see.
    return ProjectScores(
        post_codes=codes, cluster_scores=per_coder, cluster_means=cluster_means(per_coder),
        solution_scores=solution_scores(per_coder),
        reliability=reliability_table(codes, ["solution_pk", "solution_id", "pass"]),
        reliability_overall=reliability_table(codes, ["pass"]),
        solutions=round_solutions(project, round_ids),
        intrusion=intrusion, comparisons=pairs, ranking=ranked)


def clean_value(value):
    """JSON- and template-safe: NaN/NA become None."""
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        return value
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value.item() if hasattr(value, "item") else value


def _records(frame: pd.DataFrame, key: str) -> dict:
    return {(row[key], row["pass"]): {k: clean_value(v) for k, v in row.items()}
            for row in frame.to_dict("records")}


def comparison_rows(scores: ProjectScores, project) -> list[dict]:
    consistency = _records(scores.solution_scores, "solution_pk")
    alphas = _records(scores.reliability, "solution_pk")
    choices = {c.solution_id: c for c in SolutionChoice.objects.filter(project=project)}
    rows = []
    for solution in scores.solutions:
        row = {"solution_pk": solution.pk, "solution_id": solution.solution_id,
               "run_id": solution.run_id, "method": solution.method,
               "algorithm": solution.algorithm, "k": solution.k,
               "n_clusters": solution.n_clusters,
               **{key: clean_value(solution.metrics.get(key)) for key in METRIC_COLUMNS},
               **{key: clean_value((solution.metrics.get("truth") or {}).get(key[6:]))
                  for key in TRUTH_COLUMNS},
               "chosen": solution.pk in choices,
               "choice_note": choices[solution.pk].note if solution.pk in choices else ""}
        for p in PASSES:
            c = consistency.get((solution.pk, p), {})
            row[f"consistency_{p}"] = c.get("mean")
            row[f"consistency_{p}_low"] = c.get("ci_low")
            row[f"consistency_{p}_high"] = c.get("ci_high")
            row[f"consistency_{p}_chance"] = c.get("chance_mean")
            row[f"consistency_{p}_clusters"] = c.get("n_clusters") or 0
            a = alphas.get((solution.pk, p), {})
            row[f"alpha_{p}"] = a.get("alpha")
            row[f"agreement_{p}"] = a.get("percent_agreement")
            row[f"alpha_{p}_message"] = a.get("message") or (
                "" if a else "undefined: no post was coded by two or more coders")
        rows.append(row)
    return rows


def records(frame: pd.DataFrame) -> list[dict]:
    return [{k: clean_value(v) for k, v in row.items()} for row in frame.to_dict("records")]


def _intrusion(scores: ProjectScores, rows: list[dict]) -> dict:
    """Intrusion scores per solution × kind beside the rows shown (services.intrusion)."""
    tables = scores.intrusion or score_tables()
    n_answers = scores.n_intrusion_answers
    return dashboard_section(records(tables["solution_scores"]), records(tables["kind_scores"]),
                             rows, len(tables["answers"]) if n_answers is None else n_answers)


def filter_and_sort(rows: list[dict], method: str = "", algorithm: str = "",
                    sort: str = "") -> list[dict]:
    """Filter by method / algorithm; sort by a key of SORT_KEYS ('-' = descending), None last."""
    rows = [r for r in rows if (not method or r["method"] == method)
            and (not algorithm or r["algorithm"] == algorithm)]
    key = sort.lstrip("-")
    if key in SORT_KEYS:
        present = [r for r in rows if r.get(key) is not None]
        missing = [r for r in rows if r.get(key) is None]
        rows = sorted(present, key=lambda r: r[key], reverse=sort.startswith("-")) + missing
    return rows


def comparison(project, *, round_ids=None, method: str = "", algorithm: str = "",
               sort: str = "", scores: ProjectScores | None = None) -> dict:
    """Everything the dashboard page and its JSON show."""
    scores = scores or project_scores(project, round_ids)
    all_rows = comparison_rows(scores, project)
    rows = filter_and_sort(all_rows, method, algorithm, sort)
    overall = {row["pass"]: {k: clean_value(v) for k, v in row.items()}
               for row in scores.reliability_overall.to_dict("records")}
    return {
        "project": project.pk,
        "columns": table_columns.COMPARISON_LABELS,
        "methods": sorted({r["method"] for r in all_rows}),
        "algorithms": sorted({r["algorithm"] for r in all_rows}),
        "rows": rows,
        "intrusion": {**_intrusion(scores, rows), "columns": table_columns.INTRUSION_LABELS},
        "solution_comparisons": {"columns": labels(table_columns.PAIRS),
                                 "rows": records(scores.comparisons)},
        "solution_ranking": {"columns": labels(table_columns.RANKING),
                             "rows": records(scores.ranking)},
        "reliability_overall": {p: overall.get(p, {
            "alpha": None, "percent_agreement": None,
            "message": "undefined: no post was coded by two or more coders"}) for p in PASSES},
    }
