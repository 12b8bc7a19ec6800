"""What every file and every column of an export means: the one home of the export's
documentation. ``dictionary`` turns it into ``data_dictionary.json`` and ``README.md``, the
Stata writer takes its variable labels from it, and the code tables take their column order
from ``CODED_POST_COLUMNS`` / ``COMMON_THEME_COLUMNS``.

A column is looked up by table, then by name: first the table's own entries (where a name means
something else there, e.g. ``theme`` in the adjudications), then the shared ``COLUMNS``; names
with ``*`` are fnmatch patterns (columns named after solutions or spaces).
"""
from __future__ import annotations

from dataclasses import dataclass

from annotation.intrusion_models import INTRUSION_KINDS
from annotation.passes import PASS_VALUES
from clustering_engine.spec import ALGORITHMS, METHOD_VOCABULARY


@dataclass(frozen=True)
class Column:
    type: str                     # one of TYPES
    meaning: str
    values: tuple | None = None   # allowed values, when the column is categorical
    unit: str = ""


TYPES = {
    "integer": "whole number",
    "number": "decimal number (empty / NaN / null when undefined)",
    "string": "text (UTF-8)",
    "boolean": "true / false (CSV: True / False; Stata: 1 / 0)",
    "timestamp": "ISO 8601 date and time in UTC, e.g. 2026-01-31T12:00:00.123456Z (Stata: %tc, "
                 "milliseconds)",
}
PASSES = tuple(PASS_VALUES)
SHARE = "share, 0 to 1"


def _integer(meaning, unit=""):
    return Column("integer", meaning, unit=unit)


def _number(meaning, unit=""):
    return Column("number", meaning, unit=unit)


def _string(meaning, values=None):
    return Column("string", meaning, values)


# Shared meanings: one entry per column name, whichever tables hold it.
COLUMNS: dict[str, Column] = {
    # where a code or score comes from
    "code_id": _integer("id of the code (the codes read API's code_id)"),
    "round_id": _integer("validation round id (manifest.json rounds[].round_id)"),
    "round_name": _string("the validation round's name, as the PI gave it"),
    "cluster_sample": _string("cluster token: public id of the sampled cluster in its round"),
    "cluster_label": _integer("the cluster's label in the solution (labels.parquet)"),
    "cluster_name": _string("the PI's name for the cluster (empty if not named)"),
    "is_calibration": Column("boolean", "calibration cluster, coded by every coder of the round"),
    "solution_id": _string("solution id: method-algorithm-K (manifest.json runs[].solutions)"),
    "run_id": _integer("engine run id (manifest.json runs[].run_id)"),
    "method": _string("clustering method (paper section 3)", METHOD_VOCABULARY),
    "algorithm": _string("clustering algorithm", ALGORITHMS),
    "k": _integer("number of clusters K asked for (empty for HDBSCAN)"),
    "post": _string("public id of the sampled post"),
    "post_id": _string("the post's id in the data set"),
    "pair_id": _string("the text-image pair's id in the data set"),
    "position": _integer("the post's position in its cluster sample, from 0"),
    "coder": _string("coder pseudonym coder_1, coder_2, ... (by account id, stable across "
                     "exports)"),
    "pass": _string("coding pass: text only, image only, or text and image", PASSES),
    # themes: as typed, after the PI's merges, as the PI decided
    "theme_raw": _string("the coder's theme as typed (their own spelling)"),
    "theme": _string("reconciled theme: the coder's theme after codebook merges (what scores "
                     "use)"),
    "theme_adjudicated": _string("the PI's decided theme (after merges) for this post and pass; "
                                 "empty if none"),
    "decided_by": _string("username of who made the adjudication decision"),
    "decided_at": Column("timestamp", "when the adjudication decision was last made or revised"),
    "decision_note": _string("the PI's note on the adjudication decision"),
    "theme_raw_id": _integer("id of the coder's theme (codebook/themes theme_id)"),
    "theme_merged_id": _integer("id of the reconciled theme (scores use it as the category)"),
    "version": _integer("times the code was saved (1 = never changed)"),
    "codebook_version": _integer("codebook changes in this pass (new themes, merges) up to the "
                                 "code's last save"),
    "lead_time_s": _number("seconds from reaching the item to its label (browser clock), "
                           "none over a day", "seconds"),
    "created_at": Column("timestamp", "when the row was first saved"),
    "updated_at": Column("timestamp", "when the row was last saved"),
    # codebook and decisions
    "theme_id": _integer("theme id"),
    "name": _string("theme name"),
    "merged_into_id": _integer("id of the theme it was merged into (empty if not merged)"),
    "merged_into": _string("name of the theme it was merged into (empty if not merged)"),
    "source_id": _integer("id of the merged (source) theme"),
    "source": _string("name of the merged (source) theme"),
    "target_id": _integer("id of the theme merged into (target)"),
    "target": _string("name of the theme merged into (target)"),
    "note": _string("the PI's note"),
    "merged_at": Column("timestamp", "when the merge was made"),
    "undone_at": Column("timestamp", "when the PI undid the merge (empty: still in force)"),
    "chosen_by": _string("username of the PI who chose the solution"),
    "chosen_at": Column("timestamp", "when the solution was chosen"),
    # consistency scores (scoring/README.md, manifest.json scoring_conventions)
    "posts_in_sample": _integer("posts sampled from the cluster"),
    "n_coded": _integer("posts the coder coded in the cluster sample and pass"),
    "n_modal": _integer("coded posts whose reconciled theme is the modal one"),
    "consistency": _number("within-cluster consistency: share of coded posts with the modal "
                           "theme (cluster_scores: mean over the cluster's coders)", SHARE),
    "modal_theme": _string("the modal reconciled theme (ties: all, joined by ' | ')"),
    "n_modal_themes": _integer("themes tied for modal (over 1 flags a tie)"),
    "wilson_low": _number("lower bound of the Wilson 95% score interval", SHARE),
    "wilson_high": _number("upper bound of the Wilson 95% score interval", SHARE),
    "chance_baseline": _number("modal share expected from the coder's own themes at random "
                               "(2,000 seeded draws)", SHARE),
    "n_coders": _integer("coders with codes in the group"),
    "n_clusters": _integer("clusters with scores"),
    "mean": _number("mean consistency over clusters (coders averaged within a cluster first)",
                    SHARE),
    "ci_low": _number("lower bound of the t 95% interval over clusters, clipped to [0, 1]; "
                      "empty below two clusters", SHARE),
    "ci_high": _number("upper bound of the t 95% interval over clusters, clipped to [0, 1]; "
                       "empty below two clusters", SHARE),
    "chance_mean": _number("mean chance baseline over the clusters", SHARE),
    # reliability
    "alpha": _number("Krippendorff's alpha, nominal; empty when undefined (see message)",
                     "-1 to 1"),
    "percent_agreement": _number("mean share of agreeing coder pairs over units coded by two "
                                 "or more coders", SHARE),
    "n_units": _integer("units (sampled post x pass) with at least one code"),
    "n_pairable_units": _integer("units coded by two or more coders"),
    "message": _string("why alpha is undefined or withheld; empty otherwise"),
    # intrusion tests (annotation/README.md, scoring/README.md)
    "task": _string("public id of the intrusion task"),
    "kind": _string("intrusion task kind: top terms, or posts shown in one pass",
                    tuple(INTRUSION_KINDS)),
    "intruder_label": _integer("label of the cluster the intruder was drawn from"),
    "nearest_label": _integer("label of the nearest cluster (never an intruder source)"),
    "space": _string("space the nearest cluster was measured in"),
    "n_items": _integer("items shown in the task, intruder included"),
    "intruder_position": _integer("the intruder's shown position, from 0"),
    "choice": _integer("position the coder picked (empty if unsure)"),
    "unsure": Column("boolean", "the coder answered 'unsure' (counts as a miss)"),
    "correct": Column("boolean", "the coder picked the intruder"),
    "chance": _number("chance of picking the intruder, 1/(k+1)", SHARE),
    "is_intruder": Column("boolean", "this item is the intruder"),
    "term": _string("the shown term (term tasks)"),
    "text": _string("the shown post text (post tasks)"),
    "image": _string("the shown image, relative to the data set's image folder"),
    "n_tasks": _integer("intrusion tasks in the group"),
    "n_answers": _integer("answers (task x coder)"),
    "n_correct": _integer("answers that picked the intruder"),
    "n_unsure": _integer("answers marked unsure"),
    "precision": _number("model precision: correct answers / answers (unsure = miss)", SHARE),
    "mixed_k": Column("boolean", "tasks with different numbers of items in the group (chance "
                                 "is their mean)"),
    "p_value": _number("exact one-sided binomial test of the correct picks against chance",
                       "probability"),
    "median_lead_time_s": _number("median seconds from the task being shown to the answer",
                                  "seconds"),
    "fisher_p": _number("Fisher's combination of the coders' binomial p-values", "probability"),
    "n_pairable_tasks": _integer("tasks answered by two or more coders"),
    "alpha_message": _string("why alpha is undefined, if it is"),
    # machine metrics (manifest.json metric_sources)
    "own_space": _string("space the solution was clustered in and its K chosen"),
    "s_dbw_*": _number("S_Dbw of the solution in the space named after s_dbw_ (lower is "
                       "better)"),
    "ami": _number("adjusted mutual information with the known groups (noise left out)"),
    "ari": _number("adjusted Rand index with the known groups"),
    "homogeneity": _number("homogeneity with the known groups", SHARE),
    "completeness": _number("completeness with the known groups", SHARE),
    "share_left_out": _number("share of pairs left out as noise", SHARE),
    # the comparison table (the names of its page's columns: services.table_columns)
    "s_dbw_own": _number("S_Dbw in the solution's own clustering space (lower is better)"),
    "s_dbw_common": _number("S_Dbw in the run's vector-level space (lower is better)"),
    "stability_ari_mean": _number("stability: mean ARI between seeds (empty if not run)"),
    "ami_text_image": _number("AMI between the text-only and the image-only labels"),
    "data_loss_top25": _number("share of pairs outside the 25 largest clusters", SHARE),
    "truth_ami": _number("AMI with the known groups (noise left out)"),
    "truth_ari": _number("ARI with the known groups"),
    "consistency_*": _number("mean consistency (or its interval bound, chance baseline, "
                             "clusters) in the pass named in the column", SHARE),
    "alpha_*": _number("Krippendorff's alpha in the pass named in the column (empty when "
                       "undefined)", "-1 to 1"),
    "chosen": Column("boolean", "the PI chose this solution"),
    "choice_note": _string("the PI's reason for choosing the solution"),
    "options_shown": _string("the options the adjudication row offered when decided (JSON: "
                             "coder and theme)"),
}

# Names that mean something else in one table.
TABLE_COLUMNS: dict[str, dict[str, Column]] = {
    "decisions/cluster_names": {"name": _string("the PI's name for the cluster")},
    "decisions/solution_choices": {"note": _string("the PI's reason for choosing the solution")},
    "codebook/merges": {"note": _string("the PI's note on the merge"),
                        "pass": _string("pass of both themes", PASSES)},
    "codebook/themes": {"pass": _string("pass the theme belongs to", PASSES),
                        "created_at": Column("timestamp", "when the theme was first typed")},
    "codebook/adjudications": {
        "post": _string("public id of the post decided (empty: the cluster's common theme)"),
        "theme": _string("the theme the PI decided, as named in the codebook"),
        "note": _string("the PI's note on the decision")},
    "data/common_themes": {"theme_adjudicated": _string(
        "the PI's decided common theme (after merges) for this cluster and pass; empty if none")},
    "data/intrusion_answers": {"lead_time_s": _number(
        "seconds from the task being shown to the answer (browser clock)", "seconds")},
    "data/intrusion_items": {"position": _integer("shown position of the item, from 0"),
                             "kind": COLUMNS["kind"]},
    "tables/solution_comparisons": {
        "statistic": _string("what is compared", ["consistency", "intrusion precision"]),
        "pass": _string("pass (consistency) or intrusion kind (intrusion precision)"),
        "solution_a": _string("first solution of the pair"),
        "solution_b": _string("second solution of the pair"),
        "mean_a": _number("the page's statistic for solution A", SHARE),
        "mean_b": _number("the page's statistic for solution B", SHARE),
        "difference": _number("mean_a - mean_b"),
        "ci_low": _number("lower bound of the 95% interval of the difference (bootstrap over "
                          "clusters within solution, and coders from 5 on; t reference)"),
        "ci_high": _number("upper bound of the 95% interval of the difference"),
        "p_value": _number("two-sided p-value of the difference, before adjustment"),
        "p_holm": _number("Holm-adjusted p-value over every pair of the same statistic and "
                          "pass"),
        "distinguishable": Column("boolean", "p_holm < 0.05"),
        "n_units_a": _integer("clusters (intrusion: tasks) of solution A"),
        "n_units_b": _integer("clusters (intrusion: tasks) of solution B"),
        "n_coders": _integer("coders in the pass or kind"),
        "replicates": _integer("bootstrap replicates (seed 0)")},
    "tables/solution_ranking": {
        "statistic": _string("what is ranked", ["consistency", "intrusion precision"]),
        "pass": _string("pass (consistency) or intrusion kind (intrusion precision)"),
        "rank": _integer("1 = highest mean"),
        "mean": _number("the page's statistic for the solution", SHARE),
        "better_than": _string("solutions this one beats at 5% after Holm (comma-separated)"),
        "not_distinguishable_from": _string("solutions whose difference from this one is not "
                                            "significant after Holm (comma-separated)")},
    "tables/comparison": {     # the comparison JSON's names (scoring.services.table_columns)
        "agreement_*": COLUMNS["percent_agreement"]},
    "assignments/run-*-labels": {
        "pair_id": COLUMNS["pair_id"],
        "*": _integer("the pair's cluster label in the solution this column is named after "
                      "(-1 = noise)")},
}

# The code tables: their columns in order (post-only columns are left out of common themes).
_CODE_SOURCE = ["code_id", "round_id", "round_name", "cluster_sample", "cluster_label",
                "cluster_name", "is_calibration", "solution_id", "run_id", "method",
                "algorithm", "k"]
_POST = ["post", "post_id", "pair_id", "position"]
_CODE = ["coder", "pass", "theme_raw", "theme", "theme_adjudicated", "decided_by",
         "decided_at", "decision_note", "theme_raw_id", "theme_merged_id", "version",
         "codebook_version", "lead_time_s", "created_at", "updated_at"]
CODED_POST_COLUMNS = [*_CODE_SOURCE, *_POST, *_CODE]
COMMON_THEME_COLUMNS = [*_CODE_SOURCE, *_CODE]

# What each file is. Keys are path stems (tables: every format), or file paths and patterns.
FILES: dict[str, str] = {
    "data/coded_posts": "one row per post code: who coded which post of which cluster sample "
                        "in which pass, with the raw, reconciled and adjudicated theme",
    "data/common_themes": "one row per common theme a coder gave a cluster sample in one pass",
    "data/intrusion_answers": "one row per intrusion task x coder: the pick, unsure, correct",
    "data/intrusion_items": "what each intrusion task showed, the intruder marked",
    "decisions/cluster_names": "the PI's names for clusters",
    "decisions/solution_choices": "the solutions the PI chose, with their notes",
    "assignments/run-*-labels": "every pair's cluster label in every solution of the run "
                                "(labels.parquet)",
    "codebook/themes": "every theme of the codebook, with the theme it was merged into",
    "codebook/merges": "every merge of one theme into another",
    "codebook/adjudications": "the PI's decisions on disagreements (post or common theme)",
    "scores/cluster_coder_scores": "consistency per cluster sample x pass x coder",
    "scores/cluster_scores": "consistency per cluster sample x pass (coders averaged)",
    "scores/solution_scores": "mean consistency per solution x pass, t 95% interval",
    "scores/reliability": "Krippendorff's alpha and percent agreement per solution x pass",
    "scores/reliability_overall": "Krippendorff's alpha and percent agreement per pass",
    "scores/intrusion_solution_scores": "intrusion precision and tests per solution x kind",
    "scores/intrusion_kind_scores": "intrusion precision and tests per kind (all solutions)",
    "scores/intrusion_cluster_scores": "intrusion precision and tests per solution x kind x "
                                       "cluster",
    "scores/intrusion_coder_scores": "intrusion precision and tests per solution x kind x coder",
    "tables/comparison": "the comparison table: machine metrics, consistency, alpha, choices",
    "tables/s_dbw_by_space": "S_Dbw of every solution in every method's space",
    "tables/known_groupings": "agreement of every solution with the run's known groups",
    "tables/comparison.tex": "the comparison table as LaTeX (booktabs)",
    "tables/solution_comparisons": "every pair of solutions: difference in consistency per "
                                   "pass (and intrusion precision per kind), 95% interval, raw "
                                   "and Holm-adjusted p (docs/statistics.md)",
    "tables/solution_ranking": "solutions ranked per pass with which differences are "
                               "distinguishable at 5% after Holm",
    "tables/solution_comparisons.tex": "the pairwise comparisons as LaTeX",
    "tables/solution_ranking.tex": "the ranking with uncertainty as LaTeX",
    "tables/solution_scores.tex": "mean consistency per solution as LaTeX",
    "figures/mean_consistency.*": "mean consistency per solution x pass with 95% intervals "
                                  "(paper figure 9)",
    "figures/cluster_consistency.*": "consistency per cluster (paper figure E.1)",
    "figures/run-*/*": "the engine run's own figures",
    "manifest.json": "provenance: package versions, run configuration, seeds, models with "
                     "weight hashes, data hashes, scoring conventions, sha256 of every file",
    "data_dictionary.json": "this data dictionary, machine-readable",
    "README.md": "this data dictionary, for people, with how to load the tables",
}
TABLE_FORMATS = {".csv": "CSV, spreadsheet-safe (text starting with = + - @ gets a leading ')",
                 ".jsonl": "JSON Lines, one object per row, raw values",
                 ".parquet": "Apache Parquet, raw values and types",
                 ".dta": "Stata 14+ (format 118, UTF-8) with variable and value labels"}
