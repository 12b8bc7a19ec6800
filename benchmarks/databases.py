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
