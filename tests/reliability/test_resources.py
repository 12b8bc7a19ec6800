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
    from projects.services.datasets import storage_used

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
