"""The PI builds the archive from the project page (in the background) and downloads it;
nobody else can."""
import io
import json
import zipfile

import pytest

from tests.fixtures.platform import POSTGRES_UP, client_for

pytestmark = [pytest.mark.django_db,
              pytest.mark.skipif(not POSTGRES_UP, reason="needs PostgreSQL")]


def test_pi_builds_and_downloads_the_archive(client, coded, scored_run, users,
                                             django_capture_on_commit_callbacks):
    from projects.models import ArchiveJob

    project = scored_run.project
    client_for(client, users["pi"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/projects/{project.pk}/archive/", {"images": "0"})
    assert response.status_code == 302
    job = ArchiveJob.objects.get(project=project)
    assert job.status == "succeeded", job.error
    assert not job.with_images and job.size_bytes > 0

    page = client.get(f"/projects/{project.pk}/").content.decode()
    assert f"/archives/{job.pk}/download/" in page
    download = client.get(f"/archives/{job.pk}/download/")
    assert download.status_code == 200
    with zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content))) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    assert manifest["project"]["id"] == project.pk and manifest["images"].startswith("sha256")

    for outsider in ("coder", "viewer", "outsider"):
        client_for(client, users[outsider])
        assert client.get(f"/archives/{job.pk}/download/").status_code == 404
        assert client.post(f"/projects/{project.pk}/archive/").status_code in (403, 404)
    assert ArchiveJob.objects.filter(project=project).count() == 1
