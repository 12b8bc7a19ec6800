"""Archive tests: the shared fixtures are in tests/fixtures (loaded by tests/conftest.py)."""
import pytest

from tests.databases import use_postgres_database

use_postgres_database("diptych_h_archive")   # own database, so this package runs beside the others


@pytest.fixture(autouse=True)
def _platform_settings(platform_settings):
    """Every test here runs with the platform test settings (tests/fixtures/platform.py)."""
    return platform_settings
