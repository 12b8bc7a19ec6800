"""The project page's archive download: an ArchiveJob built in the background, as exports are.

``start_archive`` creates the job and sends the Celery task on commit; without a broker (the
embedded default) it is built in a thread of the web process, so the request answers at once.
``build_archive`` is the task's body; the zip is written beside the others of the project and
published only once complete (writer.write_archive replaces the name at the end).
"""
from __future__ import annotations

import threading
import traceback
from pathlib import Path

from celery import current_app
from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone

from ..models import ArchiveJob
from .writer import write_archive

ARCHIVE_TASK = "projects.build_archive"


class ArchiveBusy(Exception):
    """An archive of this project is already being built; the message is for the user."""


def archive_folder(project_id: int) -> Path:
    return Path(settings.MEDIA_ROOT) / "archives" / f"project-{project_id}"


def start_archive(project, user, with_images: bool = True) -> ArchiveJob:
    with transaction.atomic():
        type(project).objects.select_for_update().get(pk=project.pk)   # two clicks at once
        if project.archive_jobs.filter(status__in=(ArchiveJob.Status.QUEUED,
                                                   ArchiveJob.Status.RUNNING)).exists():
            raise ArchiveBusy("an archive of this project is already being built; wait for it")
        job = ArchiveJob.objects.create(project=project, created_by=user, with_images=with_images)
        transaction.on_commit(lambda: _dispatch(job.pk))
    return job


def _dispatch(job_id: int) -> None:
    if settings.DIPTYCH_RUNS_IN_THREAD and current_app.conf.task_always_eager:
        threading.Thread(target=_in_thread, args=(job_id,), name=f"archive-{job_id}",
                         daemon=True).start()
        return
    current_app.tasks[ARCHIVE_TASK].delay(job_id)


def _in_thread(job_id: int) -> None:
    try:
        build_archive(job_id)
    finally:
        connections.close_all()   # this thread's connections; they would outlive it otherwise


def build_archive(job_id: int) -> ArchiveJob:
    job = ArchiveJob.objects.select_related("project").get(pk=job_id)
    ArchiveJob.objects.filter(pk=job.pk).update(status=ArchiveJob.Status.RUNNING, error="")
    target = archive_folder(job.project_id) / f"archive-{job.pk}.zip"
    try:
        write_archive(job.project, target, with_images=job.with_images)
        fields = {"status": ArchiveJob.Status.SUCCEEDED, "file_path": str(target),
                  "size_bytes": target.stat().st_size}
    except Exception as exc:   # the row must say what failed; the worker goes on
        fields = {"status": ArchiveJob.Status.FAILED,
                  "error": f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}"}
    ArchiveJob.objects.filter(pk=job.pk).update(finished_at=timezone.now(), **fields)
    job.refresh_from_db()
    return job
