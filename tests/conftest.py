"""Test setup for every package: Django settings, the shared fixtures (tests/fixtures), and
PostgreSQL when it answers (else SQLite; tests that need PostgreSQL skip with the reason).

Each package that tests the platform picks its own database in its conftest
(tests/databases.py), so packages run side by side; that choice is made when the package's
conftest is imported, before ``pytest_configure`` below sets Django up. In a whole-suite run the
package conftests load after that, and the database below stands.
"""
import os

import django

from tests.databases import use_postgres_database

pytest_plugins = ["tests.fixtures.platform", "tests.fixtures.annotation",
                  "tests.fixtures.scoring", "tests.fixtures.celery"]


def pytest_configure(config):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "diptych.settings")
    os.environ.setdefault("MPLBACKEND", "Agg")
    use_postgres_database("diptych_tests")
    django.setup()
    # whitenoise warns when STATIC_ROOT was never collected; irrelevant to these tests.
    config.addinivalue_line("filterwarnings", "ignore:No directory at:UserWarning")
