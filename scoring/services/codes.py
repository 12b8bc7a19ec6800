"""Read the codes of a project into flat tables (one concern: database → pandas).

Every score and every export starts from these frames, so the dashboard and the exported files
are computed from the same rows.

Coders appear under a stable pseudonym (``coder_1``, ``coder_2``, … by user id among the
project's coders, consistency codes and intrusion answers alike): exports go to reviewers, and
a later coder never renumbers earlier ones.
"""
from __future__ import annotations

import pandas as pd
from django.db.models import Count, TextField
from django.db.models.functions import Cast

from annotation.models import ClusterCode, ClusterSample, IntrusionAnswer, PostCode, Theme
from annotation.services.codebook import effective_theme_map

SAMPLE_FIELDS = {
    "cluster_sample__round_id": "round_id",
    "cluster_sample_id": "sample_pk",
    "cluster_sample__public_id": "cluster_sample",
    "cluster_sample__solution_id": "solution_pk",
    "cluster_sample__solution__solution_id": "solution_id",
    "cluster_sample__solution__run_id": "run_id",
    "cluster_sample__solution__method": "method",
    "cluster_sample__solution__algorithm": "algorithm",
    "cluster_sample__solution__k": "k",
    "cluster_sample__cluster_label": "cluster_label",
    "cluster_sample__is_calibration": "is_calibration",
}
TIMESTAMPS = ("created_at", "updated_at")
CODE_FIELDS = {"coder_id": "coder_id", "pass_name": "pass", "theme_id": "theme_id",
               "version": "version", "lead_time_s": "lead_time_s", "created_at": "created_at",
               "updated_at": "updated_at"}
POST_FIELDS = {"sampled_post__public_id": "post", "sampled_post__pair_id": "pair_id",
               "sampled_post__post_id": "post_id", "sampled_post__position": "position"}


def coder_pseudonyms(project) -> dict[int, str]:
    ids = set(PostCode.objects.filter(cluster_sample__round__project=project)
              .values_list("coder_id", flat=True))
    ids |= set(ClusterCode.objects.filter(cluster_sample__round__project=project)
               .values_list("coder_id", flat=True))
    ids |= set(IntrusionAnswer.objects.filter(task__round__project=project)
               .values_list("coder_id", flat=True))
    return {pk: f"coder_{i}" for i, pk in enumerate(sorted(ids), start=1)}


def _frame(queryset, fields: dict, columns: list[str]) -> pd.DataFrame:
    # Timestamps travel as text and are parsed by pandas in one vectorised call (_finish):
    # the driver's per-value datetime parsing was the slowest part of reading 750,000 codes.
    casts = {f"{name}_text": Cast(name, TextField()) for name in TIMESTAMPS if name in fields}
    lookups = [f"{name}_text" if name in TIMESTAMPS else name for name in fields]
    rows = list(queryset.annotate(**casts).values_list(*lookups))
    return pd.DataFrame(rows, columns=list(fields.values())) if rows else pd.DataFrame(columns=columns)


def _add_themes(frame: pd.DataFrame, project) -> pd.DataFrame:
    """Raw theme name plus the merged (effective) theme the scores use."""
    effective = effective_theme_map(project)
    names = dict(Theme.objects.filter(project=project).values_list("pk", "name"))
    frame["theme_raw"] = frame["theme_id"].map(names)
    frame["theme_merged_id"] = frame["theme_id"].map(effective).astype("Int64")
    frame["theme"] = frame["theme_merged_id"].map(names)
    return frame


def _finish(frame: pd.DataFrame, project, round_ids) -> pd.DataFrame:
    if round_ids is not None:
        frame = frame[frame["round_id"].isin(list(round_ids))].copy()
    frame["coder"] = frame["coder_id"].map(coder_pseudonyms(project))
    frame = _add_themes(frame, project)
    for column in TIMESTAMPS:
        frame[column] = pd.to_datetime(frame[column], utc=True, format="ISO8601")
    return frame


def post_codes(project, round_ids=None) -> pd.DataFrame:
    """One row per post code: post, pair, cluster sample, solution, coder, pass, theme raw/merged."""
    fields = {"id": "code_id", **SAMPLE_FIELDS, **POST_FIELDS, **CODE_FIELDS}
    frame = _frame(PostCode.objects.filter(cluster_sample__round__project=project)
                   .order_by("cluster_sample__order", "sampled_post__position", "coder_id",
                             "pass_name"), fields, list(fields.values()))
    sizes = sample_sizes(project)
    frame["posts_in_sample"] = frame["sample_pk"].map(sizes).astype("Int64")
    return _finish(frame, project, round_ids)


def cluster_codes(project, round_ids=None) -> pd.DataFrame:
    """One row per common theme a coder gave a cluster sample in one pass."""
    fields = {"id": "code_id", **SAMPLE_FIELDS, **CODE_FIELDS}
    frame = _frame(ClusterCode.objects.filter(cluster_sample__round__project=project)
                   .order_by("cluster_sample__order", "coder_id", "pass_name"),
                   fields, list(fields.values()))
    return _finish(frame, project, round_ids)


def sample_sizes(project) -> dict[int, int]:
    """Sampled posts per cluster sample (the denominator if every post were coded)."""
    return dict(ClusterSample.objects.filter(round__project=project)
                .annotate(n=Count("posts")).values_list("pk", "n"))
