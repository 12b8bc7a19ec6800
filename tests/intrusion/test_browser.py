"""A coder answers a whole intrusion set in real headless Chromium (Debian's), keyboard only:
picks with the digit keys, one "unsure", a reload that resumes at the first open task, an
answer kept in the browser while the server is unreachable, lead times recorded; then the round
is closed and a pick is refused, never lost."""
import os
import time

import pytest
from django.db import connections

from annotation.intrusion_models import IntrusionAnswer, IntrusionAssignment
from annotation.services.intrusion import create_round_with_tasks
from tests.annotation.browsing import (CHROMIUM, browser,  # noqa: F401
                                      close_connections_after_each_request)

from .conftest import BY_IMAGE

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop
pytestmark = [pytest.mark.django_db(transaction=True),
              pytest.mark.skipif(not os.path.exists(CHROMIUM),
                                 reason="Debian's chromium is not installed")]


def wait_saved(page):
    page.wait_for_function(
        "document.getElementById('save-status').dataset.pending === '0'", timeout=15000)


def wait_stored(task, version=1):
    """Until the server holds the task's answer at ``version``: the page's pending count may not
    have risen yet right after the key press, so waiting on it alone races the save."""
    deadline = time.monotonic() + 15
    while not IntrusionAnswer.objects.filter(task=task, version__gte=version).exists():
        assert time.monotonic() < deadline, "the answer never reached the server"
        time.sleep(0.05)


def current_task(page):
    return page.locator("#intrusion").get_attribute("data-task")


def test_keyboard_codes_a_whole_intrusion_set(project, intrusion_solutions, users, live_server,
                                              browser, client, tmp_path):  # noqa: F811
    solutions = [s for s in intrusion_solutions if s.solution_id == BY_IMAGE]
    validation_round = create_round_with_tasks(
        project, solutions, name="odd one out", created_by=users["pi"], seed=4,
        posts_per_cluster=3, calibration_clusters=0, consistency=False,
        intrusion_kinds=["term", "image"], coders=[users["coder"]])
    tasks = {t.public_id: t for t in validation_round.intrusion_tasks.all()}
    n = len(tasks)
    assert n >= 10 and IntrusionAssignment.objects.filter(coder=users["coder"]).count() == n
    try:
        _code(validation_round, tasks, users, live_server, browser, client, tmp_path)
    finally:
        connections.close_all()


def _code(validation_round, tasks, users, live_server, browser, client, tmp_path):
    n = len(tasks)
    client.force_login(users["coder"])
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                          "url": live_server.url}])
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    page.goto(f"{live_server.url}/code/")
    page.click(f"#intrusion-work a[href='/code/intrusion/rounds/{validation_round.pk}/']")
    page.wait_for_selector("html[data-coding-ready='1']")
    html = page.content()
    for leak in ("kmeans", "label-", "is_intruder", ".jpg", *{i.pair_id for t in tasks.values()
                                                              for i in t.items.all() if i.pair_id}):
        assert leak not in html, leak

    answered = {}
    for step in range(n):
        task = tasks[current_task(page)]
        assert page.locator("#choices .choice").count() == 6
        if task.kind == "image":
            assert page.locator("#choices img").count() == 6
        else:
            assert page.locator("#choices .term").count() == 6
        page.wait_for_timeout(150)                            # a measurable lead time
        if step == 6:                                         # the server is away for one answer
            page.route("**/api/annotation/intrusion/**", lambda route: route.abort())
        if step == 2:
            page.keyboard.press("u")                          # unsure
            answered[task.public_id] = None
        else:
            pick = task.intruder_position if step % 2 == 0 else task.intruder_position % 6 + 1
            page.keyboard.press(str(pick))
            answered[task.public_id] = pick
        if step == 4:                                         # reload: resume at the next open task
            wait_stored(task)
            wait_saved(page)
            page.reload()
            page.wait_for_selector("html[data-coding-ready='1']")
            assert current_task(page) not in answered
            continue
        if step == 6:
            page.wait_for_function(
                "document.getElementById('save-status').textContent.includes('Offline')")
            assert not IntrusionAnswer.objects.filter(task=task).exists()
            page.unroute("**/api/annotation/intrusion/**")
            page.reload()                                     # the queued answer survives
            page.wait_for_selector("html[data-coding-ready='1']")
            wait_saved(page)
            assert IntrusionAnswer.objects.filter(task=task).exists()
            continue
        if step < n - 1:
            page.wait_for_function(f"document.getElementById('intrusion').dataset.task !== "
                                   f"'{task.public_id}'")
    wait_saved(page)
    try:
        page.wait_for_selector("#done-note:not([hidden])", timeout=15000)
    except Exception:   # say what the page shows, not only that it timed out
        raise AssertionError(f"{page.locator('#task-count').inner_text()}, "
                             f"{page.locator('#save-status').inner_text()}, "
                             f"{len(answered)} of {n} pressed, errors {errors}") from None
    if page.locator("#choices img").count():                   # served by opaque id, and load
        page.wait_for_function("[...document.querySelectorAll('#choices img')]"
                               ".every((img) => img.complete && img.naturalWidth > 0)")
    shot = tmp_path / "intrusion-done.png"
    page.screenshot(path=str(shot))
    print(f"screenshot: {shot}")

    saved = {a.task.public_id: a for a in IntrusionAnswer.objects.filter(
        coder=users["coder"]).select_related("task")}
    assert set(saved) == set(tasks) == set(answered)
    for public_id, pick in answered.items():
        answer = saved[public_id]
        assert (answer.choice, answer.unsure) == (pick, pick is None)
        assert answer.lead_time_s is not None and 0.1 <= answer.lead_time_s < 60
    assert page.locator("#task-count").inner_text() == f"{n} / {n} answered"

    # going back and changing an answer: a versioned update
    page.keyboard.press("p")
    previous = current_task(page)
    new_pick = saved[previous].choice % 6 + 1 if saved[previous].choice else 1
    page.keyboard.press(str(new_pick))
    wait_stored(tasks[previous], version=2)
    wait_saved(page)
    changed = IntrusionAnswer.objects.get(task__public_id=previous, coder=users["coder"])
    assert (changed.choice, changed.version) == (new_pick, 2)

    # the round closes while the page is open: the pick is refused (423) and the page shows
    # the stored answer again; after a reload keys do nothing and say why
    validation_round.status = "closed"
    validation_round.save()
    shown = current_task(page)
    before = IntrusionAnswer.objects.get(task__public_id=shown, coder=users["coder"]).choice
    other = 1 if before != 1 else 2
    page.keyboard.press(str(other))
    page.wait_for_function("document.getElementById('save-status').textContent"
                           ".includes('closed')")
    assert page.locator("#choices .choice.picked").get_attribute("data-position") == str(before)
    assert page.evaluate("JSON.parse(localStorage.getItem("
                         f"'diptych.intrusion.rejected.v1.u{users['coder'].pk}'))[0].status") == 423
    page.reload()
    page.wait_for_selector("html[data-coding-ready='1']")
    page.keyboard.press(str(other))
    assert "read-only" in page.locator("#save-status").inner_text()
    assert IntrusionAnswer.objects.get(task__public_id=shown, coder=users["coder"]).choice == before
    assert not errors, errors
    context.close()
