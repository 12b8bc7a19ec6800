"""Faults injected while Diptych works: each ends in a clear state (retry, resume or a visible
failure), nothing half-written published as complete, no coder label lost."""
from __future__ import annotations

import errno
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from django.db import connection, connections
from django.test import Client

from annotation.models import PostCode
from scoring.models import ExportJob


@pytest.fixture
def tiny_media_root(tmp_path, settings, monkeypatch):
    """MEDIA_ROOT on a 64 KiB tmpfs, nearly full. Where mounting is not allowed (not root),
    the zip writer's writes raise ENOSPC instead, as a full disk would."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    try:
        mounted = subprocess.run([os.environ.get("DIPTYCH_TEST_MOUNT", "mount"), "-t", "tmpfs",
                                  "-o", "size=64k", "tmpfs", str(mount)],
                                 capture_output=True).returncode == 0
    except OSError:  # no mount command
        mounted = False
    settings.MEDIA_ROOT = mount
    if not mounted:
        import zipfile

        def full(self, *args, **kwargs):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        monkeypatch.setattr(zipfile.ZipFile, "write", full)
        yield mount
        return
    try:
        (mount / "filler").write_bytes(b"\0" * 56 * 1024)
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.django_db
def test_disk_full_while_writing_an_export(scored_run, validation_round, users,
                                           tiny_media_root):
    from scoring.services.exports import export_folder, run_export

    job = ExportJob.objects.create(project=scored_run.project, created_by=users["pi"])
    run_export(job.pk)
    job.refresh_from_db()
    assert job.status == ExportJob.Status.FAILED and not job.file_path
    assert job.error.startswith("The disk is full: the export could not be written")
    assert f"Errno {errno.ENOSPC}" in job.error
    folder = export_folder(scored_run.project_id)
    assert not list(folder.glob("*")), "a half-written file was left behind"
    # The PI sees the failure; nothing is offered for download.
    client = Client()
    client.force_login(users["pi"])
    page = client.get(f"/scoring/projects/{scored_run.project_id}/exports/")
    assert b"The disk is full" in page.content and b"Download zip" not in page.content
    assert client.get(f"/scoring/exports/{job.pk}/download/").status_code == 404


def _terminate(pid: int) -> None:
    import psycopg

    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**{k: v for k, v in params.items()
                            if k in ("host", "port", "user", "dbname", "password")},
                         autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])


@pytest.mark.django_db(transaction=True)
def test_database_connection_dropped_during_a_label_save(validation_round, users, monkeypatch):
    """The backend serving the request is terminated from another connection mid-request: the
    client gets 503 + Retry-After (its queue keeps the label), the retry saves it once."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (pg_terminate_backend)")
    import annotation.api as annotation_api
    from annotation.models import SampledPost, Theme

    post = SampledPost.objects.filter(cluster_sample__assignments__coder=users["coder"],
                                      cluster_sample__round=validation_round).first()
    original, calls = annotation_api.save_post_code, []

    def dropped_then_save(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                _terminate(cursor.fetchone()[0])
        return original(*args, **kwargs)

    monkeypatch.setattr(annotation_api, "save_post_code", dropped_then_save)
    client = Client(raise_request_exception=False)
    client.force_login(users["coder"])
    url = f"/api/annotation/posts/{post.public_id}/text/"
    first = client.put(url, {"theme_name": "Flooded street"}, content_type="application/json")
    assert first.status_code == 503 and first["Retry-After"]
    assert "retry" in first.json()["detail"].lower()
    connections.close_all()
    assert not PostCode.objects.filter(sampled_post=post).exists()
    second = client.put(url, {"theme_name": "Flooded street"}, content_type="application/json")
    assert second.status_code == 201, second.content
    [code] = PostCode.objects.filter(sampled_post=post, coder=users["coder"], pass_name="text")
    assert code.theme.name == "Flooded street"
    assert Theme.objects.filter(name="Flooded street").count() == 1


@pytest.mark.django_db(transaction=True)
def test_celery_worker_killed_mid_run(project, users, small_dataset_dir, monkeypatch, tmp_path):
    """The worker process running the engine is SIGKILLed mid-run: the run is left running
    (never succeeded, no solutions published); the redelivered task (acks_late, same task
    id) takes it over and finishes it."""
    import clustering_engine.pipeline
    from projects.models import EngineRun, RunStatus
    from projects.services import runs
    from projects.services.datasets import import_server_folder

    dataset = import_server_folder(project, "sample", small_dataset_dir,
                                   extra_roots=[small_dataset_dir])
    from projects.services.run_config import normalise_options

    # As start_run leaves it once the task is queued (no on-commit dispatch here).
    run = EngineRun.objects.create(project=project, dataset=dataset, status=RunStatus.QUEUED,
                                   config=normalise_options({"ks": "4", "reduction": "pca"}),
                                   output_dir=str(tmp_path / "run-out"), celery_task_id="task-1")

    def slow_engine(data_path, images_root, out_dir, config, progress, echo):
        progress("embed", 0.1)
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        (Path(out_dir) / "manifest.json").write_text("{half", encoding="utf-8")
        time.sleep(60)

    monkeypatch.setattr(clustering_engine.pipeline, "run", slow_engine)
    connections.close_all()
    pid = os.fork()
    if pid == 0:  # the "worker": its own database connection
        try:
            for conn in connections.all():
                conn.connection = None  # never reuse the parent's socket
            runs.execute_run(run.pk, task_id="task-1")
        finally:
            os._exit(0)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.stage == "embed":
            break
        time.sleep(0.2)
    assert run.stage == "embed", "the worker never started"
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING and not run.solutions.exists()
    assert run.status != RunStatus.SUCCEEDED
    # Redelivery of the same task (acks_late) takes the run over and completes it.
    from tests.platform.engine_stand_in import FakeEngine
    monkeypatch.setattr(clustering_engine.pipeline, "run", FakeEngine())
    monkeypatch.setattr(runs, "store_run_outputs", lambda run, manifest=None: None)
    assert runs.execute_run(run.pk, task_id="task-1") == RunStatus.SUCCEEDED
    run.refresh_from_db()
    assert run.attempts == 2 and run.status == RunStatus.SUCCEEDED
