"""JSON API of the annotation app (mounted at /api/annotation/).

Coder endpoints are keyed by public ids and the current user: a cluster or post not assigned to
the caller is 404. Saving is an idempotent PUT keyed by (post, pass) or (cluster, pass) for the
current coder, with the client's ``base_version`` for conflict detection (services.coding).
"""
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import api_view
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.response import Response

from projects.api_input import id_param
from projects.models import Solution
from projects.services import access as project_access

from . import serializers as s
from .models import ValidationRound
from .passes import PASS_VALUES
from .services import access
from .services.assignment import (AssignmentError, eligible_coders, sample_progress,
                                  without_sizes)
from .services.coder_state import coded_state, theme_json
from .services.coding import (CodingError, PassLockedError, PassOrderError, check_pass_open,
                              check_pass_order, get_or_create_theme, save_cluster_code,
                              save_post_code)
from .services.sampling import SamplingError, create_round
from .services.theme_visibility import recent_themes, search_themes, theme_for_label


def _pass_or_404(pass_name):
    if pass_name not in PASS_VALUES:
        raise NotFound("not found")
    return pass_name


@extend_schema(summary="My assignments (public cluster ids and progress)",
               responses=s.AssignmentListSerializer)
@api_view(["GET"])
def my_assignments(request):
    assignments = list(access.my_assignments(request.user).select_related("cluster_sample")
                       .order_by("round_id", "cluster_sample__order"))
    progress = sample_progress([a.cluster_sample for a in assignments], request.user)
    return Response({"results": [
        {"round": a.round_id, "cluster": a.cluster_sample.public_id,
         "progress": without_sizes(progress[a.cluster_sample_id])} for a in assignments]})


@extend_schema(summary="My codes of one assigned cluster, every pass (resume after a reload)",
               responses=s.ClusterStateSerializer)
@api_view(["GET"])
def cluster_state(request, public_id):
    sample = access.assigned_sample_or_404(request.user, public_id)
    return Response({"cluster": sample.public_id, "read_only": not sample.round.is_open,
                     "passes": coded_state(sample, request.user),
                     "progress": sample_progress([sample], request.user)[sample.pk]})


@extend_schema(summary="Codebook themes for autocomplete and the coder's recent themes",
               parameters=[OpenApiParameter("pass", str, enum=PASS_VALUES),
                           OpenApiParameter("q", str)],
               responses=s.ThemeListSerializer)
@api_view(["GET"])
def cluster_themes(request, public_id):
    sample = access.assigned_sample_or_404(request.user, public_id)
    pass_name = _pass_or_404(request.query_params.get("pass", "text"))
    return Response({
        "results": [theme_json(t) for t in search_themes(sample.round, request.user, pass_name,
                                                         request.query_params.get("q", ""))],
        "recent": [theme_json(t) for t in recent_themes(sample.round.project, request.user,
                                                        pass_name)]})


def _resolve_theme(request, validation_round, pass_name, data):
    if data.get("theme_id"):
        # a theme the coder may not see is as absent as a wrong id
        theme = theme_for_label(validation_round, request.user, pass_name, data["theme_id"])
        if theme is None:
            raise ValidationError({"theme_id": "no such theme in this codebook"})
        return theme
    try:
        return get_or_create_theme(validation_round.project, pass_name, data["theme_name"],
                                   request.user)
    except CodingError as exc:
        raise ValidationError({"theme_name": str(exc)}) from None


def _save_response(result, target, pass_name):
    body = {"status": result.status, "target": target, "pass_name": pass_name,
            "theme": theme_json(result.code.theme), "version": result.code.version}
    code = {"created": status.HTTP_201_CREATED, "conflict": status.HTTP_409_CONFLICT}.get(
        result.status, status.HTTP_200_OK)
    return Response(body, status=code)


class RoundClosed(APIException):
    """423: the label cannot be saved now; the browser keeps it aside (never silently dropped)."""
    status_code = 423
    default_detail = "this round is closed: labels are read-only"
    default_code = "round_closed"


def _writable(sample):
    if not sample.round.is_open:
        raise RoundClosed()


class EarlierPassIncomplete(APIException):
    status_code = 400
    default_code = "earlier_pass_incomplete"


class PassLocked(APIException):
    """409 naming the pass: a later pass of this cluster has begun, so this one is closed."""
    status_code = status.HTTP_409_CONFLICT
    default_code = "pass_locked"

    def __init__(self, error: PassLockedError):
        super().__init__({"status": "pass_locked", "detail": str(error),
                          "pass_name": error.pass_name, "begun": error.begun})


def _in_pass_order(sample, user, pass_name):
    try:
        check_pass_order(sample, user, pass_name)
        check_pass_open(sample, user, pass_name)
    except PassOrderError as exc:
        raise EarlierPassIncomplete(str(exc)) from None
    except PassLockedError as exc:
        raise PassLocked(exc) from None


@extend_schema(summary="Set my theme of one post in one pass (idempotent)",
               request=s.CodeWriteSerializer, responses=s.CodeResultSerializer)
@api_view(["PUT"])
def post_code(request, public_id, pass_name):
    pass_name = _pass_or_404(pass_name)
    post = access.assigned_post_or_404(request.user, public_id)
    _writable(post.cluster_sample)
    _in_pass_order(post.cluster_sample, request.user, pass_name)
    data = s.CodeWriteSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    theme = _resolve_theme(request, post.cluster_sample.round, pass_name, data.validated_data)
    result = save_post_code(post, request.user, pass_name, theme,
                            data.validated_data.get("base_version"),
                            data.validated_data.get("lead_time_s"))
    return _save_response(result, post.public_id, pass_name)


@extend_schema(summary="Set my common theme of one cluster in one pass (idempotent)",
               request=s.CodeWriteSerializer, responses=s.CodeResultSerializer)
@api_view(["PUT"])
def common_code(request, public_id, pass_name):
    pass_name = _pass_or_404(pass_name)
    sample = access.assigned_sample_or_404(request.user, public_id)
    _writable(sample)
    _in_pass_order(sample, request.user, pass_name)
    data = s.CodeWriteSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    theme = _resolve_theme(request, sample.round, pass_name, data.validated_data)
    result = save_cluster_code(sample, request.user, pass_name, theme,
                               data.validated_data.get("base_version"),
                               data.validated_data.get("lead_time_s"))
    return _save_response(result, sample.public_id, pass_name)


# ---------------------------------------------------------------- PI endpoints

def _managed_rounds(user):
    return ValidationRound.objects.filter(
        project__in=project_access.member_project_ids(user, ("pi",)))


@extend_schema(summary="Validation rounds of projects I manage (GET) or open a round (POST)",
               request=s.RoundCreateSerializer, responses=s.RoundSerializer(many=True))
@api_view(["GET", "POST"])
def rounds(request):
    if request.method == "GET":
        qs = _managed_rounds(request.user).prefetch_related("solutions")
        if project := id_param(request.query_params, "project"):
            qs = qs.filter(project_id=project)
        return Response({"results": s.RoundSerializer(qs, many=True).data})
    form = s.RoundCreateSerializer(data=request.data)
    form.is_valid(raise_exception=True)
    data = form.validated_data
    project = project_access.visible_projects(request.user).filter(pk=data["project"]).first()
    if project is None or not project_access.can_manage(request.user, project):
        raise NotFound("no such project among those you manage")
    solutions = list(Solution.objects.filter(pk__in=data["solutions"], run__project=project)
                     .select_related("run"))
    if len(solutions) != len(set(data["solutions"])):
        raise ValidationError({"solutions": "unknown solution ids for this project"})
    # One answer for an unknown username and for an account that is not a coder here: the API
    # does not tell which usernames exist.
    coders = list(eligible_coders(project).filter(username__in=data["coders"]))
    missing = sorted(set(data["coders"]) - {c.username for c in coders})
    if missing:
        raise ValidationError({"coders": f"not coders of this project: {', '.join(missing)}"})
    try:
        validation_round = create_round(
            project, solutions, name=data["name"], created_by=request.user,
            posts_per_cluster=data["posts_per_cluster"], seed=data["seed"],
            calibration_clusters=data["calibration_clusters"], overlap=data["overlap"],
            coders=coders, independent_coding=data["independent_coding"])
    except (SamplingError, AssignmentError) as exc:
        raise ValidationError({"detail": str(exc)}) from None
    return Response(s.RoundSerializer(validation_round).data, status=status.HTTP_201_CREATED)


@extend_schema(summary="One round I manage", responses=s.RoundSerializer)
@api_view(["GET"])
def round_detail(request, pk):
    validation_round = _managed_rounds(request.user).filter(pk=pk).first()
    if validation_round is None:
        raise NotFound("not found")
    return Response(s.RoundSerializer(validation_round).data)

