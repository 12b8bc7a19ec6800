"""JSON API of the scoring app (mounted at /api/scoring/). PI and viewers read; the PI writes
choices and exports; coders get 404 (services.access)."""
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import api_view
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from . import serializers as s
from .services import access
from .services.choices import ChoiceError, set_choice
from .services import intrusion as intrusion_service
from .services.comparison import comparison, records
from .services.exports import ExportRefused, start_export
from .services.snapshots import CLUSTERS_JSON, stored_scores
from .services.round_planning import Design, plan
from .services.table_columns import INTRUSION_LABELS

# query parameter -> (smallest, largest, default) of the round planner
PLAN_LIMITS = {"clusters_per_solution": (1, 10000, 25), "posts_per_cluster": (1, 1000, 10),
               "coders": (1, 1000, 3), "calibration_clusters": (0, 10000, 10),
               "solutions": (1, 500, 3)}


def _filters(request) -> dict:
    return {"method": request.query_params.get("method", ""),
            "algorithm": request.query_params.get("algorithm", ""),
            "sort": request.query_params.get("sort", "")}


@extend_schema(summary="Comparison table: machine metrics and human scores per solution",
               parameters=[OpenApiParameter("method", str), OpenApiParameter("algorithm", str),
                           OpenApiParameter("sort", str)],
               responses=OpenApiTypes.OBJECT)
@api_view(["GET"])
def comparison_table(request, pk):
    project = access.readable_project_or_404(request.user, pk)
    stored = stored_scores(project)
    return Response({**comparison(project, scores=stored.scores, **_filters(request)),
                     "scores": stored.as_dict()})


@extend_schema(summary="Per-cluster scores: cluster × pass × coder, and coder means",
               responses=OpenApiTypes.OBJECT)
@api_view(["GET"])
def cluster_scores(request, pk):
    project = access.readable_project_or_404(request.user, pk)
    # rendered by the job (tens of thousands of rows) and stored gzipped: sent as it is
    stored = stored_scores(project, (CLUSTERS_JSON,))
    body, gzipped = stored.clusters_json("gzip" in request.META.get("HTTP_ACCEPT_ENCODING", ""))
    response = HttpResponse(body, content_type="application/json")
    response["Vary"] = "Accept-Encoding"
    if gzipped:
        response["Content-Encoding"] = "gzip"
    return response


@extend_schema(summary="Mark or unmark a solution as chosen (PI)",
               request=s.ChoiceWriteSerializer, responses=OpenApiTypes.OBJECT)
@api_view(["PUT"])
def solution_choice(request, pk, solution_pk):
    project = access.managed_project_or_404(request.user, pk)
    data = s.ChoiceWriteSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    try:
        choice = set_choice(project, solution_pk, request.user, data.validated_data["chosen"],
                            data.validated_data["note"])
    except ChoiceError as exc:
        raise ValidationError({"solution": str(exc)}) from None
    return Response({"solution": solution_pk, "chosen": choice is not None,
                     "note": choice.note if choice else ""})


@extend_schema(summary="Export jobs of a project (PI); POST starts one",
               request=None, responses=s.ExportJobSerializer(many=True))
@api_view(["GET", "POST"])
def exports(request, pk):
    project = access.managed_project_or_404(request.user, pk)
    if request.method == "POST":
        try:
            job = start_export(project, request.user)
        except ExportRefused as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response(s.ExportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)
    return Response({"results": s.ExportJobSerializer(project.export_jobs.all()[:50],
                                                      many=True).data})


@extend_schema(summary="One export job's status and download link (PI)",
               responses=s.ExportJobSerializer)
@api_view(["GET"])
def export_detail(request, job_pk):
    return Response(s.ExportJobSerializer(access.export_job_or_404(request.user, job_pk)).data)


@extend_schema(summary="Intrusion-test scores: per solution × kind, per kind, per cluster, per "
                       "coder (model precision, Wilson interval, binomial and Fisher p, α)",
               responses=OpenApiTypes.OBJECT)
@api_view(["GET"])
def intrusion_scores(request, pk):
    project = access.readable_project_or_404(request.user, pk)
    tables = intrusion_service.intrusion_scores(project)
    return Response({"columns": INTRUSION_LABELS,   # the per-solution table's, as on the page
                     "per_solution": records(tables["solution_scores"]),
                     "per_kind": records(tables["kind_scores"]),
                     "per_cluster": records(tables["cluster_scores"]),
                     "per_coder": records(tables["coder_scores"])})


@extend_schema(summary="Plan a round: expected interval half-width, detectable difference at "
                       "80% power and α precision for a design (docs/statistics.md)",
               parameters=[OpenApiParameter(n, int) for n in PLAN_LIMITS]
               + [OpenApiParameter("overlap", str)],
               responses=OpenApiTypes.OBJECT)
@api_view(["GET"])
def round_plan(request):
    values = {}
    for name, (low, high, default) in PLAN_LIMITS.items():
        raw = request.query_params.get(name, "")
        try:
            value = int(raw) if raw != "" else default
        except ValueError:
            raise ValidationError({name: f"an integer from {low} to {high}"})
        if not low <= value <= high:
            raise ValidationError({name: f"an integer from {low} to {high}"})
        values[name] = value
    design = Design(clusters_per_solution=values["clusters_per_solution"],
                    posts_per_cluster=values["posts_per_cluster"], coders=values["coders"],
                    calibration_clusters=values["calibration_clusters"],
                    solutions=values["solutions"],
                    overlap_full=request.query_params.get("overlap") == "full")
    return Response({k: (round(v, 4) if isinstance(v, float) else v)
                     for k, v in plan(design).items()})
