"""Engine runs: start, dispatch, execute (inside a worker), cancel, resume.

Dispatch happens in ``transaction.on_commit`` so a worker never looks for a run that is not
committed yet. Without a broker (embedded default) the run executes in a daemon thread of the
web process, so a request never waits for the engine.
"""
from __future__ import annotations

import logging
import threading
import time
import traceback

from django.conf import settings
from django.db import connections, transaction
from django.db.models import Q
from django.utils import timezone

from clustering_engine.errors import EngineError

from ..models import Dataset, EngineRun, Project, RunStatus
from ..models.run import remove_output_folder
from . import sharded_embedding, task_names
from .run_cancel import CancelWatch, RunCancelled
from .run_config import engine_config, normalise_options
from .run_outputs import store_run_outputs
from .storage import run_output_dir

log = logging.getLogger(__name__)
PROGRESS_WRITE_INTERVAL_S = 1.0  # coalesce progress writes inside a stage
MAX_LOG_CHARS = 200_000




class RunStateError(Exception):
    """The run cannot do that in its current state; the message is for the user."""


def start_run(project: Project, dataset: Dataset, options: dict, user=None,
              dispatch: bool = True) -> EngineRun:
    """Validate the options, create a queued run and dispatch it once the transaction commits
    (``dispatch=False``: the caller executes it itself, e.g. a management command)."""
    if dataset.project_id != project.pk:
        raise RunStateError("that data set belongs to another project")
    if dataset.status != Dataset.Status.READY:
        raise RunStateError("that data set is not ready")
    options = normalise_options(options)
    with transaction.atomic():
        _within_run_limit(project)
        run = EngineRun.objects.create(project=project, dataset=dataset, created_by=user,
                                       config=options, seed=options["seed"])
        run.output_dir = str(run_output_dir(run.pk))
        run.save(update_fields=["output_dir"])
        if dispatch:
            dispatch_on_commit(run.pk)
    return run


def _within_run_limit(project: Project) -> None:
    """At most DIPTYCH_MAX_ACTIVE_RUNS_PER_PROJECT runs of a project queued or running at once
    (the project row is locked, so two simultaneous starts cannot both pass)."""
    Project.objects.select_for_update().filter(pk=project.pk).first()
    limit = settings.DIPTYCH_MAX_ACTIVE_RUNS_PER_PROJECT
    active = EngineRun.objects.filter(project=project,
                                      status__in=[RunStatus.QUEUED, RunStatus.RUNNING]).count()
    if active >= limit:
        raise RunStateError(f"this project already has {active} run(s) queued or running (at "
                            f"most {limit} at once): wait for it to finish or cancel it")


def dispatch_on_commit(run_id: int) -> None:
    transaction.on_commit(lambda: _dispatch(run_id))


def _dispatch(run_id: int) -> None:
    if settings.DIPTYCH_RUNS_IN_THREAD and task_names.no_broker():
        threading.Thread(target=_run_in_thread, args=(run_id,), name=f"engine-run-{run_id}",
                         daemon=True).start()
        return
    run = EngineRun.objects.select_related("dataset").filter(pk=run_id).first()
    if run is not None and sharded_embedding.should_shard(run):
        sharded_embedding.dispatch(run_id)  # shards through Celery, then run_engine (a chord)
        return
    result = task_names.task(task_names.RUN_ENGINE, run_id).apply_async()
    EngineRun.objects.filter(pk=run_id).update(celery_task_id=result.id or "")


def _run_in_thread(run_id: int) -> None:
    try:
        execute_run(run_id)
    finally:
        connections.close_all()  # this thread's connections; they would outlive it otherwise


def request_cancel(run: EngineRun) -> None:
    """Ask a queued or running run to stop; the worker stops at the next stage boundary."""
    if not run.can_cancel:
        raise RunStateError(f"a {run.get_status_display().lower()} run cannot be cancelled")
    EngineRun.objects.filter(pk=run.pk).update(cancel_requested=True)
    # A queued run that no worker picked up yet is cancelled right away.
    EngineRun.objects.filter(pk=run.pk, status=RunStatus.QUEUED).update(
        status=RunStatus.CANCELLED, finished_at=timezone.now(), stage="cancelled")
    run.refresh_from_db()


def resume_run(run: EngineRun) -> EngineRun:
    """Queue a failed or cancelled run again; finished embeddings come from the cache."""
    if not run.can_resume:
        raise RunStateError(f"only failed or cancelled runs can be resumed (this one is "
                            f"{run.get_status_display().lower()})")
    with transaction.atomic():
        _within_run_limit(run.project)
        run.status, run.cancel_requested, run.error_message = RunStatus.QUEUED, False, ""
        run.stage, run.progress, run.finished_at = "queued", 0.0, None
        run.log += "\n--- resumed; embeddings already computed are reused from the cache ---\n"
        run.save(update_fields=["status", "cancel_requested", "error_message", "stage",
                                "progress", "finished_at", "log"])
        dispatch_on_commit(run.pk)
    return run


class _RunReporter:
    """The engine's progress and echo callbacks, writing to the run row.

    Writes only the progress columns (``update``), never ``cancel_requested``, so a cancel
    request is never overwritten; the cancel flag is read at each stage boundary.
    """

    def __init__(self, run: EngineRun):
        self.run_id = run.pk
        self.stage = None
        self.last_write = 0.0
        self.log = run.log

    def echo(self, message: str) -> None:
        self.log = (self.log + str(message).rstrip() + "\n")[-MAX_LOG_CHARS:]

    def progress(self, stage: str, fraction: float) -> None:
        now = time.monotonic()
        new_stage = stage != self.stage
        if new_stage:
            self.echo(f"[{timezone.now():%H:%M:%S}] {stage}")
            # cancelled, or deleted (admin): stop (CancelWatch covers the time between calls)
            if not EngineRun.objects.filter(pk=self.run_id, cancel_requested=False).exists():
                raise RunCancelled()
        if new_stage or now - self.last_write >= PROGRESS_WRITE_INTERVAL_S:
            self.stage, self.last_write = stage, now
            EngineRun.objects.filter(pk=self.run_id).update(
                stage=stage[:60], progress=max(0.0, min(1.0, float(fraction))), log=self.log)

    def finish(self, **fields) -> None:
        EngineRun.objects.filter(pk=self.run_id).update(log=self.log, finished_at=timezone.now(),
                                                        **fields)


def execute_run(run_id: int, task_id: str | None = None) -> str:
    """Run the engine for one run (called by the Celery task); returns the final status.

    A queued run is claimed once. A run left "running" by a worker that died is claimed again
    by the redelivery of the same task (acks_late), and its embeddings come from the cache.
    """
    from clustering_engine.pipeline import run as run_engine

    claimable = Q(status=RunStatus.QUEUED)
    if task_id:
        claimable |= Q(status=RunStatus.RUNNING, celery_task_id=task_id)
    claimed = EngineRun.objects.filter(claimable, pk=run_id, cancel_requested=False)
    if not claimed.update(status=RunStatus.RUNNING, started_at=timezone.now(), stage="starting",
                          progress=0.0):
        run = EngineRun.objects.filter(pk=run_id).first()
        # A queued run, or one whose sharded embedding handed over to this task, cancelled.
        ours = run and (run.status == RunStatus.QUEUED or (
            run.status == RunStatus.RUNNING and task_id and run.celery_task_id == task_id))
        if ours and run.cancel_requested:
            EngineRun.objects.filter(pk=run_id).update(status=RunStatus.CANCELLED,
                                                       finished_at=timezone.now())
            return RunStatus.CANCELLED
        return run.status if run else "missing"  # already taken by another delivery
    run = EngineRun.objects.select_related("dataset").get(pk=run_id)
    EngineRun.objects.filter(pk=run_id).update(attempts=run.attempts + 1)
    reporter = _RunReporter(run)
    try:
        config = engine_config(run.config)
        with CancelWatch(run_id):
            manifest = run_engine(run.dataset.table_path, run.dataset.images_root,
                                  run.output_dir, config=config, progress=reporter.progress,
                                  echo=reporter.echo)
        reporter.progress("storing results", 0.99)
        store_run_outputs(run, manifest)
    except RunCancelled:
        if not EngineRun.objects.filter(pk=run_id).exists():
            remove_output_folder(run.output_dir)   # deleted while running: leave nothing
            return "deleted"
        reporter.echo("cancelled")
        reporter.finish(status=RunStatus.CANCELLED, stage="cancelled")
        return RunStatus.CANCELLED
    except EngineError as exc:
        reporter.echo(f"error: {exc}")
        reporter.finish(status=RunStatus.FAILED, error_message=str(exc))
        return RunStatus.FAILED
    except Exception as exc:  # noqa: BLE001 - the run must end in a visible state
        log.exception("engine run %s failed", run_id)
        reporter.echo(traceback.format_exc())
        reporter.finish(status=RunStatus.FAILED,
                        error_message=f"unexpected error ({type(exc).__name__}: {exc}); "
                                      "the log has the details")
        return RunStatus.FAILED
    reporter.finish(status=RunStatus.SUCCEEDED, stage="done", progress=1.0)
    return RunStatus.SUCCEEDED
