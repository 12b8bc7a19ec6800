"""Helpers for the browser tests: Debian's Chromium under Playwright (the `browser` fixture),
per-request connection closing, the coding page's keyboard helpers, a logged-in page and
screenshots kept as test artefacts. A test module imports the fixtures it uses from here.

Screenshots go to ``test-artifacts/`` at the repository root (ignored by git; override with
DIPTYCH_TEST_ARTIFACTS), so they outlive pytest's temporary folders; each path is printed.
"""
import os
from pathlib import Path

import pytest
from django.db import connections

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(autouse=True)
def close_connections_after_each_request():
    """The live server answers in threads; settings keep connections 60 s (CONN_MAX_AGE), which
    would leave idle sessions that block dropping the test database. Close them per request."""
    settings_dict = connections.settings["default"]
    old = settings_dict.get("CONN_MAX_AGE", 0)
    settings_dict["CONN_MAX_AGE"] = 0
    yield
    settings_dict["CONN_MAX_AGE"] = old


@pytest.fixture
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--no-sandbox", "--disable-gpu",
                                          "--disable-background-networking"])
        yield browser
        browser.close()


def theme_of(page, index):
    return page.locator(f'#items .item[data-index="{index}"] [data-role="theme"]').inner_text()


def wait_saved(page):
    page.wait_for_function(
        "document.getElementById('save-status').dataset.pending === '0'", timeout=15000)


def ready(page, pass_name):
    page.wait_for_url(f"**/{pass_name}/", timeout=15000)
    page.wait_for_selector("html[data-coding-ready='1']", timeout=15000)


def type_theme(page, name):
    page.keyboard.press("Enter")
    page.wait_for_selector("#theme-input:focus")
    page.keyboard.type(name)
    page.keyboard.press("Enter")


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
