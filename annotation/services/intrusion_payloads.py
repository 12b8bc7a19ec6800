"""What a coder is sent for an intrusion task (page and API): public ids, the shown items in
their shown order and the coder's own answer — never the solution, cluster labels, pair ids,
image paths or which item is the intruder."""
from __future__ import annotations

from django.urls import reverse

from ..intrusion_models import IntrusionAnswer

SHOWS_TEXT = {"text", "joint"}
SHOWS_IMAGE = {"image", "joint"}


def answer_state(answer: IntrusionAnswer | None) -> dict:
    if answer is None:
        return {"choice": None, "unsure": False, "version": 0}
    return {"choice": answer.choice, "unsure": answer.unsure, "version": answer.version}


def item_payload(task, item) -> dict:
    out = {"position": item.position, "id": item.public_id}
    if task.kind == "term":
        out["term"] = item.term
    if task.kind in SHOWS_TEXT:
        out["text"] = item.text
        out["lang"] = item.lang
    if task.kind in SHOWS_IMAGE:
        url = reverse("annotation:intrusion-image", args=[item.public_id]) if item.image else None
        out["image_url"] = url
        out["image_zoom_url"] = f"{url}?size=medium" if url else None
    return out


def task_payloads(tasks, user) -> list[dict]:
    """Payloads of several tasks (items prefetched in one query)."""
    tasks = list(tasks)
    answers = {a.task_id: a for a in IntrusionAnswer.objects.filter(
        coder=user, task__in=[t.pk for t in tasks])}
    return [{"task": t.public_id, "kind": t.kind, "n_items": t.n_items,
             "read_only": not t.round.is_open,
             "answer_url": reverse("annotation-api:intrusion-answer", args=[t.public_id]),
             "items": [item_payload(t, i) for i in t.items.all()],
             "answer": answer_state(answers.get(t.pk))} for t in tasks]
