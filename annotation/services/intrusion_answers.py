"""Saving intrusion answers: idempotent, versioned, race-safe, with history — the rules of
services.coding, applied to one answer per (task, coder):

* no row yet → insert version 1 (a concurrent insert loses on the unique index and carries on
  with the committed row, locked FOR UPDATE);
* same answer as stored → success, nothing written (a retried request succeeds again);
* ``base_version`` equals the stored version → update, version + 1;
* otherwise → conflict: the stored answer is kept and returned, the refused one is recorded.

An answer is a pick (``choice``: the shown position, 1 .. k + 1) or "unsure" (no pick).
``lead_time_s`` is what the browser measured from showing the task to this save; it is stored
with the accepted write (a retry of the same answer does not change it).
"""
from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction

from ..intrusion_models import IntrusionAnswer, IntrusionAnswerHistory

MAX_LEAD_TIME_S = 24 * 3600.0


class AnswerError(Exception):
    pass


@dataclass
class AnswerResult:
    status: str             # "created" | "changed" | "unchanged" | "conflict"
    answer: IntrusionAnswer


def _history(answer, outcome, choice, unsure, lead_time_s, base_version, user):
    IntrusionAnswerHistory.objects.create(answer=answer, choice=choice, unsure=unsure,
                                          lead_time_s=lead_time_s, version=answer.version,
                                          base_version=base_version, outcome=outcome,
                                          changed_by=user)


def clean_answer(task, choice, unsure: bool, lead_time_s) -> tuple[int | None, bool, float | None]:
    if unsure:
        if choice is not None:
            raise AnswerError("give a pick or 'unsure', not both")
        choice = None
    elif choice is None:
        raise AnswerError("give a pick (1 to the number of items) or 'unsure'")
    elif not 1 <= int(choice) <= task.n_items:
        raise AnswerError(f"the pick must be between 1 and {task.n_items}")
    if lead_time_s is not None:
        lead_time_s = float(lead_time_s)
        if not 0 <= lead_time_s <= MAX_LEAD_TIME_S:
            lead_time_s = None    # a clock jump, not a measurement
    return (None if choice is None else int(choice)), bool(unsure), lead_time_s


def save_answer(task, coder, *, choice, unsure: bool, base_version, lead_time_s=None
                ) -> AnswerResult:
    choice, unsure, lead_time_s = clean_answer(task, choice, unsure, lead_time_s)
    key = {"task": task, "coder": coder}
    with transaction.atomic():
        row = IntrusionAnswer.objects.select_for_update().filter(**key).first()
        if row is None:
            try:
                with transaction.atomic():
                    row = IntrusionAnswer.objects.create(**key, choice=choice, unsure=unsure,
                                                         lead_time_s=lead_time_s, version=1)
                _history(row, "created", choice, unsure, lead_time_s, base_version, coder)
                return AnswerResult("created", row)
            except IntegrityError:
                row = IntrusionAnswer.objects.select_for_update().get(**key)
        if row.choice == choice and row.unsure == unsure:
            return AnswerResult("unchanged", row)
        if base_version is not None and int(base_version) == row.version:
            row.choice, row.unsure, row.lead_time_s = choice, unsure, lead_time_s
            row.version += 1
            row.save(update_fields=["choice", "unsure", "lead_time_s", "version", "updated_at"])
            _history(row, "changed", choice, unsure, lead_time_s, base_version, coder)
            return AnswerResult("changed", row)
        _history(row, "conflict", choice, unsure, lead_time_s, base_version, coder)
        return AnswerResult("conflict", row)
