"""Read API for analysis (mounted under /api/scoring/projects/<pk>/analysis/): the codes in long
format, cluster-level scores and reliability, as paginated, filterable JSON that pandas or R read
straight from a URL with a token (``Authorization: Token …``), without the export zip.

Read-only (GET only). Permissions follow the pages: the codes — like the export that holds them —
are the PI's; scores and reliability are read by the PI and viewers, like the comparison page;
coders and outsiders get 404. Coders appear under the exports' pseudonyms (``coder_1`` …).

Filters (all optional, combined with AND): ``round`` (ids, comma-separated), ``pass``,
``solution`` (solution id, e.g. ``vector-kmeans-k25``), ``coder`` (pseudonym); codes also
``kind`` (``post`` or ``common``). Pages: ``page``, ``page_size`` (at most 5,000).
"""
from __future__ import annotations

import pandas as pd
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.decorators import api_view
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from annotation.models import PASS_ORDER
from projects.api_input import MAX_ID, page_id

from . import analysis_serializers as s
from .services import access
from .services.code_pages import CodeFilters, CodePages
from .services.comparison import clean_value, project_scores
from .services.snapshots import stored_scores

PASS_VALUES = [p.value for p in PASS_ORDER]
CODE_COLUMNS = ["kind", "code_id", "round_id", "cluster_sample", "solution_id", "run_id",
                "method", "algorithm", "k", "cluster_label", "is_calibration", "post", "pair_id",
                "post_id", "position", "coder", "pass", "theme_id", "theme_raw",
                "theme_merged_id", "theme", "version", "lead_time_s", "created_at", "updated_at"]
INTEGER_COLUMNS = ["code_id", "round_id", "run_id", "k", "cluster_label", "position", "theme_id",
                   "theme_merged_id", "version"]
SCORE_COLUMNS = ["round_id", "cluster_sample", "solution_id", "run_id", "method", "algorithm",
                 "k", "cluster_label", "pass"]


class AnalysisPagination(PageNumberPagination):
    page_size = 500
    page_size_query_param = "page_size"
    max_page_size = 5000


ROUND = OpenApiParameter("round", str, description="round ids, comma-separated")
PASS = OpenApiParameter("pass", str, enum=PASS_VALUES)
SOLUTION = OpenApiParameter("solution", str, description="solution id, e.g. vector-kmeans-k25")
CODER = OpenApiParameter("coder", str, description="coder pseudonym, e.g. coder_1")
PAGES = [OpenApiParameter("page", int), OpenApiParameter("page_size", int,
                                                         description="rows per page, ≤ 5000")]


def _round_ids(request, project) -> list[int] | None:
    raw = request.query_params.get("round", "").strip()
    if not raw:
        return None
    parts = [part.strip() for part in raw.split(",") if part.strip()]
    wanted = {page_id(part) for part in parts}
    if None in wanted:   # not a number, or beyond the database's ids (it failed there: a 500)
        raise ValidationError({"round": f"round ids are whole numbers from 1 to {MAX_ID}, "
                                        f"comma-separated (got {raw[:40]!r})"})
    known = set(project.validation_rounds.filter(pk__in=wanted).values_list("pk", flat=True))
    if unknown := sorted(wanted - known):
        raise ValidationError({"round": f"no such round in this project: {unknown}"})
    return sorted(known)


def _pass_name(request) -> str | None:
    pass_name = request.query_params.get("pass")
    if pass_name and pass_name not in PASS_VALUES:
        raise ValidationError({"pass": f"one of {', '.join(PASS_VALUES)}"})
    return pass_name


def _filtered(frame: pd.DataFrame, request, fields=("pass", "solution", "coder")) -> pd.DataFrame:
    column = {"pass": "pass", "solution": "solution_id", "coder": "coder"}
    _pass_name(request)
    for name in fields:
        value = request.query_params.get(name)
        if value:
            frame = frame[frame[column[name]] == value]
    return frame


def _rows(frame: pd.DataFrame, columns: list[str]) -> list[dict]:
    frame = frame.reindex(columns=columns)
    return [{k: clean_value(v) for k, v in row.items()} for row in frame.to_dict("records")]


class _FrameRows:
    """A frame as the paginator's list: only the rows of the page asked for become dicts."""

    def __init__(self, frame: pd.DataFrame, columns: list[str]):
        self.frame, self.columns = frame, columns

    def __len__(self):
        return len(self.frame)

    def __getitem__(self, index):
        return _rows(self.frame.iloc[index], self.columns)


class _CodeRows:
    """Pages read from the database (``CodePages``) as the paginator's list of JSON rows."""

    def __init__(self, pages: CodePages):
        self.pages = pages

    def __len__(self):
        return len(self.pages)

    def __getitem__(self, index: slice):
        frame = self.pages[index]
        if frame.empty:
            return []
        frame = frame.reindex(columns=CODE_COLUMNS)   # a page of common themes has no post
        for column in INTEGER_COLUMNS:   # whole numbers stay whole where common rows have no post
            frame[column] = pd.to_numeric(frame[column]).astype("Int64")
        for column in ("created_at", "updated_at"):
            frame[column] = frame[column].map(lambda t: None if pd.isna(t) else t.isoformat())
        return _rows(frame, CODE_COLUMNS)


def _page(request, rows) -> Response:
    paginator = AnalysisPagination()
    return paginator.get_paginated_response(paginator.paginate_queryset(rows, request))


@extend_schema(summary="Codes in long format: one row per code (post theme or common theme) "
                       "(PI)",
               parameters=[ROUND, PASS, SOLUTION, CODER,
                           OpenApiParameter("kind", str, enum=["post", "common"]), *PAGES],
               responses=s.CodePageSerializer)
@api_view(["GET"])
def codes(request, pk):
    project = access.managed_project_or_404(request.user, pk)
    round_ids = _round_ids(request, project)
    kind = request.query_params.get("kind")
    if kind and kind not in ("post", "common"):
        raise ValidationError({"kind": "post or common"})
    filters = CodeFilters(round_ids=round_ids, pass_name=_pass_name(request), kind=kind,
                          solution_id=request.query_params.get("solution"),
                          coder=request.query_params.get("coder"))
    return _page(request, _CodeRows(CodePages(project, filters)))


@extend_schema(summary="Cluster-level scores: within-cluster consistency per cluster sample × "
                       "pass (coders averaged), or per coder with level=coder",
               parameters=[ROUND, PASS, SOLUTION, CODER,
                           OpenApiParameter("level", str, enum=["cluster", "coder"]), *PAGES],
               responses=s.ClusterScorePageSerializer)
@api_view(["GET"])
def cluster_scores(request, pk):
    project = access.readable_project_or_404(request.user, pk)
    level = request.query_params.get("level", "cluster")
    if level not in ("cluster", "coder"):
        raise ValidationError({"level": "cluster or coder"})
    round_ids = _round_ids(request, project)
    scores = stored_scores(project, ("cluster_means",) if level == "cluster"
                           else ("cluster_scores",)).scores
    if level == "cluster":
        if request.query_params.get("coder"):
            raise ValidationError({"coder": "filter by coder with level=coder"})
        frame = _filtered(scores.cluster_means, request, ("pass", "solution"))
        columns = [*SCORE_COLUMNS, "n_coders", "consistency", "chance_baseline"]
    else:
        frame = _filtered(scores.cluster_scores, request)
        columns = [*SCORE_COLUMNS, "coder", "posts_in_sample", "n_coded", "n_modal",
                   "consistency", "modal_theme", "n_modal_themes", "wilson_low", "wilson_high",
                   "chance_baseline"]
    if round_ids is not None:   # a cluster's scores depend on its own round only
        frame = frame[frame["round_id"].isin(round_ids)]
    return _page(request, _FrameRows(frame, columns))


@extend_schema(summary="Inter-coder reliability (Krippendorff's α, percent agreement) per "
                       "solution × pass, and per pass over all solutions",
               parameters=[ROUND, PASS, SOLUTION], responses=s.ReliabilitySerializer)
@api_view(["GET"])
def reliability(request, pk):
    project = access.readable_project_or_404(request.user, pk)
    round_ids = _round_ids(request, project)
    # α over some rounds is not a part of α over all: computed from those rounds' codes
    scores = (stored_scores(project, ("reliability", "reliability_overall")).scores
              if round_ids is None else project_scores(project, round_ids))
    columns = ["pass", "alpha", "percent_agreement", "n_coders", "n_units", "n_pairable_units",
               "message"]
    return Response({
        "per_solution": _rows(_filtered(scores.reliability, request, ("pass", "solution")),
                              ["solution_id", *columns]),
        "overall": _rows(_filtered(scores.reliability_overall, request, ("pass",)), columns)})
