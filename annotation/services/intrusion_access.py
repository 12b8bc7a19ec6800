"""Who reaches which intrusion task: the coder it is assigned to, while they still code in the
project (as services.access does for clusters). Anything else answers 404."""
from __future__ import annotations

from django.http import Http404

from ..intrusion_models import IntrusionItem, IntrusionTask
from ..models import ValidationRound
from .access import _coding_project_ids


def my_tasks(user):
    """Intrusion tasks assigned to the user in projects where they still code."""
    if not user.is_authenticated:
        return IntrusionTask.objects.none()
    return IntrusionTask.objects.filter(assignments__coder=user,
                                        round__project__in=_coding_project_ids(user))


def assigned_task_or_404(user, public_id: str) -> IntrusionTask:
    task = (my_tasks(user).select_related("round__project", "round__dataset")
            .filter(public_id=public_id).first())
    if task is None:
        raise Http404("not found")
    return task


def assigned_item_or_404(user, public_id: str) -> IntrusionItem:
    item = (IntrusionItem.objects.select_related("task__round__dataset")
            .filter(public_id=public_id, task__in=my_tasks(user).values("pk")).first())
    if item is None:
        raise Http404("not found")
    return item


def intrusion_round_or_404(user, pk: int) -> ValidationRound:
    validation_round = ValidationRound.objects.filter(
        pk=pk, pk__in=my_tasks(user).values("round_id")).select_related("project").first()
    if validation_round is None:
        raise Http404("not found")
    return validation_round


def my_intrusion_rounds(user) -> list[dict]:
    """Per round with tasks for the user: the round, tasks, answered, percent (the coder's
    overview)."""
    from ..intrusion_models import IntrusionAnswer

    tasks = list(my_tasks(user).values_list("round_id", "pk"))
    answered = set(IntrusionAnswer.objects.filter(coder=user, task__in=[t for _, t in tasks])
                   .values_list("task_id", flat=True))
    rounds: dict[int, dict] = {}
    for round_id, task_id in tasks:
        entry = rounds.setdefault(round_id, {"round_id": round_id, "tasks": 0, "answered": 0})
        entry["tasks"] += 1
        entry["answered"] += task_id in answered
    by_pk = ValidationRound.objects.select_related("project").in_bulk(list(rounds))
    return [{**rounds[k], "round": by_pk[k],
             "percent": round(100 * rounds[k]["answered"] / rounds[k]["tasks"])}
            for k in sorted(rounds)]
