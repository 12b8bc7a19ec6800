"""Resources one user can take: disk through zip amplification and uploads; engine time through
unbounded options and concurrent runs; leftovers of deleted runs."""
from __future__ import annotations

import io
import zipfile

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db
MIB = 1024 * 1024


def _named(data: bytes, name: str):
    f = io.BytesIO(data)
    f.name = name
    return f


def _upload(client, project, table: bytes, zip_bytes: bytes):
    return client.post(reverse("projects:dataset-import", args=[project.pk]), {
        "upload-name": "amplified", "upload-table": _named(table, "pairs.csv"),
        "upload-images_zip": _named(zip_bytes, "images.zip")}, follow=True)


def _png() -> bytes:
    from PIL import Image
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (10, 120, 200)).save(buffer, "PNG")
    return buffer.getvalue()


def _amplifying_zip(n_zero_files: int = 300) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("real.png", _png())
        for i in range(n_zero_files):
            archive.writestr(f"pad/z{i:03}.png", b"\0" * MIB)
    return buffer.getvalue()


def _disk_usage(root) -> int:
    return sum(f.stat().st_size for f in root.rglob("*") if f.is_file())


def test_zip_amplification_total_ratio_referenced_files_and_quota(users, project, settings):
    """A 300 KB zip of 300 × 1 MiB zero files plus one real image left 300 MiB on disk: each
    entry passed the per-entry ratio check (it looks only at entries over 1 MiB)."""
    from projects.models import Dataset
    from projects.services.quota import storage_used

    archive = _amplifying_zip()
    assert len(archive) < 400 * 1024
    client = Client()
    client.force_login(users["pi"])
    media = settings.MEDIA_ROOT
    # Only the image the table names is extracted.
    page = _upload(client, project, b"id,text,image\n1,hello,real.png\n", archive)
    assert page.status_code == 200
    dataset = Dataset.objects.get(project=project)
    assert dataset.n_pairs_valid == 1 and _disk_usage(media) < MIB
    assert dataset.stored_bytes == storage_used(users["pi"]) > 0
    # A table naming every zero file: the whole archive expands ~900-fold, refused, nothing left.
    table = "id,text,image\n1,hello,real.png\n" + "".join(
        f"{i + 2},zero,pad/z{i:03}.png\n" for i in range(300))
    page = _upload(client, project, table.encode(), archive).content.decode()
    assert "Import failed" in page and "zip bomb" in page
    assert Dataset.objects.filter(project=project).count() == 1 and _disk_usage(media) < MIB
    # A per-user storage quota.
    settings.DIPTYCH_USER_STORAGE_QUOTA_BYTES = dataset.stored_bytes + 100
    page = _upload(client, project, b"id,text,image\n1,hello,real.png\n", archive
                   ).content.decode()
    assert "Import failed" in page and "quota" in page
    assert Dataset.objects.filter(project=project).count() == 1


# ---------------------------------------------------------------- 9. engine time

def test_every_numeric_option_is_bounded_and_one_run_per_project_at_a_time(
        users, project, monkeypatch):
    """ami_permutations=10**9 was accepted (days of CPU); two runs of one project ran at once."""
    from projects.models import Dataset
    from projects.services.run_config import OPTION_BOUNDS, RunConfigError, normalise_options
    from projects.services.runs import RunStateError, start_run

    base = {"ks": [2, 3], "reduction": "pca"}
    for option, value in (("ami_permutations", 10 ** 9), ("n_components", 10 ** 6),
                          ("fit_sample", 10 ** 12), ("hdbscan_min_cluster_size", 10 ** 9),
                          ("seed", 2 ** 40), ("ks", [2, 10 ** 7]), ("ks", list(range(2, 200)))):
        with pytest.raises(RunConfigError):
            normalise_options({**base, option: value})
    assert normalise_options({**base, "ami_permutations": OPTION_BOUNDS["ami_permutations"]})

    monkeypatch.setattr("projects.services.runs.dispatch_on_commit", lambda run_id: None)
    dataset = Dataset.objects.create(project=project, name="d", source="folder",
                                     table_path="/nonexistent/pairs.csv", images_root="/nonexistent")
    client = Client()
    client.force_login(users["pi"])
    api = "/api/runs/"
    refused = client.post(api, {"dataset": dataset.pk, "options": {**base,
                                                                     "ami_permutations": 10 ** 9}},
                          content_type="application/json")
    assert refused.status_code == 400 and "AMI permutations" in refused.json()["detail"]
    first = start_run(project, dataset, base, users["pi"])
    with pytest.raises(RunStateError, match="at most 1 at once"):
        start_run(project, dataset, base, users["pi"])
    second = client.post(api, {"dataset": dataset.pk, "options": base},
                         content_type="application/json")
    assert second.status_code == 400 and "queued or running" in second.json()["detail"]
    first.status = "succeeded"
    first.save(update_fields=["status"])
    assert start_run(project, dataset, base, users["pi"]).status == "queued"


def _long_stage_run(project, settings):
    from projects.models import Dataset, EngineRun
    from projects.services.run_config import normalise_options
    from projects.services.storage import run_output_dir

    dataset = Dataset.objects.create(project=project, name="d", source="folder",
                                     table_path="/nonexistent/pairs.csv", images_root="/nonexistent")
    run = EngineRun.objects.create(project=project, dataset=dataset,
                                   config=normalise_options({"ks": [2], "reduction": "pca"}))
    run.output_dir = str(run_output_dir(run.pk))
    run.save(update_fields=["output_dir"])
    return run


def _engine_in_one_long_stage(data_path, images_root, out_dir, config=None, progress=None,
                              echo=None):
    """A stage that never reports progress (an embedding pass, AMI permutations): it writes
    into the output folder and works for up to a minute."""
    import time
    from pathlib import Path

    progress("embed", 0.1)
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    (Path(out_dir) / "partial.bin").write_bytes(b"x" * 1024)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        time.sleep(0.02)
    return {}


@pytest.mark.django_db(transaction=True)
def test_a_cancel_stops_a_stage_that_never_reports_progress(users, project, settings,
                                                            monkeypatch):
    """A cancel was read only at stage boundaries: one run waited 207 s for a stage to end."""
    import threading

    from projects.models import EngineRun
    from projects.services.runs import execute_run

    monkeypatch.setattr("clustering_engine.pipeline.run", _engine_in_one_long_stage)
    run = _long_stage_run(project, settings)
    threading.Timer(1.0, lambda: EngineRun.objects.filter(pk=run.pk).update(
        cancel_requested=True)).start()
    assert execute_run(run.pk) == "cancelled"   # not "failed" after the minute-long stage
    run.refresh_from_db()
    assert run.status == "cancelled" and run.finished_at is not None


# ---------------------------------------------------------------- 12. orphans

@pytest.mark.django_db(transaction=True)
def test_deleting_a_run_removes_its_output_folder_even_while_it_runs(users, project, settings,
                                                                     monkeypatch):
    """Deleting a running run in the admin left its output folder behind."""
    import threading
    from pathlib import Path

    from projects.models import EngineRun
    from projects.services.runs import execute_run

    monkeypatch.setattr("clustering_engine.pipeline.run", _engine_in_one_long_stage)
    # In the admin, a run that is not executing here: its folder goes with it.
    staff = users["pi"]
    staff.is_staff = staff.is_superuser = True
    staff.save()
    admin = Client()
    admin.force_login(staff)
    idle = _long_stage_run(project, settings)
    Path(idle.output_dir).mkdir(parents=True)
    (Path(idle.output_dir) / "labels.parquet").write_bytes(b"x")
    response = admin.post(reverse("admin:projects_enginerun_delete", args=[idle.pk]),
                          {"post": "yes"})
    assert response.status_code == 302 and not EngineRun.objects.filter(pk=idle.pk).exists()
    assert not Path(idle.output_dir).exists()
    # Deleted while a worker runs it: the worker stops and removes what it wrote since.
    running = _long_stage_run(project, settings)
    threading.Timer(1.0, lambda: admin.post(
        reverse("admin:projects_enginerun_delete", args=[running.pk]), {"post": "yes"})).start()
    assert execute_run(running.pk) == "deleted"
    assert not Path(running.output_dir).exists()
    assert not list((Path(settings.MEDIA_ROOT) / "runs").glob("run-*"))
