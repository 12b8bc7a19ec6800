"""`manage.py intrusion_round`: a round with intrusion tasks from the command line, and a report
of what was generated (tasks per solution and kind, clusters without a task, one task in full)."""
import io
from types import SimpleNamespace

import pytest
from django.core.management import CommandError, call_command

from annotation.models import ValidationRound

from .conftest import BY_IMAGE, BY_ROW

pytestmark = pytest.mark.django_db


def test_command_reports_what_it_made(intrusion_run, users, monkeypatch):
    # The plan draws from the round's random sampling secret, and which clusters run out of
    # unseen images depends on the draw: a fixed secret makes the report one report.
    monkeypatch.setattr("annotation.models.secrets", SimpleNamespace(token_hex=lambda n: "5e" * n))
    out = io.StringIO()
    call_command("intrusion_round", intrusion_run.pk, kinds="term,image", coders="coder",
                 seed=9, show=1, stdout=out)
    text = out.getvalue()
    made = ValidationRound.objects.get()
    assert not made.samples.exists()
    tasks = made.intrusion_tasks
    assert f"round {made.pk}: {tasks.count()} intrusion tasks, k = 5" in text
    row = next(line for line in text.splitlines() if line.startswith(BY_IMAGE))
    assert row.split()[1:5] == ["7", "vector", str(tasks.filter(solution__solution_id=BY_IMAGE,
                                                                kind="term").count()),
                                str(tasks.filter(solution__solution_id=BY_IMAGE,
                                                 kind="image").count())]
    assert "image: [6]" in row                          # the one-image cluster, said why
    first = tasks.order_by("order").first()
    assert f"task {first.public_id} ({first.kind}; PI view)" in text
    intruder = first.items.get(is_intruder=True)
    assert f"  {intruder.position} * " in text
    with pytest.raises(CommandError, match="no solution"):
        call_command("intrusion_round", intrusion_run.pk, solutions=f"{BY_ROW},nope",
                     stdout=io.StringIO())
    with pytest.raises(CommandError, match="unknown coder"):
        call_command("intrusion_round", intrusion_run.pk, coders="ghost", stdout=io.StringIO())
