"""The production configuration is clean: ``manage.py check --deploy`` with the production
variables prints no issue (a real secret key; ``x`` is rightly reported as too weak), and the
deploy/ files parse."""
import configparser
import os
import secrets
import subprocess
import sys

from .conftest import REPO

PRODUCTION = {"DJANGO_DEBUG": "0", "DATABASE_URL": "postgres:///diptych",
              "REDIS_URL": "redis://127.0.0.1:6379/0"}


def _manage(*args, **env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DIPTYCH_"))}
    clean.pop("DATABASE_URL", None)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=120, env={**clean, **PRODUCTION, **env})


def test_check_deploy_is_clean_with_a_real_key():
    result = _manage("check", "--deploy", "--fail-level", "WARNING",
                     DJANGO_SECRET_KEY=secrets.token_urlsafe(50))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
    weak = _manage("check", "--deploy", DJANGO_SECRET_KEY="x")
    assert "security.W009" in weak.stdout + weak.stderr  # the only thing a weak key changes
    assert (weak.stdout + weak.stderr).count("(security.") == 1


def test_openapi_schema_has_no_warnings():
    result = _manage("spectacular", "--validate", "--fail-on-warn", "--file", os.devnull,
                     DJANGO_SECRET_KEY=secrets.token_urlsafe(50))
    assert result.returncode == 0, result.stdout + result.stderr


def test_deploy_files_parse():
    result = subprocess.run([sys.executable, "-m", "gunicorn", "--check-config", "-c",
                             "deploy/gunicorn.conf.py", "diptych.wsgi:application"], cwd=REPO,
                            capture_output=True, text=True, timeout=120,
                            env={**os.environ, "DJANGO_SETTINGS_MODULE": "diptych.settings"})
    assert result.returncode == 0, result.stdout + result.stderr
    for unit in (REPO / "deploy" / "systemd").glob("*.service"):
        parser = configparser.ConfigParser(strict=False, interpolation=None)
        parser.read(unit)
        assert {"Unit", "Service", "Install"} <= set(parser.sections()), unit
        assert "EnvironmentFile" in parser["Service"] and "ExecStart" in parser["Service"], unit
    example = (REPO / "deploy" / "diptych.env.example").read_text()
    for name in ("DJANGO_SECRET_KEY", "DATABASE_URL", "REDIS_URL", "DIPTYCH_MEDIA_ROOT",
                 "DIPTYCH_EMBEDDING_CACHE", "DIPTYCH_EMBEDDING_QUEUE", "DIPTYCH_CELERY_QUEUE"):
        assert f"\n{name}=" in example, name
