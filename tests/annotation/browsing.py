"""Helpers for the coder/PI workflow browser tests: a logged-in Chromium page and screenshots
kept as test artefacts.

Screenshots go to ``test-artifacts/`` at the repository root (ignored by git; override with
DIPTYCH_TEST_ARTIFACTS), so they outlive pytest's temporary folders; each path is printed.
"""
import os
from pathlib import Path

import pytest
from django.db import connections

# The Chromium launch, the per-request connection closing and the keyboard helpers are the
# ones of the first browser test (re-exported here as fixtures of the importing module).
from tests.annotation.test_browser import (CHROMIUM, browser,  # noqa: F401
                                           close_connections_after_each_request, ready,
                                           theme_of, type_theme, wait_saved)

ARTIFACTS = Path(os.environ.get("DIPTYCH_TEST_ARTIFACTS",
                                Path(__file__).resolve().parents[2] / "test-artifacts"))


@pytest.fixture
def artefacts(request):
    folder = ARTIFACTS / request.node.name
    folder.mkdir(parents=True, exist_ok=True)
    yield folder
    # ORM calls made while Playwright's loop runs get their own connection: close it, or it
    # would block dropping the test database.
    connections.close_all()


def shoot(page, folder, name):
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    print(f"screenshot: {path}")
    return path


def logged_in_page(browser, client, live_server, user, width=1280, height=1000):
    client.force_login(user)
    context = browser.new_context(viewport={"width": width, "height": height})
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                          "url": live_server.url}])
    page = context.new_page()
    page.errors = collect_errors(page)
    return page


def collect_errors(page):
    """The page's uncaught script errors, collected in a list the test asserts empty."""
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def pass_count(page):
    return page.locator("#pass-count").inner_text()
