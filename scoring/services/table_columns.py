"""The columns of the score tables a PI reads — the comparison table and the intrusion table —
in one place: the pages render them (projects.tables), the JSON API names its keys and labels
after them, and the export's tables/comparison.csv takes its columns from them."""
from __future__ import annotations

from annotation.passes import PASS_VALUES as PASSES
from projects.tables import Column, flat_names, labels

SOLUTION = [
    Column("solution_id", "Solution", detail=("run_id", "run"), sortable=True),
    Column("chosen", "Chosen", format="bool", template="scoring/_choose_cell.html",
           note="the solution the PI chose, with the note why"),
    Column("method", "Method", sortable=True),
    Column("algorithm", "Algorithm", sortable=True),
    Column("k", "K", format="int", missing="auto", sortable=True),
]
MACHINE = "Machine metrics"
# S_Dbw says which space its number comes from.
METRICS = [
    Column("s_dbw_own", "S_Dbw (own space)", format="number", group=MACHINE, sortable=True,
           note="lower is better; in the space the solution was clustered in (label-level: "
                "text and image spaces side by side)"),
    Column("s_dbw_common", "S_Dbw (vector-level space)", format="number", group=MACHINE,
           sortable=True, note="lower is better; every solution in the vector-level space "
                               "(L2-normalised text+image concatenation), comparable across rows"),
    Column("stability_ari_mean", "Stability (mean ARI across seeds)", format="number",
           group=MACHINE, sortable=True,
           note="higher is more stable; the range is in the run's manifest"),
    Column("ami_text_image", "AMI (text vs image labels)", format="number", group=MACHINE,
           sortable=True, note="agreement of the text-only and image-only clusterings at "
                               "K_t × K_i for this K (on every method's row: a property of the "
                               "modalities at that K, not of this solution's labels); HDBSCAN "
                               "rows leave noise out (the run's AMI table gives the share)"),
    Column("data_loss_top25", "Data loss (top 25)", format="percent", digits=1, group=MACHINE,
           sortable=True, note="lower is better"),
]
KNOWN = "Known groups"
TRUTH = [
    Column("truth_ami", "AMI vs known groups", format="number", group=KNOWN, sortable=True,
           note="agreement with the run's truth column, never used to cluster"),
    Column("truth_ari", "ARI vs known groups", format="number", group=KNOWN, sortable=True,
           note="agreement with the run's truth column, never used to cluster"),
]
CONSISTENCY = [
    Column(f"consistency_{p}", f"Consistency ({p})", format="number", digits=2,
           group="Consistency", interval=(f"consistency_{p}_low", f"consistency_{p}_high"),
           detail=(f"consistency_{p}_chance", "chance"), missing="not coded", sortable=True,
           note="mean share of coded posts with the modal theme, 95% interval over clusters; "
                "higher is better")
    for p in PASSES]
ALPHA = [
    Column(f"alpha_{p}", f"α ({p})", format="number", group="Krippendorff's α",
           detail=(f"agreement_{p}", "agree"), title=f"alpha_{p}_message", missing="n/a",
           sortable=True, note="Krippendorff's α (nominal) on posts coded by two or more coders")
    for p in PASSES]
COMPARISON = [*SOLUTION, *METRICS, *TRUTH, *CONSISTENCY, *ALPHA]
COMPARISON_LABELS = labels(COMPARISON)
SORT_KEYS = ["n_clusters", *(c.name for c in COMPARISON if c.sortable)]
# tables/comparison.csv: every value the page shows, by the same names, plus the choice note
COMPARISON_CSV = ["solution_id", "run_id", "method", "algorithm", "k", "n_clusters",
                  *flat_names([*METRICS, *TRUTH, *CONSISTENCY, *ALPHA]), "chosen", "choice_note"]


def comparison_columns(rows: list[dict]) -> list[Column]:
    """The page's columns: the known-groups pair only when some row has a value."""
    has_truth = any(r.get(c.name) is not None for r in rows for c in TRUTH)
    return [c for c in COMPARISON if has_truth or c not in TRUTH]


INTRUSION_METRICS = [
    Column("solution_id", "Solution"),
    Column("method", "Method"),
    Column("k", "K", format="int", missing="auto"),
    Column("s_dbw_own", METRICS[0].label, format="number", group=MACHINE,
           note=METRICS[0].note),
    Column("s_dbw_common", METRICS[1].label, format="number", group=MACHINE,
           note=METRICS[1].note),
    Column("ami_text_image", METRICS[3].label, format="number", group=MACHINE,
           note=METRICS[3].note),
]
INTRUSION_SCORES = [
    Column("kind", "Kind", group="Intrusion"),
    Column("consistency_same_pass", "Consistency (same pass)", format="number", digits=2,
           group="Intrusion"),
    Column("n_tasks", "Tasks", format="int", group="Intrusion"),
    Column("n_answers", "Answers", format="int", group="Intrusion"),
    Column("n_coders", "Coders", format="int", group="Intrusion"),
    Column("precision", "Precision [95% CI]", format="number", group="Intrusion",
           interval=("wilson_low", "wilson_high"),
           note="share of answers that found the intruder (unsure = miss), Wilson interval"),
    Column("chance", "Chance", format="number", group="Intrusion"),
    Column("p_value", "p (binomial)", format="p", group="Intrusion"),
    Column("fisher_p", "p (Fisher)", format="p", group="Intrusion"),
    Column("alpha", "α (picks)", format="number", title="alpha_message", missing="n/a",
           group="Intrusion"),
    Column("n_unsure", "Unsure", format="int", group="Intrusion"),
    Column("median_lead_time_s", "Median lead time (s)", format="number", digits=1,
           group="Intrusion"),
]
INTRUSION_TRUTH = [Column(c.name, c.label, format="number", group=KNOWN, note=c.note)
                   for c in TRUTH]
INTRUSION_LABELS = labels([*INTRUSION_METRICS, *INTRUSION_TRUTH, *INTRUSION_SCORES])


def intrusion_columns(has_truth: bool) -> list[Column]:
    return [*INTRUSION_METRICS, *(INTRUSION_TRUTH if has_truth else []), *INTRUSION_SCORES]


# Which solution is better (services.solution_comparisons; docs/statistics.md)
PAIRS = [
    Column("statistic", "Statistic"),
    Column("pass", "Pass / kind"),
    Column("solution_a", "Solution A"),
    Column("solution_b", "Solution B"),
    Column("difference", "A − B", format="number", interval=("ci_low", "ci_high"),
           note="difference in the page's mean consistency (or intrusion precision), 95% "
                "interval from a bootstrap over clusters within solution (and coders, from 5 "
                "coders on), t reference"),
    Column("p_value", "p (raw)", format="p", note="two-sided, before adjustment"),
    Column("p_holm", "p (Holm)", format="p",
           note="Holm-adjusted over every pair of the same pass or kind"),
    Column("distinguishable", "Distinguishable at 5%", format="bool",
           note="p (Holm) < 0.05"),
    Column("n_units_a", "Clusters A", format="int"),
    Column("n_units_b", "Clusters B", format="int"),
    Column("n_coders", "Coders", format="int"),
]
RANKING = [
    Column("statistic", "Statistic"),
    Column("pass", "Pass / kind"),
    Column("rank", "Rank", format="int"),
    Column("solution_id", "Solution"),
    Column("mean", "Mean", format="number", note="the page's mean consistency (or precision)"),
    Column("better_than", "Better than (Holm, 5%)"),
    Column("not_distinguishable_from", "Not distinguishable from"),
]
