"""The tables of the run dashboard and of the two-solution comparison, as projects.tables specs.

Column names follow the run's own vocabulary, so each cell can be read back where its number
comes from: the manifest's ``ami_diagnostic`` and ``k_selection`` entries, a solution's fields and
``metrics`` (truth ``ami`` -> ``truth_ami`` as in the scores' comparison table), and the
export's ``tables/s_dbw_by_space.csv`` (``s_dbw_<space>``).
"""
from __future__ import annotations

from clustering_engine.spec import K_THRESHOLD_NEVER_MET

from ..tables import Column, Table
from . import run_queries

AMI = [
    Column("algorithm", "Algorithm"),
    Column("k_text", "K_t", format="int"),
    Column("k_image", "K_i", format="int"),
    Column("ami", "AMI", format="number", note="text-only vs image-only clusters"),
    Column("p_value", "p", format="number", note="permutation p-value"),
    Column("share_left_out", "Noise left out", format="percent", digits=1),
    Column("reading", "Reading"),
]
K_SELECTION = [
    Column("method", "Method"),
    Column("algorithm", "Algorithm"),
    Column("space", "Space"),
    Column("k", "K", format="int", flags=(("chosen", "★ chosen", "flag-chosen"),
                                          ("k_fallback", f"⚠ {K_THRESHOLD_NEVER_MET}",
                                           "flag-rose"))),
    Column("s_dbw", "S_Dbw", format="number", note="lower is better, in the method's own space",
           flags=(("rose", "⚠ S_Dbw rose", "flag-rose"),
                  ("reduced_to_scat", "Scat only", "flag-scat"))),
    Column("marginal_gain", "Marginal gain", format="number", note="|ΔS_Dbw/ΔK|"),
]


def ami_table(card: dict | None) -> Table:
    return Table("ami-rows", AMI, card["rows"] if card else [])


def k_selection_table(run) -> Table:
    return Table("k-selection", K_SELECTION, run_queries.k_table(run),
                 css_for=lambda r: " ".join(c for c, on in (("chosen", r["chosen"]),
                                                             ("rose", r["rose"])) if on))


def space_matrix_table(run, solutions) -> Table:
    """S_Dbw of every solution (rows) in every method's space (columns), its own marked."""
    matrix = run_queries.space_matrix(run, solutions)
    columns = [Column("solution_id", "Solution")]
    for space in matrix["spaces"]:
        name = space["name"]
        columns.append(Column(
            f"s_dbw_{name}", f"{name} space", format="number", note=space["title"],
            flags=((f"own_{name}", "●", "own"), (f"scat_{name}", "Scat only", "flag-scat"))))
    rows = []
    for row in matrix["rows"]:
        flat = {"solution_id": row["solution_id"]}
        for c in row["cells"]:
            flat[f"s_dbw_{c['space']}"] = c["value"]
            flat[f"own_{c['space']}"] = c["own"]
            flat[f"scat_{c['space']}"] = c["scat_only"] or ""
        rows.append(flat)
    return Table("space-matrix", columns, rows)


def solution_row(solution, chosen_ids: set[str]) -> dict:
    """A solution as the dashboard shows it: its fields, its metrics flattened."""
    metrics = solution.metrics or {}
    truth = metrics.get("truth") or {}
    low, high = (metrics.get("stability_ari_range") or [None, None])[:2]
    return {"pk": solution.pk, "solution_id": solution.solution_id,
            "is_chosen": solution.solution_id in chosen_ids, "method": solution.method,
            "algorithm": solution.algorithm, "k": solution.k,
            "k_grid": f"{solution.k_text}×{solution.k_image}" if solution.k_text else None,
            "n_clusters": solution.n_clusters, "noise_share": solution.noise_share,
            "s_dbw_own": metrics.get("s_dbw_own"), "own_space": metrics.get("own_space"),
            "truth_ami": truth.get("ami"), "truth_ari": truth.get("ari"),
            "stability_ari_mean": metrics.get("stability_ari_mean"),
            "stability_ari_low": low, "stability_ari_high": high,
            "data_loss_top25": metrics.get("data_loss_top25")}


def solutions_table(run, solutions, chosen_ids: set[str]) -> Table:
    truth = (run.manifest or {}).get("truth") or {}
    threshold = ((run.manifest or {}).get("stability") or {}).get("threshold")
    rows = [solution_row(s, chosen_ids) for s in solutions]
    fallback = run_queries.fallback_solution_ids(run)
    for row in rows:
        row["k_fallback"] = row["solution_id"] in fallback
        row["unstable"] = (threshold is not None and row["stability_ari_mean"] is not None
                           and row["stability_ari_mean"] < threshold)
    columns = [
        Column("solution_id", "Solution", flags=(("is_chosen", "★", "flag-chosen"),
                                                 ("k_fallback", f"⚠ {K_THRESHOLD_NEVER_MET}",
                                                  "flag-rose"))),
        Column("method", "Method"),
        Column("algorithm", "Algorithm"),
        Column("k", "K", format="int", detail=("k_grid", "K_t × K_i")),
        Column("n_clusters", "Clusters", format="int"),
        Column("noise_share", "Noise", format="percent", digits=1),
        Column("s_dbw_own", "S_Dbw own space", format="number", detail=("own_space", "in"),
               note="lower is better; compare within one space only (the matrix above)"),
        *([Column("truth_ami", f"AMI vs {truth.get('column')}", format="number",
                  note="agreement with the known groupings (never used to cluster)"),
           Column("truth_ari", f"ARI vs {truth.get('column')}", format="number",
                  note="agreement with the known groupings (never used to cluster)")]
          if truth else []),
        Column("stability_ari_mean", "Stability (ARI)", format="number",
               interval=("stability_ari_low", "stability_ari_high"),
               flags=(("unstable", "⚠ unstable", "flag-rose"),),
               note="mean pairwise adjusted Rand index across seeds, same space; [min, max]"),
        Column("data_loss_top25", "Data loss top 25", format="percent", digits=1),
        Column("gallery", "Gallery", template="projects/_gallery_cell.html"),
    ]
    return Table("solutions", columns, rows,
                 css_for=lambda r: "chosen" if r["is_chosen"] else "")


def crosstab_table(a, b, crosstab: dict) -> Table:
    """How each cluster of ``a`` (rows) spreads over the clusters of ``b`` (columns): row shares."""
    columns = [Column("label", f"{a.solution_id} ↓ / {b.solution_id} →", format="int"),
               Column("n", "n", format="int")]
    columns += [Column(f"cluster_{c}", str(c), format="percent", digits=0, missing="",
                       title=f"cluster_{c}_pairs", shade=True) for c in crosstab["columns"]]
    rows = []
    for i, label in enumerate(crosstab["rows"]):
        row = {"label": label, "n": crosstab["row_totals"][i]}
        for j, c in enumerate(crosstab["columns"]):
            count = crosstab["counts"][i][j]
            row[f"cluster_{c}"] = crosstab["shares"][i][j] if count else None
            row[f"cluster_{c}_pairs"] = f"{count} pairs"
        rows.append(row)
    return Table("crosstab", columns, rows)
