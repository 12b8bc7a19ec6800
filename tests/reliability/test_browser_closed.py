"""A browser closed mid-pass: a coder codes posts, one label waits in the browser's queue
(server unreachable), the browser is closed without any goodbye; on reopening, every label
the server acknowledged is there and the queued one is re-sent. Real headless Chromium with a
persistent profile (its localStorage and cookies survive the close, as a desktop browser's)."""
import os
import shutil

import pytest
from django.db import connections

from annotation.models import Assignment, PostCode
from tests.annotation.browsing import (CHROMIUM,  # noqa: F401  (autouse fixture below)
                                      close_connections_after_each_request, ready, theme_of,
                                      type_theme, wait_saved)

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
pytestmark = [pytest.mark.django_db(transaction=True),
              pytest.mark.skipif(not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM),
                                 reason="Debian's chromium is not installed")]


@pytest.fixture(autouse=True)
def allow_orm_in_playwrights_loop(monkeypatch):
    # Playwright's sync API runs an event loop; set per test (another browser test of the
    # suite removes the variable when it ends).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def _wait_for_codes(page, coder, n, timeout_s=15):
    """Until the server holds n text-pass codes of the coder. The save indicator alone can read
    "0 pending" before a keystroke's label is even queued (a new theme is created first)."""
    for _ in range(int(timeout_s * 10)):
        if PostCode.objects.filter(coder=coder, pass_name="text").count() >= n:
            return
        page.wait_for_timeout(100)


def test_browser_closed_mid_pass(validation_round, users, live_server, client, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        try:
            _close_and_reopen(p, validation_round, users, live_server, client, tmp_path)
        finally:
            # ORM calls made while Playwright's loop runs get their own connection (asgiref's
            # context-local storage): close it inside the loop, or it blocks dropping the DB.
            connections.close_all()


def _close_and_reopen(p, validation_round, users, live_server, client, tmp_path):
    coder = users["coder"]
    mine = Assignment.objects.filter(coder=coder).values_list("cluster_sample_id", flat=True)
    sample = validation_round.samples.filter(pk__in=mine, is_calibration=False).first()
    url = f"{live_server.url}/code/c/{sample.public_id}/text/"
    profile = tmp_path / "profile"
    client.force_login(coder)

    context = p.chromium.launch_persistent_context(str(profile), executable_path=CHROMIUM,
                                                   headless=True, args=ARGS)
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                          "url": live_server.url, "expires": 2_000_000_000}])
    page = context.new_page()
    page.goto(url)
    ready(page, "text")
    type_theme(page, "Protest at office")                 # the cluster's common theme
    page.keyboard.press(" ")                               # post 1 = common
    type_theme(page, "Flood rescue")                      # post 2
    _wait_for_codes(page, coder, 2)
    wait_saved(page)
    acknowledged = set(PostCode.objects.filter(coder=coder, pass_name="text")
                       .values_list("sampled_post__public_id", "theme__name"))
    assert len(acknowledged) == 2
    page.route("**/api/annotation/posts/**", lambda route: route.abort())
    page.keyboard.press("1")                               # post 3 = most recent theme: queued
    page.wait_for_function(
        "document.getElementById('save-status').textContent.includes('Offline')")
    assert PostCode.objects.filter(coder=coder, pass_name="text").count() == 2
    context.close()                                        # closed mid-pass, label still queued

    context = p.chromium.launch_persistent_context(str(profile), executable_path=CHROMIUM,
                                                   headless=True, args=ARGS)
    page = context.new_page()
    page.goto(url)
    ready(page, "text")
    _wait_for_codes(page, coder, 3)                        # the queue is re-sent
    wait_saved(page)
    assert [theme_of(page, i) for i in (1, 2, 3)] == [
        "Protest at office", "Flood rescue", "Flood rescue"]
    saved = set(PostCode.objects.filter(coder=coder, pass_name="text")
                .values_list("sampled_post__public_id", "theme__name"))
    assert acknowledged < saved and len(saved) == 3
    assert all(c.version == 1 for c in PostCode.objects.filter(coder=coder))
    page.goto("about:blank")   # no request left in flight on the live server
    context.close()
