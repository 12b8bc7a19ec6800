"""Celery tasks of the projects app (thin: the work is in services.runs and
services.sharded_embedding)."""
from celery import shared_task
from django.conf import settings

from .archive import jobs as archive_jobs
from .archive.jobs import ARCHIVE_TASK
from .services import sharded_embedding
from .services.runs import execute_run
from .services.task_names import EMBED_SHARD, PLAN_EMBEDDING, RUN_ENGINE


@shared_task(name=RUN_ENGINE, acks_late=True, bind=True)
def run_engine(self, run_id: int) -> str:
    """Run the engine for EngineRun ``run_id``; status, stage, progress and log go to its row."""
    return str(execute_run(run_id, task_id=self.request.id))


@shared_task(name=PLAN_EMBEDDING, acks_late=True, reject_on_worker_lost=True)
def plan_embedding(run_id: int, engine_task_id: str) -> str:
    """Plan a large run's embedding shards and launch chord(embed_shard ...) -> run_engine."""
    return sharded_embedding.plan_and_dispatch(run_id, engine_task_id)


@shared_task(name=EMBED_SHARD, acks_late=True, reject_on_worker_lost=True, bind=True,
             max_retries=None)
def embed_shard(self, run_id: int, index: int) -> str:
    """Embed one shard of a run into the embedding cache (routed to DIPTYCH_EMBEDDING_QUEUE)."""
    try:
        return sharded_embedding.embed_shard(run_id, index, worker=self.request.hostname or "")
    except sharded_embedding.ShardBusy as exc:
        # Held by a live worker: look again after a lease, in case that worker dies.
        raise self.retry(exc=exc, countdown=max(1, settings.DIPTYCH_EMBEDDING_LEASE_S // 2))


@shared_task(name=ARCHIVE_TASK, acks_late=True)
def build_archive(job_id: int) -> str:
    """Write the project archive of ArchiveJob ``job_id``; status and errors go to its row."""
    return archive_jobs.build_archive(job_id).status
