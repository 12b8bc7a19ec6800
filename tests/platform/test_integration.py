"""Integration against the PostgreSQL and Redis on this machine with a real Celery worker
process (the `celery_worker` fixture, tests/fixtures/celery.py): upload -> run (small real
engine config) -> Solution + ClusterSummary rows -> pages."""
import json
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from projects.models import ClusterSummary, Dataset, EngineRun, RunStatus, Solution

from tests.fixtures.platform import SMALL_RUN_OPTIONS

RUN_TIMEOUT_S = 300


def _wait_for(run_id, worker, log_path):
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while time.monotonic() < deadline:
        run = EngineRun.objects.get(pk=run_id)
        if run.is_finished:
            return run
        if worker.poll() is not None:
            pytest.fail(f"the worker exited:\n{log_path.read_text()[-4000:]}")
        time.sleep(1)
    pytest.fail(f"run still {run.status} after {RUN_TIMEOUT_S}s:\n{log_path.read_text()[-4000:]}")


def test_upload_run_and_dashboards_with_a_real_worker(client, users, project, small_dataset_dir,
                                                     small_zip, embedding_cache, celery_worker):
    worker, log_path = celery_worker
    client.force_login(users["pi"])
    with open(small_dataset_dir / "pairs.csv", "rb") as table, open(small_zip, "rb") as images:
        response = client.post(f"/projects/{project.pk}/datasets/new/", {
            "upload-name": "small upload", "upload-table": table, "upload-images_zip": images})
    dataset = Dataset.objects.get(project=project)
    assert response.status_code == 302 and dataset.n_pairs_valid == 60

    options = dict(SMALL_RUN_OPTIONS)
    response = client.post(f"/projects/{project.pk}/runs/new/", {
        "dataset": dataset.pk, "text_model": "use-multilingual",
        "image_model": "efficientnet-lite0", "joint_model": "rcca",
        "methods": options["methods"], "ks": ",".join(map(str, options["ks"])),
        "algorithms": options["algorithms"], "reduction": options["reduction"],
        "n_components": options["n_components"], "seed": 0,
        "truth_column": options["truth_column"]})   # the form's column picker
    assert response.status_code == 302, response.content.decode()[:2000]
    run = EngineRun.objects.get(project=project)
    assert run.config["truth_column"] == "image_label"
    assert run.celery_task_id, "dispatched to the broker after the commit"

    run = _wait_for(run.pk, worker, log_path)
    assert run.status == RunStatus.SUCCEEDED, f"{run.error_message}\n{run.log[-3000:]}"
    assert run.progress == 1.0 and "reduce" in run.log
    # Every solution the run wrote is stored, and every requested method x K is among them.
    manifest = json.loads(Path(run.output_dir, "manifest.json").read_text())
    written = {s["id"] for s in manifest["solutions"]}
    assert set(Solution.objects.filter(run=run, kind="combined")
               .values_list("solution_id", flat=True)) == written
    assert {f"{m}-kmeans-k{k}" for m in options["methods"] for k in options["ks"]} <= written
    assert ClusterSummary.objects.filter(solution__run=run).count() > 0
    assert Path(run.output_dir, "labels.parquet").exists()
    assert str(django_settings.MEDIA_ROOT) in run.output_dir
    assert any(p.is_file() for p in embedding_cache.rglob("*")), "embeddings cached for resumes"

    solution = run.solutions.get(solution_id="cca-kmeans-k9")
    urls = [f"/runs/{run.pk}/dashboard/", f"/solutions/{solution.pk}/gallery/"]
    for url in urls:
        page = client.get(url)
        assert page.status_code == 200 and b"cca-kmeans-k9" in page.content
    client.force_login(users["outsider"])
    for url in urls:
        assert client.get(url).status_code == 404
