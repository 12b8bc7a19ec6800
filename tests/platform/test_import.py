"""Data set import through the page: good uploads, bad input with clear messages, folders."""
import csv
import io
import zipfile

import pytest
from django.urls import reverse

from projects.models import Dataset
from projects.services.datasets import DatasetImportError, import_server_folder
from projects.services.storage import datasets_root

pytestmark = pytest.mark.django_db


def upload(client, project, table_bytes, table_name="pairs.csv", zip_bytes=None, name="upload"):
    data = {"upload-name": name,
            "upload-table": _file(table_bytes, table_name)}
    if zip_bytes is not None:
        data["upload-images_zip"] = _file(zip_bytes, "images.zip")
    return client.post(reverse("projects:dataset-import", args=[project.pk]), data, follow=True)


def _file(data, name):
    f = io.BytesIO(data)
    f.name = name
    return f


def _zip(entries):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return buffer.getvalue()


def _leftovers():
    root = datasets_root()
    return list(root.iterdir()) if root.exists() else []


def test_upload_table_and_zip_shows_the_validation_report(client, users, project,
                                                          small_dataset_dir, small_zip):
    client.force_login(users["pi"])
    table = (small_dataset_dir / "pairs.csv").read_bytes()
    response = upload(client, project, table, zip_bytes=small_zip.read_bytes())
    assert response.status_code == 200
    dataset = Dataset.objects.get(project=project)
    assert dataset.n_pairs_valid == 60 and dataset.n_rejected == 0
    assert response.redirect_chain[-1][0] == reverse("projects:dataset-detail", args=[dataset.pk])
    assert b"usable pairs" in response.content and b"Every row is usable" in response.content


def test_corrupt_and_missing_images_are_listed_with_their_reason(client, users, project,
                                                                 small_dataset_dir, small_zip):
    client.force_login(users["pi"])
    rows = list(csv.DictReader(io.StringIO((small_dataset_dir / "pairs.csv").read_text("utf-8"))))
    rows[0]["image"] = "images/corrupt.jpg"
    rows[1]["image"] = "images/missing.jpg"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    with zipfile.ZipFile(small_zip) as archive:
        entries = [(n, archive.read(n)) for n in archive.namelist()]
    entries.append(("images/corrupt.jpg", b"\xff\xd8\xff\xe0 this is not a jpeg"))
    response = upload(client, project, out.getvalue().encode(), zip_bytes=_zip(entries))
    dataset = Dataset.objects.get(project=project)
    assert dataset.n_rejected == 2 and dataset.n_pairs_valid == 58
    reasons = {r["reason"] for r in dataset.validation_report["rejected"]}
    assert len(reasons) == 2
    page = response.content.decode()
    assert "corrupt.jpg" in page and "missing.jpg" in page
    assert str(dataset.images_root) not in page, "no server paths in the report"


def test_gbk_encoded_table_is_read(client, users, project):
    client.force_login(users["pi"])
    image = _png_bytes()
    table = "id,text,image\n1,微博上的图片和文字,a.png\n2,另一条中文微博,a.png\n".encode("gbk")
    response = upload(client, project, table, zip_bytes=_zip([("a.png", image)]))
    dataset = Dataset.objects.get(project=project)
    assert dataset.n_pairs_valid == 2, response.content.decode()[:2000]
    assert dataset.n_rejected == 0
    assert "gb" in (dataset.validation_report.get("encoding") or "").lower()


@pytest.mark.parametrize("case,expected", [
    ("zip_slip", "leaves the folder"),
    ("zip_bomb", "zip bomb"),
    ("no_text_column", "text"),
])
def test_bad_input_gives_a_clear_message_and_leaves_the_project_intact(
        client, users, project, case, expected):
    client.force_login(users["pi"])
    table = b"id,text,image\n1,hello,a.png\n"
    zip_bytes = _zip([("a.png", _png_bytes())])
    if case == "zip_slip":
        zip_bytes = _zip([("a.png", _png_bytes()), ("../../evil.png", b"x")])
    elif case == "zip_bomb":
        zip_bytes = _zip([("a.png", b"\0" * (30 * 1024 * 1024))])
    elif case == "no_text_column":
        table = b"id,caption,image\n1,hello,a.png\n"
    response = upload(client, project, table, zip_bytes=zip_bytes)
    page = response.content.decode()
    assert "Import failed" in page and expected in page
    assert not Dataset.objects.filter(project=project).exists()
    assert _leftovers() == []


def test_folder_outside_the_allowed_roots_is_refused(project, tmp_path):
    (tmp_path / "pairs.csv").write_text("id,text,image\n")
    with pytest.raises(DatasetImportError, match="not under an allowed data root"):
        import_server_folder(project, "x", tmp_path)


def test_only_the_pi_may_import(client, users, project):
    for name in ("viewer", "coder", "outsider"):
        client.force_login(users[name])
        assert client.get(reverse("projects:dataset-import", args=[project.pk])).status_code == 404


def _png_bytes():
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()
