"""The intrusion part of an export: the long answers table (one row per task × coder, with lead
time), the items each task showed, the score tables, their conventions and each round's
intrusion plan for the provenance. Read (``items_table``, ``plans``) and build
(``intrusion_tables``) stay separate, as in the rest of the export."""
from __future__ import annotations

import pandas as pd

from annotation.intrusion_models import IntrusionItem, IntrusionPlan

ANSWER_EXPORT_COLUMNS = [
    "task", "round_id", "kind", "solution_id", "run_id", "method", "algorithm", "k",
    "cluster_label", "intruder_label", "nearest_label", "space", "n_items", "intruder_position",
    "is_calibration", "coder", "choice", "unsure", "correct", "chance", "lead_time_s", "version",
    "created_at", "updated_at"]
CONVENTIONS = {
    "intrusion_tasks": "k items of one cluster plus one intruder from another cluster of the same "
                       "solution, drawn among the clusters other than the nearest (Euclidean "
                       "distance between centroids in the solution's own space, else the run's "
                       "common space); term tasks: the cluster's top k c-TF-IDF terms plus a top-k "
                       "term of the other cluster that is not among this cluster's stored top "
                       "terms; the intruder never repeats a shown text or image; positions "
                       "shuffled; seeded by the round's seed and sampling secret",
    "intrusion_precision": "model precision = correct picks / answers (unsure = miss), Wilson 95% "
                           "score interval; chance = 1/(k+1)",
    "intrusion_tests": "exact one-sided binomial test against chance (scipy.stats.binomtest, "
                       "greater); Fisher's method over the coders' binomial p-values "
                       "(scipy.stats.combine_pvalues)",
    "intrusion_reliability": "Krippendorff's alpha, nominal, units = tasks, raters = coders, "
                             "values = picked positions (unsure missing), tasks answered by two "
                             "or more coders",
    "lead_time": "seconds from the task being shown to the save of the answer, measured by the "
                 "coder's browser",
}


ITEM_FIELDS = {"task__public_id": "task", "task__round_id": "round_id", "task__kind": "kind",
               "task__solution__solution_id": "solution_id",
               "task__cluster_label": "cluster_label", "position": "position",
               "is_intruder": "is_intruder", "term": "term", "pair_id": "pair_id",
               "post_id": "post_id", "text": "text", "image": "image"}


def items_table(project) -> pd.DataFrame:
    """Every shown item of every intrusion task (read step)."""
    fields = ITEM_FIELDS
    rows = list(IntrusionItem.objects.filter(task__round__project=project)
                .order_by("task__round_id", "task__order", "position").values_list(*fields))
    return pd.DataFrame(rows, columns=list(fields.values()))


def plans(project) -> list[dict]:
    """Each round's intrusion plan, for the provenance (read step)."""
    return [{"round_id": p.round_id, "kinds": p.kinds, "items_per_task": p.items_per_task,
             "has_consistency": p.has_consistency, "report": p.report}
            for p in IntrusionPlan.objects.filter(round__project=project).order_by("round_id")]


def intrusion_tables(tables: dict[str, pd.DataFrame],
                     items: pd.DataFrame | None) -> dict[str, pd.DataFrame]:
    """Export path stem -> frame (build step; ``tables`` from services.intrusion)."""
    hidden = ["solution_pk", "coder_id"]
    return {
        "data/intrusion_answers": tables["answers"].reindex(columns=ANSWER_EXPORT_COLUMNS),
        "data/intrusion_items": (items if items is not None
                                 else pd.DataFrame(columns=list(ITEM_FIELDS.values()))),
        "scores/intrusion_solution_scores": tables["solution_scores"].drop(
            columns=hidden, errors="ignore"),
        "scores/intrusion_kind_scores": tables["kind_scores"],
        "scores/intrusion_cluster_scores": tables["cluster_scores"].drop(
            columns=hidden, errors="ignore"),
        "scores/intrusion_coder_scores": tables["coder_scores"].drop(
            columns=hidden, errors="ignore"),
    }
