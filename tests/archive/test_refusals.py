"""A corrupt, truncated, tampered or newer archive is refused, naming the file, and an import
that fails halfway leaves no row and no file behind."""
import json
import zipfile
from pathlib import Path

import pytest
from django.apps import apps

from tests.archive.study import archive_members, rewrite_archive
from tests.fixtures.platform import POSTGRES_UP

pytestmark = [pytest.mark.django_db,
              pytest.mark.skipif(not POSTGRES_UP, reason="needs PostgreSQL")]


@pytest.fixture
def archive(coded, scored_run, tmp_path):
    from projects.archive import write_archive

    path = tmp_path / "study.zip"
    write_archive(scored_run.project, path, with_images=False)
    return path


def row_counts() -> dict[str, int]:
    return {m._meta.label: m._base_manager.count() for m in apps.get_models()}


def media_files(settings) -> list[str]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []


def refused(path, settings) -> str:
    from projects.archive import ArchiveRefused, import_archive

    before, files = row_counts(), media_files(settings)
    with pytest.raises(ArchiveRefused) as caught:
        import_archive(path)
    assert row_counts() == before
    assert media_files(settings) == files
    return str(caught.value)


def with_manifest(members: dict, change) -> dict:
    manifest = json.loads(members["manifest.json"])
    change(manifest)
    return {**members, "manifest.json": json.dumps(manifest).encode()}


def test_a_changed_file_is_refused_by_name(archive, tmp_path, settings):
    members = archive_members(archive)
    name = next(n for n in members if n.endswith("labels.parquet"))
    members[name] = members[name][:-1] + bytes([members[name][-1] ^ 1])
    message = refused(rewrite_archive(archive, tmp_path / "t.zip", members), settings)
    assert name in message and "sha256" in message


def test_a_missing_file_is_refused_by_name(archive, tmp_path, settings):
    members = archive_members(archive)
    name = next(n for n in members if n.endswith("manifest.json") and n.startswith("runs/"))
    del members[name]
    message = refused(rewrite_archive(archive, tmp_path / "m.zip", members), settings)
    assert name in message and "missing" in message


def test_an_unlisted_file_is_refused_by_name(archive, tmp_path, settings):
    members = {**archive_members(archive), "runs/evil.py": b"print('x')"}
    assert "runs/evil.py" in refused(rewrite_archive(archive, tmp_path / "u.zip", members),
                                     settings)


def test_a_truncated_archive_is_refused(archive, tmp_path, settings):
    data = archive.read_bytes()
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(data[:len(data) // 2])
    assert "truncated.zip" in refused(truncated, settings)


def test_bad_json_is_refused_by_name(archive, tmp_path, settings):
    import hashlib

    members = archive_members(archive)
    lines = members["records.jsonl"].splitlines(keepends=True)
    lines[3] = lines[3][:-10] + b"\n"         # rows before it are inserted, then rolled back
    members["records.jsonl"] = b"".join(lines)
    members = with_manifest(members, lambda m: m["files"].update(
        {"records.jsonl": hashlib.sha256(members["records.jsonl"]).hexdigest()}))
    message = refused(rewrite_archive(archive, tmp_path / "j.zip", members), settings)
    assert "records.jsonl line 4" in message and "JSON" in message


def test_an_archive_of_a_newer_schema_is_refused(archive, tmp_path, settings):
    members = with_manifest(archive_members(archive),
                            lambda m: m["schema"].update({"annotation": "0999_from_the_future"}))
    message = refused(rewrite_archive(archive, tmp_path / "n.zip", members), settings)
    assert "newer Diptych" in message and "annotation.0999_from_the_future" in message


def test_a_failure_halfway_leaves_nothing(archive, settings):
    """The study is still here: its public ids clash once projects, data sets, runs and
    solutions are already inserted; everything goes back, files and accounts included."""
    message = refused(archive, settings)
    assert "already exists here" in message


def test_the_commands_write_and_refuse(coded, scored_run, tmp_path, settings):
    from django.core.management import CommandError, call_command

    out = tmp_path / "cli.zip"
    call_command("export_project", str(scored_run.project_id), "--out", str(out), "--no-images")
    with zipfile.ZipFile(out) as archive:
        assert json.loads(archive.read("manifest.json"))["files"]
    before = row_counts()
    with pytest.raises(CommandError, match="nothing imported.*already exists here"):
        call_command("import_project", str(out))
    assert row_counts() == before
