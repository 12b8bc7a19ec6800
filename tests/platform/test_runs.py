"""Run lifecycle with a stand-in engine (fast): dispatch on commit, progress, failure,
cancellation at stage boundaries, resume. The real engine runs in test_integration."""
import pytest

import clustering_engine.pipeline
from clustering_engine.errors import DataError
from projects.models import EngineRun, RunStatus
from projects.services import runs
from projects.services.run_config import RunConfigError, engine_config, normalise_options

from .engine_stand_in import FakeEngine

pytestmark = pytest.mark.django_db

@pytest.fixture
def fake_engine(monkeypatch):
    def install(**kwargs):
        engine = FakeEngine(**kwargs)
        monkeypatch.setattr(clustering_engine.pipeline, "run", engine)
        return engine
    return install


def start(project, dataset, users, django_capture_on_commit_callbacks, execute=True):
    with django_capture_on_commit_callbacks(execute=execute) as callbacks:
        run = runs.start_run(project, dataset, {"ks": "4, 9", "reduction": "pca"}, users["pi"])
    run.refresh_from_db()
    return run, callbacks


def test_dispatch_waits_for_the_commit(project, dataset, users, fake_engine,
                                       django_capture_on_commit_callbacks):
    engine = fake_engine()
    run, callbacks = start(project, dataset, users, django_capture_on_commit_callbacks,
                           execute=False)
    assert len(callbacks) == 1 and engine.calls == 0 and run.status == RunStatus.QUEUED
    callbacks[0]()
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED and run.progress == 1.0 and run.stage == "done"
    assert "did describe" in run.log and run.solutions.count() == 1
    assert run.started_at and run.finished_at and run.attempts == 1


def test_engine_errors_are_stored_as_clear_messages(project, dataset, users, fake_engine,
                                                    django_capture_on_commit_callbacks):
    fake_engine(fail=DataError("no valid pair is left: 3 rows missing the text column"))
    run, _ = start(project, dataset, users, django_capture_on_commit_callbacks)
    assert run.status == RunStatus.FAILED
    assert run.error_message == "no valid pair is left: 3 rows missing the text column"
    assert run.can_resume


def test_unexpected_errors_fail_the_run_with_the_traceback_in_the_log(
        project, dataset, users, fake_engine, django_capture_on_commit_callbacks):
    fake_engine(fail=ZeroDivisionError("boom"))
    run, _ = start(project, dataset, users, django_capture_on_commit_callbacks)
    assert run.status == RunStatus.FAILED and "ZeroDivisionError" in run.error_message
    assert "Traceback" in run.log


def test_cancel_is_honoured_at_the_next_stage_boundary(project, dataset, users, fake_engine,
                                                       django_capture_on_commit_callbacks):
    fake_engine(cancel_after="embed")
    run, _ = start(project, dataset, users, django_capture_on_commit_callbacks)
    assert run.status == RunStatus.CANCELLED and run.stage == "cancelled"
    assert "did embed" in run.log and "did reduce vector" not in run.log
    assert run.solutions.count() == 0


def test_a_queued_run_is_cancelled_at_once_and_never_runs(project, dataset, users, fake_engine,
                                                          django_capture_on_commit_callbacks):
    engine = fake_engine()
    run, callbacks = start(project, dataset, users, django_capture_on_commit_callbacks,
                           execute=False)
    runs.request_cancel(run)
    assert run.status == RunStatus.CANCELLED
    callbacks[0]()  # the task arrives late
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED and engine.calls == 0
    with pytest.raises(runs.RunStateError):
        runs.request_cancel(run)


def test_resume_requeues_and_reuses_the_installation_cache(
        project, dataset, users, fake_engine, django_capture_on_commit_callbacks, settings):
    fake_engine(fail=DataError("disk full"))
    run, _ = start(project, dataset, users, django_capture_on_commit_callbacks)
    assert run.status == RunStatus.FAILED
    engine = fake_engine()
    with django_capture_on_commit_callbacks(execute=True):
        runs.resume_run(run)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED and run.error_message == "" and run.attempts == 2
    assert "resumed" in run.log
    assert engine.config.cache_dir == str(settings.DIPTYCH_EMBEDDING_CACHE)
    with pytest.raises(runs.RunStateError):
        runs.resume_run(run)


def test_run_options_are_validated():
    options = normalise_options({"ks": "25, 9, 9", "methods": ["joint"]})
    assert options["ks"] == [9, 25] and options["text_model"] == "use-multilingual"
    assert engine_config(options).grid.ks == (9, 25)
    for bad in ({"ks": "1, 4"}, {"ks": "a"}, {"methods": ["nope"]}, {"reduction": "tsne"},
                {"text_model": "clip:/not/configured"}, {"algorithms": []}):
        with pytest.raises(RunConfigError):
            normalise_options(bad)


def test_the_installation_setting_decides_whether_runs_copy_their_embeddings(settings):
    options = normalise_options({"ks": "9"})
    assert engine_config(options).copy_embeddings is True
    settings.DIPTYCH_RUN_COPY_EMBEDDINGS = False
    assert engine_config(options).copy_embeddings is False


def test_run_page_and_status_json(client, users, project, dataset, fake_engine,
                                  django_capture_on_commit_callbacks):
    fake_engine()
    client.force_login(users["pi"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/projects/{project.pk}/runs/new/", {
            "dataset": dataset.pk, "text_model": "use-multilingual",
            "image_model": "efficientnet-lite0", "joint_model": "rcca",
            "methods": ["label", "vector"], "ks": "4,9", "algorithms": ["kmeans"],
            "reduction": "pca", "n_components": 10, "seed": 3})
    run = EngineRun.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/runs/{run.pk}/"
    assert run.config["methods"] == ["label", "vector"] and run.seed == 3
    status = client.get(f"/runs/{run.pk}/status.json").json()
    assert status["status"] == "succeeded" and status["finished"] and status["progress"] == 1.0
    assert b"run-progress" in client.get(f"/runs/{run.pk}/").content


def test_a_redelivered_task_takes_over_a_run_its_dead_worker_left_running(
        project, dataset, users, fake_engine, django_capture_on_commit_callbacks):
    engine = fake_engine()
    run, _ = start(project, dataset, users, django_capture_on_commit_callbacks, execute=False)
    EngineRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING, celery_task_id="t-1")
    assert runs.execute_run(run.pk, task_id="another-task") == RunStatus.RUNNING
    assert engine.calls == 0, "a duplicate delivery must not run it twice"
    assert runs.execute_run(run.pk, task_id="t-1") == RunStatus.SUCCEEDED
    assert engine.calls == 1
