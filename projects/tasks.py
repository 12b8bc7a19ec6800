"""Celery tasks of the projects app (thin: the work is in services.runs)."""
from celery import shared_task

from .services.runs import execute_run


@shared_task(name="projects.run_engine", acks_late=True, bind=True)
def run_engine(self, run_id: int) -> str:
    """Run the engine for EngineRun ``run_id``; status, stage, progress and log go to its row."""
    return str(execute_run(run_id, task_id=self.request.id))
