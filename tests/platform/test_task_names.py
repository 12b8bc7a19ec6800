"""Services send Celery tasks by name (they never import tasks.py); the names must resolve in
every process, the web process included, or the embedded default (eager, no broker) would hand
the message to a broker nobody reads."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

REPO = Path(__file__).resolve().parents[2]


def test_tasks_sent_by_name_are_registered_at_start_up_and_run_locally_without_a_broker():
    code = """
import json, django
django.setup()
from celery import current_app
from projects.services import task_names
from scoring.services.exports import EXPORT_TASK
names = [task_names.RUN_ENGINE, task_names.PLAN_EMBEDDING, task_names.EMBED_SHARD, EXPORT_TASK]
print(json.dumps({"registered": [n for n in names if n in current_app.tasks],
                  "no_broker": task_names.no_broker(),
                  "local": type(task_names.task(task_names.RUN_ENGINE, 1).type).__module__}))
"""
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env.update(DJANGO_SETTINGS_MODULE="diptych.settings", PYTHONPATH=str(REPO))
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["registered"] == ["projects.run_engine", "projects.plan_embedding",
                                    "projects.embed_shard", "scoring.build_export"]
    assert result["no_broker"] is True
    assert result["local"] == "projects.tasks"  # the local task itself, not a bare name


@pytest.mark.django_db
def test_queueing_a_run_without_a_broker_is_refused(dataset, monkeypatch):
    from celery import current_app

    from projects.models import EngineRun

    monkeypatch.setitem(current_app.conf, "task_always_eager", True)   # the embedded default
    with pytest.raises(CommandError, match="--queue needs Celery workers"):
        call_command("run_engine", str(dataset.pk), "--queue")
    assert not EngineRun.objects.exists()
