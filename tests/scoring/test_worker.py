"""The export job through a real Celery worker (Redis broker, PostgreSQL): the request only
creates the job; the worker builds the zip after the commit."""
import time
import zipfile

import pytest

from annotation.services.coding import get_or_create_theme, save_post_code
from scoring.models import ExportJob
from scoring.services.exports import start_export

JOB_TIMEOUT_S = 90


def test_export_job_runs_in_a_real_worker(celery_worker, scored_run, validation_round, users,
                                          coder2):
    worker, log_path = celery_worker
    project = validation_round.project
    sample = validation_round.samples.filter(is_calibration=True).first()
    theme = get_or_create_theme(project, "text", "road blockade", users["coder"])
    for coder in (users["coder"], coder2):
        for post in sample.posts.all():
            save_post_code(post, coder, "text", theme, 0)

    job = start_export(project, users["pi"])      # autocommit: dispatched at once
    deadline = time.monotonic() + JOB_TIMEOUT_S
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status in (ExportJob.Status.SUCCEEDED, ExportJob.Status.FAILED):
            break
        if worker.poll() is not None:
            pytest.fail(f"the worker exited:\n{log_path.read_text()[-4000:]}")
        time.sleep(0.5)
    assert job.status == ExportJob.Status.SUCCEEDED, job.error or log_path.read_text()[-4000:]
    with zipfile.ZipFile(job.file_path) as archive:
        names = set(archive.namelist())
    assert {"manifest.json", "data/coded_posts.parquet", "tables/comparison.tex"} <= names


def test_a_real_worker_stores_the_scores_of_the_current_version(celery_worker, scored_run,
                                                                validation_round, users, coder2):
    from scoring.services.snapshots import (current_version, latest_snapshot, request_recompute,
                                            stored_scores)

    worker, log_path = celery_worker
    project = validation_round.project
    sample = validation_round.samples.filter(is_calibration=True).first()
    stored_scores(project)                 # the first read computes a snapshot in the request
    theme = get_or_create_theme(project, "text", "road blockade", users["coder"])
    for coder in (users["coder"], coder2):
        for post in sample.posts.all():
            save_post_code(post, coder, "text", theme, 0)
    version = current_version(project.pk)
    assert latest_snapshot(project.pk).version < version
    assert stored_scores(project).stale                     # shown as stale; the job is sent
    assert not request_recompute(project.pk, version)       # once per version
    deadline = time.monotonic() + JOB_TIMEOUT_S
    while time.monotonic() < deadline and latest_snapshot(project.pk).version < version:
        if worker.poll() is not None:
            pytest.fail(f"the worker exited:\n{log_path.read_text()[-4000:]}")
        time.sleep(0.5)
    snapshot = latest_snapshot(project.pk)
    assert snapshot.version == version, log_path.read_text()[-4000:]
    assert snapshot.n_post_codes == 2 * sample.posts.count()
    stored = stored_scores(project)
    assert not stored.stale and stored.scores.solution_scores["n_clusters"].max() == 1
