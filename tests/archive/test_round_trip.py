"""A coded study travels PostgreSQL -> SQLite -> PostgreSQL through two archives; its scoring
export reads the same at every stop, and the engine's verify passes on the imported run."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.archive.study import comparable, export_tables
from tests.fixtures.platform import POSTGRES_UP

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.django_db,
              pytest.mark.skipif(not POSTGRES_UP, reason="needs PostgreSQL")]


@pytest.fixture
def study(coded, scored_run, stored_run, users, coder2):
    """The coded cluster, a merge, a rename, a decision and a chosen solution, beside a real
    engine run (the one verify reruns)."""
    from annotation.models import Theme
    from annotation.services.adjudication import record_decision
    from annotation.services.codebook import merge_themes, rename_theme
    from annotation.services.coding import get_or_create_theme
    from scoring.services.choices import set_choice

    sample, posts = coded
    project = sample.round.project
    flood = Theme.objects.get(project=project, name="Flood")
    rain = get_or_create_theme(project, "text", "Rain", coder2)
    merge_themes(rain, flood, users["pi"], note="same event")
    rename_theme(flood, "Flooding", users["pi"])
    record_decision(sample, "text", Theme.objects.get(project=project, name="Protest",
                                                      owner=users["coder"]),
                    users["pi"], note="majority", sampled_post=posts[0])
    set_choice(project, scored_run.solutions.first().pk, users["pi"], True, "the paper's")
    return project


def by_run_rank(tables: dict) -> dict:
    """File names carry the run's id (``run-<id>-labels.csv``): named by its rank instead."""
    ids = sorted({int(n) for name in tables for n in re.findall(r"run-(\d+)", name)})
    rank = {str(i): str(r) for r, i in enumerate(ids, 1)}
    return {re.sub(r"run-(\d+)", lambda m: f"run-#{rank[m.group(1)]}", name): frame
            for name, frame in tables.items()}


def assert_same_export(original: dict, other: dict, usernames: dict) -> None:
    original, other = by_run_rank(original), by_run_rank(other)
    assert sorted(other) == sorted(original)
    for name, frame in original.items():
        pd.testing.assert_frame_equal(comparable(other[name], usernames),
                                      comparable(frame, usernames), obj=name)


def _pseudonyms(project) -> dict[str, str]:
    """username -> pseudonym of everyone the archive names."""
    from django.contrib.auth import get_user_model

    from projects.archive.contents import collect_ids, pseudonyms, referenced_user_ids

    ids = referenced_user_ids(collect_ids(project)) | set(
        project.memberships.values_list("user_id", flat=True))
    names = dict(get_user_model().objects.filter(pk__in=ids).values_list("pk", "username"))
    return {names[entry["pk"]]: entry["pseudonym"] for entry in pseudonyms(project, ids)}


def _engine_run_folder(project) -> Path:
    """The imported folder of the real engine run (the one whose manifest records its data)."""
    for run in project.runs.order_by("pk"):
        manifest = Path(run.output_dir) / "manifest.json"
        if manifest.is_file() and "data" in json.loads(manifest.read_text(encoding="utf-8")):
            return Path(run.output_dir)
    raise AssertionError("no imported engine run folder")


def test_round_trip_postgresql_sqlite_postgresql(study, tmp_path, settings):
    from projects.archive import import_archive, write_archive
    from tests.archive.cleanup import delete_study

    usernames = _pseudonyms(study)
    original = export_tables(study)
    write_archive(study, tmp_path / "pg.zip")

    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
           "DIPTYCH_MEDIA_ROOT": str(tmp_path / "sqlite-media")}
    done = subprocess.run([sys.executable, "-m", "tests.archive.sqlite_side",
                           str(tmp_path / "pg.zip"), str(tmp_path)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    on_sqlite = {p.relative_to(tmp_path / "csv").as_posix():
                 pd.read_csv(p, dtype=str, keep_default_na=False)
                 for p in sorted((tmp_path / "csv").rglob("*.csv"))}
    assert_same_export(original, on_sqlite, usernames)

    delete_study(study)      # the copy reuses its public ids: one copy per installation
    back = import_archive(tmp_path / "again.zip").project
    assert_same_export(original, export_tables(back), usernames)
    members = sorted(back.memberships.values_list("user__username", "role"))
    assert members == sorted((usernames[n], r) for n, r in
                             (("pi", "pi"), ("viewer", "viewer"), ("coder", "coder"),
                              ("coder2", "coder")))
    assert not back.memberships.filter(user__is_active=True).exists()

    folder = _engine_run_folder(back)
    assert Path(settings.MEDIA_ROOT) in folder.parents
    verified = subprocess.run([sys.executable, "-m", "clustering_engine", "verify", str(folder)],
                              cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert verified.returncode == 0, verified.stdout[-3000:] + verified.stderr[-2000:]
