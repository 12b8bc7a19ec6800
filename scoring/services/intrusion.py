"""Intrusion-test scores (Chang et al. 2009; the oolong package's reading): model precision with
a Wilson interval, an exact one-sided binomial test against chance, Fisher's combination across
coders and Krippendorff's α on the picks.

Conventions (ours where the literature leaves a choice open):

* Unit: one answer = one task × coder (``answers``, the long table the export writes). A pick is
  **correct** when it is the intruder's shown position. An **unsure** answer counts as a miss
  (``n`` includes it; ``n_unsure`` says how many): the test against chance assumes a forced
  choice, so counting unsure as a miss can only make it conservative.
* **Model precision** = correct / answers. Interval: Wilson 95% score interval (the helper of
  services.consistency).
* **Chance** = 1 / (k + 1), k + 1 the items shown. **p** = exact one-sided binomial test
  (``scipy.stats.binomtest``, alternative "greater") of correct out of n against chance. When a
  group mixes tasks of different k, chance is their mean (an approximation, flagged by
  ``mixed_k``).
* **Fisher's combination across coders**: each coder's binomial p in the group, combined with
  ``scipy.stats.combine_pvalues(method="fisher")``; it asks whether any coder finds intruders
  above chance. One coder: their own p.
* **Krippendorff's α** (nominal) on the picks: units = tasks, raters = coders, values = picked
  positions; unsure answers are missing values; only tasks answered by two or more coders count
  (services.reliability, the ``krippendorff`` package); undefined cases give None and a message.
* Groups: per coder (solution × kind × coder), per cluster (solution × kind × cluster, coders
  pooled), per solution (solution × kind) and per kind (all solutions). "Kind" is the pass of a
  post task (text, image, joint) or ``term``.
* Lead time: seconds from the task being shown to the save of the answer, as the coder's browser
  measured it; groups report the median.
"""
from __future__ import annotations

import pandas as pd
from scipy import stats

from annotation.intrusion_models import INTRUSION_KINDS, IntrusionAnswer

from .codes import coder_pseudonyms
from .consistency import wilson_interval
from .reliability import reliability

SOLUTION_KEYS = ["solution_pk", "solution_id", "run_id", "method", "algorithm", "k"]
ANSWER_FIELDS = {
    "task__round_id": "round_id", "task__public_id": "task", "task__kind": "kind",
    "task__solution_id": "solution_pk", "task__solution__solution_id": "solution_id",
    "task__solution__run_id": "run_id", "task__solution__method": "method",
    "task__solution__algorithm": "algorithm", "task__solution__k": "k",
    "task__cluster_label": "cluster_label", "task__intruder_label": "intruder_label",
    "task__nearest_label": "nearest_label", "task__space": "space",
    "task__n_items": "n_items", "task__intruder_position": "intruder_position",
    "task__is_calibration": "is_calibration", "coder_id": "coder_id", "choice": "choice",
    "unsure": "unsure", "lead_time_s": "lead_time_s", "version": "version",
    "created_at": "created_at", "updated_at": "updated_at",
}
ANSWER_COLUMNS = [*ANSWER_FIELDS.values(), "coder", "correct", "chance"]
SCORE_COLUMNS = ["n_tasks", "n_answers", "n_correct", "n_unsure", "precision", "wilson_low",
                 "wilson_high", "chance", "mixed_k", "p_value", "median_lead_time_s"]
GROUP_COLUMNS = ["n_coders", "fisher_p", "alpha", "percent_agreement", "n_pairable_tasks",
                 "alpha_message"]


def answers(project, round_ids=None) -> pd.DataFrame:
    """One row per intrusion answer (task × coder), in task order."""
    qs = IntrusionAnswer.objects.filter(task__round__project=project).order_by(
        "task__round_id", "task__order", "coder_id")
    if round_ids is not None:
        qs = qs.filter(task__round_id__in=list(round_ids))
    rows = list(qs.values_list(*ANSWER_FIELDS))
    frame = pd.DataFrame(rows, columns=list(ANSWER_FIELDS.values()))
    frame["coder"] = frame["coder_id"].map(coder_pseudonyms(project))
    frame["correct"] = (frame["choice"] == frame["intruder_position"]) & ~frame["unsure"].astype(bool)
    frame["chance"] = 1.0 / frame["n_items"].astype(float)
    for column in ("created_at", "updated_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame.reindex(columns=ANSWER_COLUMNS)


def binomial_p(correct: int, n: int, chance: float) -> float | None:
    """Exact one-sided binomial test (more correct picks than chance); None without answers."""
    if n <= 0:
        return None
    return float(stats.binomtest(int(correct), int(n), float(chance), alternative="greater").pvalue)


def precision_summary(group: pd.DataFrame) -> dict:
    n, correct = len(group), int(group["correct"].sum())
    chance = float(group["chance"].mean()) if n else None
    low, high = wilson_interval(correct, n)
    lead = group["lead_time_s"].dropna()
    return {"n_tasks": int(group["task"].nunique()), "n_answers": n, "n_correct": correct,
            "n_unsure": int(group["unsure"].astype(bool).sum()),
            "precision": correct / n if n else None, "wilson_low": low, "wilson_high": high,
            "chance": chance, "mixed_k": bool(group["n_items"].nunique() > 1),
            "p_value": binomial_p(correct, n, chance) if n else None,
            "median_lead_time_s": float(lead.median()) if len(lead) else None}


def fisher_across_coders(group: pd.DataFrame) -> float | None:
    pvalues = [binomial_p(int(g["correct"].sum()), len(g), float(g["chance"].mean()))
               for _, g in group.groupby("coder")]
    pvalues = [p for p in pvalues if p is not None]
    if not pvalues:
        return None
    if len(pvalues) == 1:
        return pvalues[0]
    return float(stats.combine_pvalues(pvalues, method="fisher").pvalue)


def pick_reliability(group: pd.DataFrame) -> dict:
    """Krippendorff's α on the picks (services.reliability: units = tasks, values = picks)."""
    picks = group[~group["unsure"].astype(bool)]
    result = reliability(pd.DataFrame({"coder": picks["coder"], "post": picks["task"],
                                       "pass": picks["kind"],
                                       "theme_merged_id": picks["choice"].astype(float)}))
    return {"alpha": result.alpha, "percent_agreement": result.percent_agreement,
            "n_pairable_tasks": result.n_pairable_units, "alpha_message": result.message}


def _table(frame: pd.DataFrame, by: list[str], with_group_tests: bool) -> pd.DataFrame:
    columns = [*by, *SCORE_COLUMNS, *(GROUP_COLUMNS if with_group_tests else [])]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    rows = []
    for keys, group in frame.groupby(by, sort=False, dropna=False):
        row = dict(zip(by, keys if isinstance(keys, tuple) else (keys,)))
        row.update(precision_summary(group))
        if with_group_tests:
            row.update(n_coders=int(group["coder"].nunique()),
                       fisher_p=fisher_across_coders(group), **pick_reliability(group))
        rows.append(row)
    table = pd.DataFrame(rows, columns=columns)
    kind_order = table["kind"].map({k: i for i, k in enumerate(INTRUSION_KINDS)})
    sort_by = [c for c in by if c != "kind"]
    return (table.assign(_kind=kind_order).sort_values([*sort_by, "_kind"], kind="stable")
            .drop(columns="_kind").reset_index(drop=True))


def coder_scores(frame: pd.DataFrame) -> pd.DataFrame:
    return _table(frame, [*SOLUTION_KEYS, "kind", "coder"], with_group_tests=False)


def cluster_scores(frame: pd.DataFrame) -> pd.DataFrame:
    return _table(frame, [*SOLUTION_KEYS, "kind", "cluster_label"], with_group_tests=True)


def solution_scores(frame: pd.DataFrame) -> pd.DataFrame:
    return _table(frame, [*SOLUTION_KEYS, "kind"], with_group_tests=True)


def kind_scores(frame: pd.DataFrame) -> pd.DataFrame:
    return _table(frame, ["kind"], with_group_tests=True)


def intrusion_scores(project, round_ids=None) -> dict[str, pd.DataFrame]:
    """Every intrusion table of a project (the dashboard, its API and the export read these)."""
    return score_tables(answers(project, round_ids))


def score_tables(frame: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """The tables of an answers frame (None: the empty tables)."""
    if frame is None:
        frame = pd.DataFrame(columns=ANSWER_COLUMNS)
    return {"answers": frame, "coder_scores": coder_scores(frame),
            "cluster_scores": cluster_scores(frame), "solution_scores": solution_scores(frame),
            "kind_scores": kind_scores(frame)}


# ------------------------------------------------------------------ dashboard

def p_display(p) -> str:
    if p is None:
        return "—"
    return f"{p:.1e}" if p < 0.001 else f"{p:.3f}"


def dashboard_section(solution_records: list[dict], kind_records: list[dict],
                      comparison_rows: list[dict], n_answers: int) -> dict:
    """Rows per solution × kind beside the solution's machine metrics and the consistency of the
    same pass. Inputs are clean (JSON-safe) records of ``solution_scores`` / ``kind_scores`` and
    the comparison table's rows, already filtered (services.comparison)."""
    context = {r["solution_pk"]: r for r in comparison_rows}
    rows = []
    for score in solution_records:
        solution = context.get(score["solution_pk"])
        if solution is None:
            continue
        rows.append({**score,
                     "s_dbw_own": solution.get("s_dbw_own"),
                     "s_dbw_common": solution.get("s_dbw_common"),
                     "ami_text_image": solution.get("ami_text_image"),
                     # agreement with known groupings, when the run had a truth column
                     "truth_ami": solution.get("truth_ami"),
                     "truth_ari": solution.get("truth_ari"),
                     "consistency_same_pass": solution.get(f"consistency_{score['kind']}"),
                     "p_value_display": p_display(score["p_value"]),
                     "fisher_p_display": p_display(score["fisher_p"])})
    overall = [{**r, "p_value_display": p_display(r["p_value"]),
                "fisher_p_display": p_display(r["fisher_p"])} for r in kind_records]
    return {"rows": rows, "per_kind": overall, "n_answers": n_answers,
            "has_truth": any(r["truth_ami"] is not None or r["truth_ari"] is not None
                             for r in rows)}
