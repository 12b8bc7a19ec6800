"""Leaks and limits: server paths in what users read, storage quota over data sets, runs and
exports, one export at a time, API tokens that expire and die with the password, thumbnails of
one size whatever the original."""
from __future__ import annotations

import datetime
import io
import json
import sys
import zipfile
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

pytestmark = pytest.mark.django_db

CACHE_DIR = "/root/.cache/diptych/embeddings"
WEIGHTS = "/opt/models/clip-vit-b32/open_clip_pytorch_model.bin"


def _client(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def _server_folders(settings, *more) -> list[str]:
    return [str(settings.MEDIA_ROOT), str(Path(settings.MEDIA_ROOT).resolve()),
            str(settings.BASE_DIR), sys.prefix, "/root/", "/opt/models", *more]


def _run_with_server_paths(project, settings):
    from projects.models import Dataset, EngineRun, RunStatus

    folder = Path(settings.MEDIA_ROOT) / "datasets" / "upload-abc"
    dataset = Dataset.objects.create(project=project, name="d", source="upload",
                                     table_path=str(folder / "table.csv"),
                                     images_root=str(folder / "images"))
    out = Path(settings.MEDIA_ROOT) / "runs" / "run-x"
    return EngineRun.objects.create(
        project=project, dataset=dataset, status=RunStatus.FAILED, output_dir=str(out),
        config={"ks": [2], "cache_dir": CACHE_DIR},
        manifest={"data": {"table": str(folder / "table.csv"),
                           "images_root": str(folder / "images")},
                  "config": {"cache_dir": CACHE_DIR},
                  "models": {"image": {"name": "clip", "weights": WEIGHTS}},
                  "note": "see http://example.org/a/b for the model card"},
        log=f"embedding with weights {WEIGHTS}\nwrote {out}/labels.parquet\n",
        error_message=f"[Errno 28] No space left on device: '{out}/spaces/text.npy'")


def test_a_viewer_reads_runs_without_server_paths(users, project, settings):
    run = _run_with_server_paths(project, settings)
    viewer = _client(users["viewer"])
    for url in (f"/api/runs/{run.pk}/", f"/api/runs/?project={project.pk}",
                reverse("projects:run-status", args=[run.pk]),
                reverse("projects:run-detail", args=[run.pk])):
        response = viewer.get(url)
        assert response.status_code == 200, (url, response.status_code)
        shown = response.content.decode()
        assert not [p for p in _server_folders(settings) if p in shown], (url, shown[:2000])
    detail = viewer.get(f"/api/runs/{run.pk}/").json()
    # what is left is relative to the data set and the run, or the file's own name
    assert detail["manifest"]["data"] == {"table": "table.csv", "images_root": "images"}
    assert detail["manifest"]["config"]["cache_dir"] == "embeddings"
    assert detail["manifest"]["models"]["image"]["weights"] == "open_clip_pytorch_model.bin"
    assert "http://example.org/a/b" in detail["manifest"]["note"]   # URLs are not paths
    assert "spaces/text.npy" in detail["error_message"]


def test_the_export_manifest_has_no_server_paths(users, project, settings):
    from projects.services.paths import shown_for_run

    run = _run_with_server_paths(project, settings)
    from scoring.services.exports.builder import relative_to_base

    # the export's copy goes through the same scrub as the API (builder.relative_to_base)
    shown = json.dumps(relative_to_base(run.manifest, run.dataset.images_root,
                                        Path(run.dataset.table_path).parent, run.output_dir))
    assert not [p for p in _server_folders(settings) if p in shown], shown
    assert shown == json.dumps(shown_for_run(run, run.manifest))


def _png(size=(8, 8)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 10, 10)).save(buffer, "PNG")
    return buffer.getvalue()


def _named(data: bytes, name: str):
    f = io.BytesIO(data)
    f.name = name
    return f


def _upload(client, project, table: bytes, zip_bytes: bytes | None = None, name="d"):
    data = {"upload-name": name, "upload-table": _named(table, "pairs.csv")}
    if zip_bytes is not None:
        data["upload-images_zip"] = _named(zip_bytes, "images.zip")
    return client.post(reverse("projects:dataset-import", args=[project.pk]), data, follow=True)


def test_a_zip_with_a_duplicate_entry_is_refused_without_server_paths(users, project, settings):
    import warnings

    from projects.models import Dataset

    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # zipfile warns about the duplicate name
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("a.png", _png())
            archive.writestr("a.png", _png())
    page = _upload(_client(users["pi"]), project, b"id,text,image\n1,hi,a.png\n",
                   buffer.getvalue()).content.decode()
    assert "Import failed" in page and "twice" in page
    assert not [p for p in _server_folders(settings) if p in page]
    assert not Dataset.objects.exists()


def test_quota_counts_runs_and_exports_and_refuses_uploads_before_writing(
        users, project, settings, monkeypatch):
    from projects.models import Dataset, EngineRun
    from projects.services import quota
    from scoring.models import ExportJob

    pi = users["pi"]
    assert quota.storage_used(pi) == 0
    run_dir = Path(settings.MEDIA_ROOT) / "runs" / "run-q"
    (run_dir / "spaces").mkdir(parents=True)
    (run_dir / "spaces" / "text.npy").write_bytes(b"x" * 3000)
    dataset = Dataset.objects.create(project=project, name="d", source="upload",
                                     created_by=pi, stored_bytes=1000)
    EngineRun.objects.create(project=project, dataset=dataset, created_by=pi,
                             output_dir=str(run_dir))
    export = Path(settings.MEDIA_ROOT) / "exports" / "export-1.zip"
    export.parent.mkdir(parents=True)
    export.write_bytes(b"z" * 500)
    ExportJob.objects.create(project=project, created_by=pi, status="succeeded",
                             file_path=str(export))
    assert quota.storage_used(pi) == 1000 + 3000 + 500
    assert quota.storage_used(users["viewer"]) == 0

    # An upload larger than what is left is refused before a byte of it is stored.
    settings.DIPTYCH_USER_STORAGE_QUOTA_BYTES = 4500 + 2000
    written = []
    real_open = open

    def watching_open(path, mode="r", *args, **kwargs):
        if "w" in mode and "datasets" in str(path):
            written.append(str(path))
        return real_open(path, mode, *args, **kwargs)

    monkeypatch.setattr("builtins.open", watching_open)
    table = b"id,text,image\n" + b"".join(b"%d,%s,a.png\n" % (i, b"t" * 80) for i in range(40))
    assert len(table) > 2000
    page = _upload(_client(pi), project, table).content.decode()
    monkeypatch.undo()
    assert "Import failed" in page and "quota" in page
    assert not written, written
    assert Dataset.objects.filter(project=project).count() == 1


def test_one_export_at_a_time_per_project_and_none_over_quota(users, project, settings):
    from scoring.models import ExportJob

    pi = _client(users["pi"])
    url = reverse("scoring-api:exports", args=[project.pk])
    first = pi.post(url)
    assert first.status_code == 202
    second = pi.post(url)
    assert second.status_code == 409 and "already" in second.json()["detail"]
    page = pi.post(reverse("scoring:exports", args=[project.pk]), follow=True)
    assert "already being built" in page.content.decode()
    assert ExportJob.objects.filter(project=project).count() == 1
    ExportJob.objects.filter(project=project).update(status="succeeded")
    settings.DIPTYCH_USER_STORAGE_QUOTA_BYTES = 0
    run_dir = Path(settings.MEDIA_ROOT) / "runs" / "run-big"
    run_dir.mkdir(parents=True)
    (run_dir / "labels.parquet").write_bytes(b"x" * 10)
    from projects.models import Dataset, EngineRun
    dataset = Dataset.objects.create(project=project, name="d", source="upload")
    EngineRun.objects.create(project=project, dataset=dataset, created_by=users["pi"],
                             output_dir=str(run_dir))
    refused = pi.post(url)
    assert refused.status_code == 409 and "quota" in refused.json()["detail"]


def test_api_tokens_expire_die_with_the_password_and_are_listed_and_revoked(users, settings):
    from rest_framework.authtoken.models import Token

    def token_for(password="pw-pi"):
        response = Client().post("/api/token/", {"username": "pi", "password": password})
        assert response.status_code == 200, response.content
        return response.json()

    def read(key):
        response = Client().get("/api/projects/", HTTP_AUTHORIZATION=f"Token {key}")
        return 200 if response.status_code == 200 else response.json()["detail"]

    settings.DIPTYCH_TOKEN_TTL_DAYS = 30
    issued = token_for()
    assert read(issued["token"]) == 200 and issued["expires_at"]
    # expired: refused, and the token endpoint makes a new one
    Token.objects.filter(key=issued["token"]).update(
        created=timezone.now() - datetime.timedelta(days=31))
    assert "expired" in read(issued["token"])
    fresh = token_for()["token"]
    assert fresh != issued["token"] and read(fresh) == 200

    # a password change (any way: set_password + save) revokes it
    pi = users["pi"]
    pi.set_password("a new long passphrase 7")
    pi.save()
    assert read(fresh) == "Invalid token."
    assert not Token.objects.filter(user=pi).exists()

    # the tokens page: lists the token (never its whole key), revokes it, makes a new one
    page_client = _client(pi)
    key = token_for("a new long passphrase 7")["token"]
    page = page_client.get(reverse("api-tokens")).content.decode()
    assert key[:4] in page and key not in page and "Revoke" in page
    page_client.post(reverse("api-tokens"), {"action": "revoke"})
    assert read(key) == "Invalid token." and not Token.objects.filter(user=pi).exists()
    made = page_client.post(reverse("api-tokens"), {"action": "create"}).content.decode()
    new_key = Token.objects.get(user=pi).key
    assert new_key in made and read(new_key) == 200
    # its last use (when, from where) is on the page, so a use from elsewhere is noticed
    listed = page_client.get(reverse("api-tokens")).content.decode()
    assert "from 127.0.0.1" in listed and new_key not in listed
    # an unknown action is a message, not a 500
    assert page_client.post(reverse("api-tokens"), {"action": "x"}).status_code == 302


def test_thumbnails_have_one_size_whatever_the_original(users, project, settings, tmp_path):
    from projects.models import Dataset
    from projects.services.images import THUMBNAIL_SIZES, thumbnail

    root = tmp_path / "images"
    root.mkdir()
    for name, size in (("wide.png", (1200, 300)), ("tall.png", (90, 400)),
                       ("tiny.png", (12, 9))):
        Image.new("RGB", size, (10, 120, 200)).save(root / name)
    dataset = Dataset.objects.create(project=project, name="d", source="folder",
                                     table_path=str(tmp_path / "t.csv"), images_root=str(root))
    for size, pixels in THUMBNAIL_SIZES.items():
        for name in ("wide.png", "tall.png", "tiny.png"):
            with Image.open(thumbnail(dataset, name, size)) as img:
                assert img.size == (pixels, pixels), (name, size, img.size)


def test_coders_see_progress_without_the_samples_sizes(validation_round, users):
    """"0 / 9" beside "0 / 11" told a coder which clusters were small (one high-K solution)."""
    import re

    sizes = {s.posts.count() for s in validation_round.samples.all()}
    assert len(sizes) > 1   # the fixture's round has samples of different sizes
    coder = _client(users["coder"])
    api = coder.get(reverse("annotation-api:assignments")).json()["results"]
    assert api and all("total" not in json.dumps(a["progress"]) for a in api), api[0]
    assert {tuple(a["progress"]) for a in api} == {("passes", "done", "complete")}
    for url in (reverse("annotation:my-work"),
                reverse("annotation:coder-round", args=[validation_round.pk])):
        page = coder.get(url).content.decode()
        assert not re.search(r"\d+\s*/\s*\d+", re.sub(r"<[^>]+>", " ", page)), url
        assert not re.search(r'max="(?!100")\d+"', page.replace(
            f'max="{validation_round.samples.filter(assignments__coder=users["coder"]).count()}"',
            "")), url
