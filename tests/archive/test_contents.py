"""What an archive holds: every row of the study, the users as pseudonyms and nothing secret;
and an import recreates each row with its timestamps, under new ids in the same order."""
import json
import zipfile
from pathlib import Path

import pytest

from tests.fixtures.platform import POSTGRES_UP

pytestmark = [pytest.mark.django_db,
              pytest.mark.skipif(not POSTGRES_UP, reason="needs PostgreSQL")]


def test_archive_holds_the_study_and_no_secrets(coded, scored_run, users, coder2, tmp_path):
    from annotation.services.codebook import merge_themes
    from annotation.models import Theme
    from projects.archive import write_archive

    project = scored_run.project
    flood = Theme.objects.get(project=project, name="Flood")
    protest = Theme.objects.filter(project=project, name="Protest").order_by("pk").last()
    merge_themes(flood, protest, users["pi"], note="one event")
    for user in (users["pi"], users["coder"]):
        user.email = f"{user.username}@example.org"
        user.save()
    manifest = write_archive(project, tmp_path / "s.zip", with_images=False)

    with zipfile.ZipFile(tmp_path / "s.zip") as archive:
        names = set(archive.namelist())
        records = [json.loads(line) for line in archive.read("records.jsonl").splitlines()]
        users_json = json.loads(archive.read("users.json"))
        text = b"".join(archive.read(n) for n in ("records.jsonl", "users.json"))
    assert names == set(manifest["files"]) | {"manifest.json"}
    models = {r["model"] for r in records}
    assert {"projects.project", "projects.membership", "annotation.validationround",
            "annotation.assignment", "annotation.postcode", "annotation.codehistory",
            "annotation.theme", "annotation.thememerge", "projects.solution"} <= models
    assert not models & {"auth.user", "authtoken.token", "scoring.scoresnapshot"}
    assert sorted(u["role"] for u in users_json) == ["coder", "coder", "pi", "viewer"]
    for secret in (b"example.org", b"md5$", b"pw-", b'"coder2"'):
        assert secret not in text
    assert manifest["schema"]["annotation"] and manifest["diptych_version"]
    assert "datasets/%d/image_hashes.json" % scored_run.dataset_id in names
    secrets = [r["fields"]["sampling_secret"] for r in records
               if r["model"] == "annotation.validationround"]
    assert secrets and all(len(s) == 64 for s in secrets)


def test_import_recreates_every_row_in_order(coded, scored_run, tmp_path):
    from annotation.models import CodeHistory, PostCode, Theme
    from projects.archive import import_archive, write_archive
    from tests.archive.cleanup import delete_study

    project = scored_run.project
    write_archive(project, tmp_path / "s.zip", with_images=False)
    before = {model: list(model.objects.filter(**{lookup: project}).order_by("pk").values_list(
        *fields)) for model, lookup, fields in (
        (PostCode, "cluster_sample__round__project", ("version", "created_at", "updated_at")),
        (CodeHistory, "theme__project", ("outcome", "changed_at")),
        (Theme, "project", ("name", "public_id", "created_at")))}
    delete_study(project)
    copy = import_archive(tmp_path / "s.zip").project
    for model, lookup, fields in ((PostCode, "cluster_sample__round__project",
                                   ("version", "created_at", "updated_at")),
                                  (CodeHistory, "theme__project", ("outcome", "changed_at")),
                                  (Theme, "project", ("name", "public_id", "created_at"))):
        assert list(model.objects.filter(**{lookup: copy}).order_by("pk").values_list(
            *fields)) == before[model], model.__name__
    run = copy.runs.get()
    assert run.output_dir.endswith(f"run-{run.pk}") and Path(run.output_dir).is_dir()
    assert (Path(run.dataset.storage_dir) / "image_hashes.json").is_file()
