"""Project archive at the platform benchmark's round: time, peak memory and size of
``export_project`` (projects.archive.write_archive) and of ``import_project`` into a second,
freshly migrated PostgreSQL database (an installation that does not hold the study yet).

The round is bench_platform_100coders.make_round's (2,500 clusters x 3 passes, 100 coders, 10
per cluster: ~750,000 post codes); --clusters scales it down on a busy machine.

    python benchmarks/bench_archive.py [--clusters 2500] [--coders 100] [--coders-per-cluster 10]
        [--database postgres://postgres@127.0.0.1:5432/diptych_bench_archive]
        [--import-database postgres://postgres@127.0.0.1:5432/diptych_bench_archive_import]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.databases import ensure_database  # noqa: E402
from benchmarks.measure import machine_load, measured, print_table  # noqa: E402

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/diptych_bench_archive"


def _setup(url: str, workdir: Path) -> None:
    ensure_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DIPTYCH_VAR_DIR", str(workdir / "var"))
    os.environ.setdefault("DIPTYCH_MEDIA_ROOT", str(workdir / "media"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "diptych.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _fresh(url: str) -> None:
    import psycopg
    from urllib.parse import urlparse

    name = urlparse(url).path.lstrip("/")
    with psycopg.connect(url[: -len(urlparse(url).path)] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def import_side(archive: str, url: str) -> None:
    """Child process: migrate a fresh database, import, print the measurement as JSON."""
    _fresh(url)
    _setup(url, Path(tempfile.mkdtemp(prefix="diptych-bench-archive-import-")))
    from projects.archive import import_archive

    row: dict = {}
    with measured(row):
        imported = import_archive(archive)
    print(json.dumps({**row, "rows": len(imported.ids), "users": len(imported.users)}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=2500)
    parser.add_argument("--coders", type=int, default=100)
    parser.add_argument("--coders-per-cluster", type=int, default=10)
    parser.add_argument("--database", default=DEFAULT_DB)
    parser.add_argument("--import-database", default=DEFAULT_DB + "_import")
    parser.add_argument("--import-only", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.import_only:
        return import_side(args.import_only, args.import_database)

    workdir = Path(tempfile.mkdtemp(prefix="diptych-bench-archive-"))
    _setup(args.database, workdir)
    from annotation.models import PostCode
    from benchmarks.bench_platform_100coders import make_round
    from projects.archive import write_archive

    project, validation_round, _, _ = make_round(args.clusters, args.coders,
                                                 args.coders_per_cluster, workdir)
    n_codes = PostCode.objects.filter(cluster_sample__round=validation_round).count()
    print(f"round: {args.clusters:,} clusters, {args.coders} coders, {n_codes:,} post codes; "
          f"load: {machine_load()}", flush=True)
    archive = workdir / "study.zip"
    export: dict = {}
    with measured(export):
        manifest = write_archive(project, archive)
    rows = [{"step": "export_project (write_archive)", "seconds": export["seconds"],
             "peak_rss_gib": export["peak_rss_gib"],
             "rows": sum(n for k, n in manifest["counts"].items() if k != "users"),
             "size_mib": archive.stat().st_size / 2**20}]
    child = subprocess.run([sys.executable, __file__, "--import-only", str(archive),
                            "--import-database", args.import_database],
                           capture_output=True, text=True, cwd=REPO)
    if child.returncode:
        sys.exit(child.stderr[-3000:])
    imported = json.loads(child.stdout.strip().splitlines()[-1])
    rows.append({"step": "import_project into a fresh database", "seconds": imported["seconds"],
                 "peak_rss_gib": imported["peak_rss_gib"], "rows": imported["rows"],
                 "size_mib": None})
    print_table(rows, ["step", "seconds", "peak_rss_gib", "rows", "size_mib"],
                f"Project archive, {args.clusters:,} clusters x {args.coders} coders "
                f"({n_codes:,} post codes)")


if __name__ == "__main__":
    main()
