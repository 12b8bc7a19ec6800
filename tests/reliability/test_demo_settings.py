"""The embedded default (``make demo``) runs with DEBUG off over plain http on localhost, with a
random secret key made on first start and kept under var/; DEBUG only when asked for."""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import django, json
django.setup()
from django.conf import settings as s
from django.test import Client
page = Client(HTTP_HOST="127.0.0.1").get("/no-such-page/")
print(json.dumps({"debug": s.DEBUG, "key": s.SECRET_KEY, "secure_cookie": s.SESSION_COOKIE_SECURE,
                  "ssl_redirect": s.SECURE_SSL_REDIRECT, "status": page.status_code,
                  "page": page.content.decode()}))
"""


def _embedded(var_dir: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DJANGO_", "DIPTYCH_", "DATABASE_", "REDIS_"))}
    env.update(DJANGO_SETTINGS_MODULE="diptych.settings", DIPTYCH_VAR_DIR=str(var_dir), **extra)
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_demo_runs_without_debug_and_with_its_own_random_secret(tmp_path):
    first = _embedded(tmp_path / "a")
    assert first["debug"] is False
    # plain http on localhost still works: no HTTPS-only cookies, no redirect to https
    assert first["secure_cookie"] is False and first["ssl_redirect"] is False
    # a 404 is a plain page: no URL conf, settings or paths
    assert first["status"] == 404
    assert "URLconf" not in first["page"] and "api/annotation" not in first["page"]
    assert str(ROOT) not in first["page"]
    key_file = tmp_path / "a" / "secret_key"
    assert key_file.read_text().strip() == first["key"] and len(first["key"]) >= 50
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert "insecure" not in first["key"]
    # kept: the next start reads the same key (sessions survive a restart) …
    assert _embedded(tmp_path / "a")["key"] == first["key"]
    # … and another installation gets another one
    assert _embedded(tmp_path / "b")["key"] != first["key"]
    # DEBUG only when asked for
    assert _embedded(tmp_path / "a", DJANGO_DEBUG="1")["debug"] is True
