"""Export step 2 — build: turn the inputs into named tables, LaTeX tables, figures and the
provenance manifest (still nothing written)."""
from __future__ import annotations

import datetime
import platform
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from projects.services.paths import relative_to_base

from ..comparison import METRIC_COLUMNS, PASSES
from ..consistency import BASELINE_DRAWS
from ..figures import plot_cluster_consistency, plot_mean_consistency
from ..intrusion import score_tables
from ..table_columns import COMPARISON_CSV
from . import code_tables, intrusion
from .pi_decisions import cluster_names, solution_choices
from .reader import ExportInputs

PACKAGES = ("django", "djangorestframework", "celery", "numpy", "pandas", "pyarrow", "scipy",
            "scikit-learn", "krippendorff", "matplotlib", "umap-learn", "hdbscan")
CONVENTIONS = {
    "consistency": "share of a coder's coded posts in a cluster sample whose merged theme equals "
                   "the most frequent one (appendix E); uncoded posts excluded; ties give the "
                   "same share and are listed in modal_theme (n_modal_themes > 1)",
    "interval_cluster": "Wilson 95% score interval, n = coded posts",
    "interval_solution": "t 95% interval over clusters (coders averaged per cluster first), "
                         "clipped to [0, 1]; undefined below two clusters",
    "chance_baseline": "expected modal share when n themes are drawn without replacement from "
                       "the coder's own coded themes of the round and pass "
                       f"({BASELINE_DRAWS} seeded draws)",
    "reliability": "Krippendorff's alpha, nominal (krippendorff package), units = sampled post "
                   "x pass, raters = coders, values = merged themes; percent agreement = mean "
                   "share of agreeing coder pairs over posts coded by two or more coders",
    "coders": "pseudonyms coder_1, coder_2, ... numbered by account creation order",
}


@dataclass
class ExportBundle:
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)   # path stem -> frame
    latex: dict[str, str] = field(default_factory=dict)             # path -> text
    figures: dict[str, Figure] = field(default_factory=dict)        # path stem -> figure
    manifest: dict = field(default_factory=dict)


def metric_table(inputs: ExportInputs) -> pd.DataFrame:
    """The comparison table under the names its page and JSON use (services.table_columns)."""
    return pd.DataFrame([{name: r.get(name) for name in COMPARISON_CSV}
                         for r in inputs.comparison["rows"]], columns=COMPARISON_CSV)


def _with_interval(mean, low, high) -> str:
    if mean is None:
        return "--"
    return f"{mean:.2f} [{low:.2f}, {high:.2f}]" if low is not None else f"{mean:.2f}"


def latex_frame(inputs: ExportInputs) -> pd.DataFrame:
    """The paper's table: metrics, consistency with its 95% interval, alpha (or --)."""
    rows = []
    for r in inputs.comparison["rows"]:
        row = {"Method": r["method"], "Algorithm": r["algorithm"], "K": r["k"],
               **{label: r[key] for key, label in METRIC_COLUMNS.items()}}
        for p in PASSES:
            row[f"Consistency {p} [95% CI]"] = _with_interval(
                r[f"consistency_{p}"], r[f"consistency_{p}_low"], r[f"consistency_{p}_high"])
        for p in PASSES:
            row[f"Alpha {p}"] = r[f"alpha_{p}"]
        rows.append(row)
    return pd.DataFrame(rows)


def space_matrix_table(inputs: ExportInputs) -> pd.DataFrame:
    """S_Dbw of every solution (rows) in every method's space (columns ``s_dbw_<space>``),
    with ``own_space`` naming the one it was clustered in."""
    rows = [{"run_id": s.run_id, "solution_id": s.solution_id, "method": s.method,
             "own_space": s.metrics.get("own_space"),
             **{f"s_dbw_{space}": value
                for space, value in (s.metrics.get("s_dbw_by_space") or {}).items()}}
            for s in inputs.scores.solutions]
    return pd.DataFrame(rows)


def known_groupings_table(inputs: ExportInputs) -> pd.DataFrame:
    """Agreement of every solution with the run's known groupings (truth column), if any."""
    rows = [{"run_id": s.run_id, "solution_id": s.solution_id, "method": s.method, "k": s.k,
             **{key: s.metrics["truth"].get(key) for key in
                ("ami", "ari", "homogeneity", "completeness", "share_left_out")}}
            for s in inputs.scores.solutions if s.metrics.get("truth")]
    return pd.DataFrame(rows)


def latex_table(frame: pd.DataFrame, caption: str, label: str) -> str:
    return frame.to_latex(index=False, na_rep="--", float_format="%.3f", escape=True,
                          caption=caption, label=label)


def _versions() -> dict:
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def provenance(inputs: ExportInputs, files_note: str = "") -> dict:
    keep = ("format", "created_at", "seed", "config", "versions", "models", "data", "methods",
            "evaluation_spaces", "reductions", "ami", "truth", "notes")
    return {
        "format": "diptych-export/1",
        "exported_at": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "project": {"id": inputs.project.pk, "name": inputs.project.name},
        "software": {"scoring_versions": _versions()},
        "metric_sources": {
            "s_dbw_own": "S_Dbw in each solution's own clustering space (label-level: text and "
                         "image spaces side by side); from the run manifest's solutions[].metrics",
            "s_dbw_common": "S_Dbw in the run's vector-level space (evaluation_spaces.common)",
            "tables/s_dbw_by_space": "S_Dbw of every solution in every method's space "
                                     "(own_space: where it was clustered and its K chosen)",
            "tables/known_groupings": "AMI (the paper's Eq. (1), noise left out), ARI, "
                                      "homogeneity, completeness against the run's truth column",
            "ami_text_image": "AMI between the text-only and image-only labels (engine)",
            "data_loss_top25": "share of pairs outside the 25 largest clusters, noise lost (engine)",
            "consistency_*": "human codes (this export's scores/)", "alpha_*": "human codes",
            "intrusion_*": "intrusion answers (data/intrusion_answers, scores/intrusion_*)"},
        "intrusion_plans": inputs.intrusion_plans,
        "scoring_conventions": {**CONVENTIONS, **intrusion.CONVENTIONS},
        "runs": [{"run_id": r.run.pk, "dataset": r.run.dataset.name,
                  "status": r.run.status,
                  "started_at": r.run.started_at.isoformat() if r.run.started_at else None,
                  "finished_at": r.run.finished_at.isoformat() if r.run.finished_at else None,
                  # paths relative to the data set / run folder, not the server's layout
                  "engine_manifest": relative_to_base(
                      {k: r.manifest[k] for k in keep if k in r.manifest},
                      r.run.dataset.images_root, Path(r.run.dataset.table_path).parent,
                      r.run.output_dir),
                  "solutions": {s.solution_id: {"method": s.method, "algorithm": s.algorithm,
                                                "k": s.k, "space": s.space, "metrics": s.metrics}
                                for s in inputs.scores.solutions if s.run_id == r.run.pk}}
                 for r in inputs.runs],
        # seed + sampling secret reproduce the round's plan (annotation.services.sampling)
        "rounds": [{"round_id": r.pk, "name": r.name, "seed": r.seed,
                    "sampling_secret": r.sampling_secret,
                    "posts_per_cluster": r.posts_per_cluster,
                    "calibration_clusters": r.calibration_clusters, "overlap": r.overlap,
                    "status": r.status, "created_at": r.created_at.isoformat(),
                    "solutions": sorted(s.solution_id for s in r.solutions.all())}
                   for r in inputs.rounds],
        "notes": files_note,
    }


def build_bundle(inputs: ExportInputs) -> ExportBundle:
    scores = inputs.scores
    bundle = ExportBundle()
    bundle.tables["data/coded_posts"] = code_tables.coded_posts(
        scores.post_codes, inputs.clusters, inputs.decisions, inputs.project)
    bundle.tables["data/common_themes"] = code_tables.common_themes(
        inputs.cluster_codes, inputs.clusters, inputs.decisions, inputs.project)
    bundle.tables["decisions/cluster_names"] = cluster_names(inputs.project)
    bundle.tables["decisions/solution_choices"] = solution_choices(inputs.project)
    for run in inputs.runs:
        if run.labels is not None:
            bundle.tables[f"assignments/run-{run.run.pk}-labels"] = run.labels
    bundle.tables["codebook/themes"] = inputs.themes
    bundle.tables["codebook/merges"] = inputs.merges
    bundle.tables["codebook/adjudications"] = inputs.adjudications
    bundle.tables["scores/cluster_coder_scores"] = scores.cluster_scores.drop(
        columns=["coder_id", "sample_pk", "solution_pk"], errors="ignore")
    bundle.tables["scores/cluster_scores"] = scores.cluster_means.drop(
        columns=["sample_pk", "solution_pk"], errors="ignore")
    bundle.tables["scores/solution_scores"] = scores.solution_scores.drop(
        columns=["solution_pk"], errors="ignore")
    bundle.tables["scores/reliability"] = scores.reliability.drop(
        columns=["solution_pk"], errors="ignore")
    bundle.tables["scores/reliability_overall"] = scores.reliability_overall
    bundle.tables.update(intrusion.intrusion_tables(scores.intrusion or score_tables(),
                                                    inputs.intrusion_items))
    metrics = metric_table(inputs)
    bundle.tables["tables/comparison"] = metrics
    bundle.tables["tables/s_dbw_by_space"] = space_matrix_table(inputs)
    truth = known_groupings_table(inputs)
    if len(truth):
        bundle.tables["tables/known_groupings"] = truth
    bundle.latex["tables/comparison.tex"] = latex_table(
        latex_frame(inputs),
        "Machine metrics and human-coded within-cluster consistency per solution",
        "tab:diptych-comparison")
    bundle.tables["tables/solution_comparisons"] = scores.comparisons
    bundle.tables["tables/solution_ranking"] = scores.ranking
    bundle.latex["tables/solution_ranking.tex"] = latex_table(
        scores.ranking, "Solutions ranked by mean consistency (intrusion: precision), with the "
        "solutions each is distinguishable from at 5\\% after Holm's adjustment",
        "tab:diptych-ranking")
    bundle.latex["tables/solution_comparisons.tex"] = latex_table(
        scores.comparisons[["statistic", "pass", "solution_a", "solution_b", "difference",
                            "ci_low", "ci_high", "p_value", "p_holm"]]
        if len(scores.comparisons) else scores.comparisons,
        "Pairwise differences between solutions: 95\\% bootstrap-t interval, raw and "
        "Holm-adjusted p", "tab:diptych-pairs")
    bundle.latex["tables/solution_scores.tex"] = latex_table(
        bundle.tables["scores/solution_scores"], "Mean within-cluster consistency per solution "
        "and pass (95% t interval over clusters; chance baseline)", "tab:diptych-consistency")
    bundle.figures["figures/mean_consistency"] = plot_mean_consistency(inputs.comparison["rows"])
    bundle.figures["figures/cluster_consistency"] = plot_cluster_consistency(
        scores.cluster_means, inputs.comparison["rows"])
    bundle.manifest = provenance(inputs)
    return bundle
