"""A coder codes a whole cluster through the three passes in real headless Chromium, keyboard
only; reloads mid-pass and finds every label (also one still queued in the browser while the
server was unreachable); cannot reach a cluster not assigned. A screenshot is saved under a
temporary artefacts folder (path printed)."""
import os
import shutil

import pytest
from django.db import connections

from annotation.models import Assignment, ClusterCode, PostCode

from .browsing import (CHROMIUM, browser,  # noqa: F401  (fixtures of this module)
                       close_connections_after_each_request, ready, theme_of, type_theme,
                       wait_saved)

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop

pytestmark = [pytest.mark.django_db(transaction=True),
              pytest.mark.skipif(not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM),
                                 reason="Debian's chromium is not installed")]


def test_keyboard_coding_three_passes(validation_round, users, coder2, live_server, browser,
                                      client, tmp_path_factory):
    try:
        _code_a_cluster(validation_round, users, coder2, live_server, browser, client,
                        tmp_path_factory)
    finally:
        # ORM calls made while Playwright's loop runs get their own connection (asgiref's
        # context-local storage): close it, or it would block dropping the test database.
        connections.close_all()


def _code_a_cluster(validation_round, users, coder2, live_server, browser, client,
                    tmp_path_factory):
    coder = users["coder"]
    mine = set(Assignment.objects.filter(coder=coder).values_list("cluster_sample_id", flat=True))
    theirs = Assignment.objects.filter(coder=coder2).exclude(cluster_sample_id__in=mine).first()
    sample = validation_round.samples.filter(pk__in=mine, is_calibration=False).first()
    n = sample.posts.count()
    assert n >= 3

    client.force_login(coder)
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                          "url": live_server.url}])
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    artefacts = tmp_path_factory.mktemp("artefacts")

    # not assigned: 404, in the browser too
    response = page.goto(f"{live_server.url}/code/c/{theirs.cluster_sample.public_id}/")
    assert response.status == 404

    page.goto(f"{live_server.url}/code/c/{sample.public_id}/")
    ready(page, "text")
    assert page.locator("#items img").count() == 0           # images hidden in the text pass
    assert page.locator("#items .post-text").count() == n
    assert "kmeans" not in page.content().lower()
    # text pass: common theme, then posts by "common", recent digits and typing
    type_theme(page, "Protest at office")
    assert theme_of(page, 0) == "Protest at office"
    page.keyboard.press(" ")                                  # post 1 = common
    type_theme(page, "Flood rescue")                          # post 2 = new theme
    page.keyboard.press("2")                                  # post 3 = 2nd recent = Protest…
    for _ in range(n - 3):
        page.keyboard.press("c")
    wait_saved(page)
    assert [theme_of(page, i) for i in range(1, 4)] == [
        "Protest at office", "Flood rescue", "Protest at office"]
    page.keyboard.press("n")

    # image pass: texts hidden; reload mid-pass finds every label
    ready(page, "image")
    assert page.locator("#items .post-text").count() == 0
    assert page.locator("#items img").count() >= 1
    type_theme(page, "Crowd in street")
    page.keyboard.press(" ")
    type_theme(page, "Police line")
    wait_saved(page)
    page.reload()
    ready(page, "image")
    assert [theme_of(page, i) for i in range(0, 3)] == ["Crowd in street", "Crowd in street",
                                                         "Police line"]
    assert page.evaluate("document.querySelector('.item.selected').dataset.index") == "3"
    # the server is unreachable for a while: the label waits in the browser, survives a reload
    page.route("**/api/annotation/posts/**", lambda route: route.abort())
    page.keyboard.press("1")                                  # post 3 = Police line (recent 1)
    page.wait_for_function("document.getElementById('save-status').textContent.includes('Offline')")
    assert PostCode.objects.filter(coder=coder, pass_name="image").count() == 2
    page.unroute("**/api/annotation/posts/**")
    page.reload()
    ready(page, "image")
    assert theme_of(page, 3) == "Police line"
    wait_saved(page)
    assert PostCode.objects.filter(coder=coder, pass_name="image").count() == 3
    # zoom: on a post that has an image (the sample may hold posts without one), then back
    selected = int(page.evaluate("document.querySelector('.item.selected').dataset.index"))
    with_image = int(page.evaluate(
        "[...document.querySelectorAll('#items .item')]"
        ".find((el) => el.querySelector('img[data-zoom]')).dataset.index"))
    step = "ArrowDown" if with_image > selected else "ArrowUp"
    for _ in range(abs(with_image - selected)):
        page.keyboard.press(step)
    page.keyboard.press("z")
    page.wait_for_selector("#zoom:not([hidden])")
    page.keyboard.press("Escape")
    page.wait_for_selector("#zoom", state="hidden")
    for _ in range(abs(with_image - selected)):
        page.keyboard.press("ArrowUp" if step == "ArrowDown" else "ArrowDown")
    assert page.evaluate("document.querySelector('.item.selected').dataset.index") == str(selected)
    for _ in range(n - 3):
        page.keyboard.press(" ")
    wait_saved(page)
    page.keyboard.press("n")

    # joint pass: texts and images together
    ready(page, "joint")
    assert page.locator("#items .post-text").count() == n
    type_theme(page, "Protest")
    for _ in range(n):
        page.keyboard.press(" ")
    wait_saved(page)
    shot = artefacts / "coding-joint-pass.png"
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(shot))
    print(f"screenshot: {shot}")
    page.keyboard.press("n")
    page.wait_for_url(lambda url: "/joint/" not in url, timeout=15000)
    assert not errors, errors

    codes = PostCode.objects.filter(coder=coder, cluster_sample=sample)
    assert codes.count() == 3 * n
    assert ClusterCode.objects.filter(coder=coder, cluster_sample=sample).count() == 3
    assert set(codes.filter(pass_name="joint").values_list("theme__name", flat=True)) == {"Protest"}
    assert codes.filter(pass_name="text", theme__name="Flood rescue").count() == 1
    assert all(c.version == 1 for c in codes)
    context.close()
