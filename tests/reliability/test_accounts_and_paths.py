"""Accounts a PI creates meet the password validators; the API does not tell unknown usernames
from accounts that are not coders here; users never see absolute server paths."""
from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_pi_created_accounts_meet_the_validators_and_usernames_are_not_enumerable(
        validation_round, users, solutions):
    pi = Client()
    pi.force_login(users["pi"])
    members = reverse("projects:project-members", args=[validation_round.project_id])
    for weak in ("1", "password", "newbie123"):
        page = pi.post(members, {"username": "newbie", "role": "coder",
                                 "create_with_password": weak})
        assert page.status_code == 200 and b"errorlist" in page.content, weak
    assert not get_user_model().objects.filter(username="newbie").exists()
    assert pi.post(members, {"username": "newbie", "role": "coder",
                             "create_with_password": "correct horse battery 42"}
                   ).status_code == 302
    assert get_user_model().objects.get(username="newbie").check_password(
        "correct horse battery 42")

    # The rounds API answers alike for a username that does not exist and for an account that
    # exists but is not a coder of this project.
    def create(coder):
        return pi.post("/api/annotation/rounds/", {
            "project": validation_round.project_id, "name": "r2",
            "solutions": [s.pk for s in solutions], "coders": [coder]},
            content_type="application/json")

    unknown, outsider = create("no-such-person"), create("outsider")
    assert unknown.status_code == outsider.status_code == 400
    assert (unknown.json()["coders"].replace("no-such-person", "X")
            == outsider.json()["coders"].replace("outsider", "X"))
    assert "unknown" not in unknown.content.decode()


def _upload(client, project, table: bytes, zip_bytes: bytes | None = None):
    import io

    def named(data, name):
        f = io.BytesIO(data)
        f.name = name
        return f

    data = {"upload-name": "paths", "upload-table": named(table, "pairs.csv")}
    if zip_bytes is not None:
        data["upload-images_zip"] = named(zip_bytes, "images.zip")
    return client.post(reverse("projects:dataset-import", args=[project.pk]), data, follow=True)


def _png() -> bytes:
    import io

    from PIL import Image
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 10, 10)).save(buffer, "PNG")
    return buffer.getvalue()


def test_reports_errors_and_manifests_show_no_server_paths(users, project, settings):
    import io
    import json
    import sys
    import zipfile

    from projects.models import Dataset
    from scoring.services.exports.builder import relative_to_base

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.png", _png())
        archive.writestr("broken.png", b"not an image")
    client = Client()
    client.force_login(users["pi"])
    table = ("id,text,image\n1,fine,a.png\n2,missing,gone.png\n3,broken,broken.png\n"
             "4,escape,../../../etc/passwd\n").encode()
    page = _upload(client, project, table, buffer.getvalue()).content.decode()
    dataset = Dataset.objects.get(project=project)
    shown = json.dumps(dataset.validation_report) + page
    forbidden = [str(settings.MEDIA_ROOT), str(settings.MEDIA_ROOT.resolve()), sys.prefix,
                 str(settings.BASE_DIR)]
    assert dataset.n_rejected == 3
    assert not [p for p in forbidden if p in shown], [p for p in forbidden if p in shown]
    # An import that fails names the file without the server's folders.
    page = _upload(client, project, b"id,caption,image\n1,hello,a.png\n").content.decode()
    assert "Import failed" in page
    assert not [p for p in forbidden if p in page]
    # An export's copy of the engine manifest: paths relative to the data set and the run.
    folder = settings.MEDIA_ROOT / "datasets" / "upload-x"
    manifest = {"data": {"table": str(folder / "table.csv"), "images_root": str(folder / "images")},
                "config": {"cache_dir": str(settings.MEDIA_ROOT / "runs" / "run-1" / "cache")}}
    shown = json.dumps(relative_to_base(manifest, folder / "images", folder,
                                        settings.MEDIA_ROOT / "runs" / "run-1"))
    assert "table.csv" in shown and not [p for p in forbidden if p in shown], shown
