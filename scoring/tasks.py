"""Celery tasks of the scoring app (thin: the work is in services.exports)."""
from celery import shared_task

from .services.exports import EXPORT_TASK, run_export


@shared_task(name=EXPORT_TASK, acks_late=True)
def build_export(job_id: int) -> str:
    """Build the export zip of ExportJob ``job_id``; status, stage and errors go to its row."""
    return run_export(job_id).status
