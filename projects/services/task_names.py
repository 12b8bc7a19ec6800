"""Names of the projects app's Celery tasks, and sending one by name.

Services send tasks by name and never import ``projects.tasks`` (which imports the services):
the tasks module is registered at start-up (``ProjectsConfig.ready``), so with the embedded
default (``CELERY_TASK_ALWAYS_EAGER``) a signature still resolves to the local task and runs it.
"""
from celery import current_app

RUN_ENGINE = "projects.run_engine"
PLAN_EMBEDDING = "projects.plan_embedding"
EMBED_SHARD = "projects.embed_shard"


def task(name: str, *args):
    """An immutable signature of the registered task ``name`` (send it with ``apply_async()``).

    Looked up in the registry rather than built from the bare name, so a missing registration
    fails here instead of the message going to a broker no worker reads.
    """
    return current_app.tasks[name].si(*args)


def no_broker() -> bool:
    """True on the embedded default: tasks run in the calling process, no worker is involved."""
    return bool(current_app.conf.task_always_eager)
