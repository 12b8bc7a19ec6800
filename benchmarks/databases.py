"""Benchmarks that write to PostgreSQL create their own database first."""
from urllib.parse import urlparse


def ensure_database(url: str) -> None:
    """Create the database a postgres:// URL names if it does not exist (other URLs: no-op)."""
    if not url.startswith("postgres"):
        return
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin = url[: -len(parsed.path)] + "/postgres" if parsed.netloc else "dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def setup_django(url: str, prefix: str):
    """Point Django at ``url`` with its var/ and media/ in a fresh temporary folder and set it
    up; returns that folder. Benchmarks import Django and the apps only after this."""
    import os
    import tempfile
    from pathlib import Path

    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DIPTYCH_VAR_DIR", str(workdir / "var"))
    os.environ.setdefault("DIPTYCH_MEDIA_ROOT", str(workdir / "media"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "diptych.settings")
    import django

    django.setup()
    return workdir


def largest_project():
    """The project with the most post codes in the database (a bench reusing another's data)."""
    from django.db.models import Count

    from projects.models import Project

    return (Project.objects.annotate(n=Count("validation_rounds__samples__post_codes"))
            .order_by("-n").first())
