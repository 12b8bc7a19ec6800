"""Paper-ready exports: reader → builder → writer, run as a background job.

``start_export`` creates the job and dispatches the Celery task on commit (a worker never
looks for a job that is not committed yet); ``run_export`` is the task's body.
"""
from __future__ import annotations

import datetime
import errno
import shutil
import tempfile
import threading
import traceback
from pathlib import Path

from celery import current_app
from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone

from projects.services.quota import QuotaExceeded, quota_left

from ...models import ExportJob
from .builder import build_bundle
from .reader import read_export_inputs
from .writer import write_bundle, zip_folder

# Sent by name: services never import scoring.tasks (registered in ScoringConfig.ready).
EXPORT_TASK = "scoring.build_export"


def export_folder(project_id: int) -> Path:
    return Path(settings.MEDIA_ROOT) / "exports" / f"project-{project_id}"


EXPORT_STALE_AFTER = datetime.timedelta(hours=6)


class ExportRefused(Exception):
    """No export can start now; the message is for the user."""


def export_bytes(user) -> int:
    """Bytes of the export zips ``user`` started (they count towards the storage quota)."""
    paths = ExportJob.objects.filter(created_by=user).exclude(file_path="").values_list(
        "file_path", flat=True)
    return sum(Path(p).stat().st_size for p in paths if Path(p).is_file())


def start_export(project, user) -> ExportJob:
    """Queue an export: one at a time per project (each reads every code and run), and only
    while the user's storage quota has room."""
    with transaction.atomic():
        type(project).objects.select_for_update().get(pk=project.pk)   # two clicks at once
        # a job left queued / running by a worker that died stops blocking after a while
        if project.export_jobs.filter(status__in=(ExportJob.Status.QUEUED,
                                                  ExportJob.Status.RUNNING),
                                      created_at__gte=timezone.now() - EXPORT_STALE_AFTER
                                      ).exists():
            raise ExportRefused("an export of this project is already being built; wait for "
                                "it to finish")
        try:
            quota_left(user)
        except QuotaExceeded as exc:
            raise ExportRefused(str(exc)) from None
        job = ExportJob.objects.create(project=project, created_by=user, stage="queued")
        transaction.on_commit(lambda: _dispatch(job.pk))
    return job


def _dispatch(job_id: int) -> None:
    # Without a broker (the embedded default) Celery would build the export inside the request
    # that asked for it: build it in a thread of the web process instead, as engine runs are, so
    # the request answers at once and the page shows the job's live status.
    if settings.DIPTYCH_RUNS_IN_THREAD and current_app.conf.task_always_eager:
        threading.Thread(target=_run_in_thread, args=(job_id,), name=f"export-{job_id}",
                         daemon=True).start()
        return
    current_app.tasks[EXPORT_TASK].delay(job_id)


def _run_in_thread(job_id: int) -> None:
    try:
        run_export(job_id)
    finally:
        connections.close_all()  # this thread's connections; they would outlive it otherwise


def _update(job: ExportJob, **fields) -> None:
    for name, value in fields.items():
        setattr(job, name, value)
    ExportJob.objects.filter(pk=job.pk).update(**fields)


def run_export(job_id: int) -> ExportJob:
    job = ExportJob.objects.select_related("project").get(pk=job_id)
    _update(job, status=ExportJob.Status.RUNNING, stage="reading codes and runs", error="")
    work = Path(tempfile.mkdtemp(prefix=f"diptych-export-{job.pk}-"))
    try:
        inputs = read_export_inputs(job.project)
        _update(job, stage="computing tables and figures")
        bundle = build_bundle(inputs)
        _update(job, stage="writing files")
        root = work / f"diptych-export-{job.project_id}-{job.pk}"
        write_bundle(bundle, root, [(r.run.pk, f) for r in inputs.runs for f in r.figure_files])
        _update(job, stage="zipping")
        target = zip_folder(root, export_folder(job.project_id) / f"export-{job.pk}.zip")
        _update(job, status=ExportJob.Status.SUCCEEDED, stage="done", file_path=str(target),
                finished_at=timezone.now())
    except Exception as exc:  # the job row must say what failed; the worker goes on
        reason = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            reason = ("The disk is full: the export could not be written and nothing was "
                      f"published. Free space under {export_folder(job.project_id)} (or the "
                      f"temporary folder) and start the export again. ({reason})")
        _update(job, status=ExportJob.Status.FAILED, stage="failed",
                error=f"{reason}\n{traceback.format_exc(limit=5)}",
                finished_at=timezone.now())
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return job
