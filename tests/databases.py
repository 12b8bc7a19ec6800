"""Each test package runs on its own PostgreSQL database, so packages can run side by side."""
import os
import socket


def use_postgres_database(name: str, host: str = "127.0.0.1", port: int = 5432) -> bool:
    """Point DATABASE_URL at ``name`` on the local PostgreSQL unless the caller already set one.

    Call it from a package's conftest at import time (tests/conftest.py configures Django later,
    in ``pytest_configure``). The first choice stands; returns whether PostgreSQL answers.
    """
    try:
        with socket.create_connection((host, port), timeout=1):
            pass
    except OSError:
        return False
    os.environ.setdefault("DATABASE_URL", f"postgres://postgres@{host}:{port}/{name}")
    return True
