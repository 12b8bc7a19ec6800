"""Read the codes of a project into flat tables (one concern: database → pandas).

Every score and every export starts from these frames, so the dashboard and the exported files
are computed from the same rows.

Coders appear under a stable pseudonym (``coder_1``, ``coder_2``, … by user id among the
project's coders, consistency codes and intrusion answers alike): exports go to reviewers, and
a later coder never renumbers earlier ones.
"""
from __future__ import annotations

import io

import pandas as pd
from django.db import connection
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


# The rows of the long-format code tables and their order (exports, the codes read API).
POST_CODE_FIELDS = {"id": "code_id", **SAMPLE_FIELDS, **POST_FIELDS, **CODE_FIELDS}
POST_CODE_ORDER = ["cluster_sample__order", "sampled_post__position", "coder_id", "pass_name"]
COMMON_CODE_FIELDS = {"id": "code_id", **SAMPLE_FIELDS, **CODE_FIELDS}
COMMON_CODE_ORDER = ["cluster_sample__order", "coder_id", "pass_name"]


CODER_SOURCES = ("post", "common", "intrusion")


def coder_ids(project, sources=CODER_SOURCES) -> set[int]:
    """Users with post codes, common themes or intrusion answers in the project."""
    codes = {"post": PostCode.objects.filter(cluster_sample__round__project=project),
             "common": ClusterCode.objects.filter(cluster_sample__round__project=project),
             "intrusion": IntrusionAnswer.objects.filter(task__round__project=project)}
    ids = set()
    for source in sources:
        ids |= set(codes[source].order_by().values_list("coder_id", flat=True).distinct())
    return ids


def pseudonyms(ids) -> dict[int, str]:
    return {pk: f"coder_{i}" for i, pk in enumerate(sorted(ids), start=1)}


def coder_pseudonyms(project) -> dict[int, str]:
    return pseudonyms(coder_ids(project))


def _frame(queryset, fields: dict, columns: list[str], order: list[str]) -> pd.DataFrame:
    """Rows of ``fields`` sorted by the lookups of ``order`` (sorted here, not by the database:
    sorting 750,000 joined rows there took longer than reading them)."""
    # Timestamps travel as text and are parsed by pandas in one vectorised call (_finish):
    # the driver's per-value datetime parsing was the slowest part of reading 750,000 codes.
    casts = {f"{name}_text": Cast(name, TextField()) for name in TIMESTAMPS if name in fields}
    lookups = [f"{name}_text" if name in TIMESTAMPS else name for name in fields]
    names = [*fields.values(), *(f"_order_{i}" for i in range(len(order)))]
    queryset = queryset.order_by().annotate(**casts).values_list(*lookups, *order)
    if connection.vendor == "postgresql":
        frame = _copied(queryset, names)
    else:
        frame = pd.DataFrame(list(queryset), columns=names)
    if not len(frame):
        return pd.DataFrame(columns=columns)
    keys = names[len(fields):]
    return frame.sort_values(keys, kind="stable").drop(columns=keys).reset_index(drop=True)


NUMBERS = {"code_id", "round_id", "sample_pk", "solution_pk", "run_id", "k", "cluster_label",
           "position", "coder_id", "theme_id", "version", "lead_time_s"}
TRUTH_VALUES = {"is_calibration"}


def _copied(queryset, columns: list[str]) -> pd.DataFrame:
    """The rows of a values_list query through COPY … (FORMAT csv) and pandas' CSV parser, ~10x
    faster than the driver building a Python tuple per row; text stays text, the columns of
    NUMBERS and TRUTH_VALUES get their types back, NULL is NaN."""
    sql, params = queryset.query.sql_with_params()
    buffer = io.BytesIO()
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, NULL '\\N')",
                                params) as copy:
            for block in copy:
                buffer.write(block)
    buffer.seek(0)
    frame = pd.read_csv(buffer, header=None, names=columns, na_values=["\\N"],
                        keep_default_na=False,
                        dtype={c: str for c in columns
                               if c not in NUMBERS and not c.startswith("_order_")})
    for column in TRUTH_VALUES.intersection(columns):
        frame[column] = frame[column].map({"t": True, "f": False})
    return frame


def add_themes(frame: pd.DataFrame, project) -> pd.DataFrame:
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
    frame = add_themes(frame, project)
    for column in TIMESTAMPS:
        frame[column] = pd.to_datetime(frame[column], utc=True, format="ISO8601")
    return frame


def post_codes(project, round_ids=None) -> pd.DataFrame:
    """One row per post code: post, pair, cluster sample, solution, coder, pass, theme raw/merged."""
    frame = _frame(PostCode.objects.filter(cluster_sample__round__project=project),
                   POST_CODE_FIELDS, list(POST_CODE_FIELDS.values()), POST_CODE_ORDER)
    sizes = sample_sizes(project)
    frame["posts_in_sample"] = frame["sample_pk"].map(sizes).astype("Int64")
    return _finish(frame, project, round_ids)


SCORE_CODE_COLUMNS = ["code_id", "sample_pk", "post", "coder_id", "pass", "theme_id"]


def _score_code_rows(queryset) -> pd.DataFrame:
    if connection.vendor != "postgresql":
        return pd.DataFrame(list(queryset), columns=SCORE_CODE_COLUMNS)
    frame = _copied(queryset, SCORE_CODE_COLUMNS)
    return frame.astype({c: "int64" for c in SCORE_CODE_COLUMNS if c != "pass"})


def score_codes(project, round_ids=None) -> pd.DataFrame:
    """The columns of ``post_codes`` that scores read, for every post code: the codes as
    integers, the cluster sample's columns joined from its (few) rows. ``post`` is the sampled
    post's id here (a unit's identity, as the public id is in ``post_codes``)."""
    codes = PostCode.objects.filter(cluster_sample__round__project=project)
    if round_ids is not None:
        codes = codes.filter(cluster_sample__round_id__in=list(round_ids))
    frame = _score_code_rows(codes.order_by().values_list(
        "id", "cluster_sample_id", "sampled_post_id", "coder_id", "pass_name", "theme_id"))
    own_fields = ["id" if name == "cluster_sample_id" else name.removeprefix("cluster_sample__")
                  for name in SAMPLE_FIELDS]
    samples = pd.DataFrame(
        list(ClusterSample.objects.filter(round__project=project).values_list(*own_fields)),
        columns=list(SAMPLE_FIELDS.values()))
    samples["posts_in_sample"] = samples["sample_pk"].map(sample_sizes(project)).astype("Int64")
    frame = frame.merge(samples, on="sample_pk", how="left", sort=False)
    frame["coder"] = frame["coder_id"].map(coder_pseudonyms(project))
    return add_themes(frame, project)


def cluster_codes(project, round_ids=None) -> pd.DataFrame:
    """One row per common theme a coder gave a cluster sample in one pass."""
    frame = _frame(ClusterCode.objects.filter(cluster_sample__round__project=project),
                   COMMON_CODE_FIELDS, list(COMMON_CODE_FIELDS.values()), COMMON_CODE_ORDER)
    return _finish(frame, project, round_ids)


def sample_sizes(project) -> dict[int, int]:
    """Sampled posts per cluster sample (the denominator if every post were coded)."""
    return dict(ClusterSample.objects.filter(round__project=project)
                .annotate(n=Count("posts")).values_list("pk", "n"))
