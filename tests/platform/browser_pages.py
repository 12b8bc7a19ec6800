"""The platform's browser tests share this: a Chromium page under Playwright beside the live
server (the `browser_page` fixture, import it into the test module), full-page screenshots under
var/test-artifacts/browser/, and a check that lazy images load."""
import os
import threading
from pathlib import Path

import pytest

from tests.annotation.browsing import CHROMIUM

ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "test-artifacts" / "browser"
RUN_TIMEOUT_MS = 240_000   # a run started from the browser, to its dashboard link


def assert_images_load(page, selector):
    """Every image under ``selector`` loads. They are lazy (loading="lazy"), so each is scrolled
    into view first: Chromium fetches an off-screen lazy image only when it nears the viewport."""
    # count() does not wait: right after a click the new page may still be parsing (an
    # element above the images already there), so the whole document is awaited first.
    page.wait_for_load_state("domcontentloaded")
    images = page.locator(selector)
    assert images.count() > 0, f"no {selector} on {page.url}"
    for i in range(images.count()):
        image = images.nth(i)
        image.scroll_into_view_if_needed()
        try:
            page.wait_for_function("img => img.complete && img.naturalWidth > 0",
                                   arg=image.element_handle(), timeout=15_000)
        except Exception:
            pytest.fail(f"{selector} #{i} did not load: {image.get_attribute('src')}")


@pytest.fixture
def browser_page(live_server, settings):
    sync_api = pytest.importorskip("playwright.sync_api")
    # Playwright's sync API runs an event loop in this thread; the ORM calls of the test
    # itself are still synchronous, so Django's async-safety guard does not apply.
    unsafe_before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    settings.DIPTYCH_RUNS_IN_THREAD = True  # the run executes beside the live server
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(30_000)
        try:
            yield page
        finally:
            browser.close()
            # Put back what was there: other browser modules set it for their whole run.
            if unsafe_before is None:
                os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
            else:
                os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = unsafe_before
            # Keep-alive request threads close their database connections when the browser
            # hangs up; wait for them so the test database can be dropped.
            for thread in threading.enumerate():
                if "process_request_thread" in thread.name or thread.name.startswith("engine-run-"):
                    thread.join(timeout=10)


def shot(page, name):
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
