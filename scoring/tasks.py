"""Celery tasks of the scoring app (thin: the work is in services.exports)."""
from celery import shared_task

from .services.exports import EXPORT_TASK, run_export
from .services.snapshots import SCORES_TASK, recompute


@shared_task(name=EXPORT_TASK, acks_late=True)
def build_export(job_id: int) -> str:
    """Build the export zip of ExportJob ``job_id``; status, stage and errors go to its row."""
    return run_export(job_id).status


@shared_task(name=SCORES_TASK)
def recompute_scores(project_id: int) -> int:
    """Compute and store the scores of a project at its current score version; returns it."""
    return recompute(project_id).version
