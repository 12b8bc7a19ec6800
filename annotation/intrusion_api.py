"""JSON API of intrusion tasks (mounted under /api/annotation/intrusion/ and, for the PI,
/api/annotation/rounds/<id>/intrusion/).

Coder endpoints are keyed by public ids and the current user (a task not assigned to the caller
is 404); the answer is an idempotent versioned PUT (services.intrusion_answers), 423 when the
round is closed — the same contract as the consistency labels.
"""
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import api_view
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from projects.api_input import id_param

from . import intrusion_serializers as s
from .api import RoundClosed, _managed_rounds
from .intrusion_models import IntrusionPlan
from .services import intrusion_access as access
from .services.assignment import AssignmentError, eligible_coders
from .services.intrusion import IntrusionError, add_intrusion_tasks
from .services.intrusion_answers import AnswerError, save_answer
from .services.intrusion_payloads import answer_state, task_payloads


def _with_items(tasks):
    return tasks.select_related("round").prefetch_related("items").order_by("round_id", "order")


@extend_schema(summary="My intrusion tasks (items in shown order, my answers)",
               operation_id="annotation_intrusion_tasks_list",
               parameters=[OpenApiParameter("round", int)], responses=s.TaskListSerializer)
@api_view(["GET"])
def my_tasks(request):
    tasks = access.my_tasks(request.user)
    if (round_id := id_param(request.query_params, "round")) is not None:
        tasks = tasks.filter(round_id=round_id)
    return Response({"results": task_payloads(_with_items(tasks), request.user)})


@extend_schema(summary="One of my intrusion tasks", responses=s.TaskSerializer)
@api_view(["GET"])
def task_detail(request, public_id):
    task = access.assigned_task_or_404(request.user, public_id)
    tasks = _with_items(access.my_tasks(request.user).filter(pk=task.pk))
    return Response(task_payloads(tasks, request.user)[0])


@extend_schema(summary="Set my answer to one intrusion task: a pick or unsure (idempotent)",
               request=s.AnswerWriteSerializer, responses=s.AnswerResultSerializer)
@api_view(["PUT"])
def answer(request, public_id):
    task = access.assigned_task_or_404(request.user, public_id)
    if not task.round.is_open:
        raise RoundClosed()
    data = s.AnswerWriteSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    values = data.validated_data
    try:
        result = save_answer(task, request.user, choice=values.get("choice"),
                             unsure=values.get("unsure", False),
                             base_version=values.get("base_version"),
                             lead_time_s=values.get("lead_time_s"))
    except AnswerError as exc:
        raise ValidationError({"choice": str(exc)}) from None
    body = {"status": result.status, "task": task.public_id, **answer_state(result.answer)}
    code = {"created": status.HTTP_201_CREATED, "conflict": status.HTTP_409_CONFLICT}.get(
        result.status, status.HTTP_200_OK)
    return Response(body, status=code)


# ---------------------------------------------------------------- PI

def _plan_body(plan: IntrusionPlan) -> dict:
    return {"round": plan.round_id, "kinds": plan.kinds, "items_per_task": plan.items_per_task,
            "has_consistency": plan.has_consistency, "n_tasks": plan.round.intrusion_tasks.count(),
            "report": plan.report}


@extend_schema(summary="Intrusion tasks of a round I manage: the plan (GET) or add them (POST)",
               request=s.IntrusionCreateSerializer, responses=s.IntrusionPlanSerializer)
@api_view(["GET", "POST"])
def round_intrusion(request, pk):
    validation_round = _managed_rounds(request.user).filter(pk=pk).first()
    if validation_round is None:
        raise NotFound("not found")
    if request.method == "GET":
        plan = IntrusionPlan.objects.filter(round=validation_round).first()
        if plan is None:
            raise NotFound("this round has no intrusion tasks")
        return Response(_plan_body(plan))
    form = s.IntrusionCreateSerializer(data=request.data)
    form.is_valid(raise_exception=True)
    data = form.validated_data
    # one answer for unknown usernames and accounts that are not coders here (no enumeration)
    coders = list(eligible_coders(validation_round.project).filter(username__in=data["coders"]))
    missing = sorted(set(data["coders"]) - {c.username for c in coders})
    if missing:
        raise ValidationError({"coders": f"not coders of this project: {', '.join(missing)}"})
    try:
        plan = add_intrusion_tasks(validation_round, data["kinds"],
                                   items_per_task=data["items_per_task"],
                                   calibration_tasks=data["calibration_tasks"],
                                   has_consistency=validation_round.samples.exists(),
                                   coders=coders)
    except (IntrusionError, AssignmentError) as exc:
        raise ValidationError({"detail": str(exc)}) from None
    return Response(_plan_body(plan), status=status.HTTP_201_CREATED)
