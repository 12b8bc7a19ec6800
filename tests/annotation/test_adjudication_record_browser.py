"""Adjudication you can trust, in headless Chromium: a decision typed and sent with Enter, one
accepted by digit key and one by clicking Accept each store exactly that theme with who decided,
the options the row showed and the note — in the database and in the export's
codebook/adjudications.csv; a decision revised and undone keeps its whole history on the page.

The row: coder ("coder 1" on the page, usernames in order) gave "Protest", coder2 "Flood", for
the first post and for the common theme of the text pass."""
import json
import os
import shutil
import zipfile

import pandas as pd
import pytest

from annotation.models import Adjudication, AdjudicationHistory, Theme
from annotation.services.coding import save_cluster_code
from scoring.models import ExportJob
from scoring.services.exports import run_export

from .browsing import (artefacts, browser, close_connections_after_each_request,  # noqa: F401
                       logged_in_page, shoot)

CHROMIUM = "/usr/bin/chromium"
pytestmark = [pytest.mark.django_db(transaction=True),
              pytest.mark.skipif(not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM),
                                 reason="Debian's chromium is not installed")]

OPTIONS = [{"coder": "coder", "theme": "Protest"}, {"coder": "coder2", "theme": "Flood"}]


@pytest.fixture
def row(scored_run, coded, coder2):
    """The coded cluster with its common theme disagreeing too: (sample, its first post)."""
    sample, posts = coded
    flood = Theme.objects.get(project=sample.round.project, modality="text", name="Flood")
    save_cluster_code(sample, coder2, "text", flood, 1)
    return sample, posts[0]


@pytest.fixture(autouse=True)
def orm_beside_playwright(monkeypatch):
    """Playwright's sync API runs an event loop in the test's thread; the test's ORM calls are
    synchronous all the same."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def open_page(browser, client, live_server, pi, validation_round):
    page = logged_in_page(browser, client, live_server, pi)
    page.goto(f"{live_server.url}/code/rounds/{validation_round.pk}/adjudicate/")
    ready(page)
    return page


def ready(page):
    page.wait_for_selector("html[data-adjudicate-ready='1']")


def submits(page, act):
    """``act`` sends a decision: wait for the page the server redirects back to."""
    with page.expect_navigation():
        act()
    ready(page)


def focused_cell(page):
    """The first cell's text of the focused row ("Common theme" or the post's text)."""
    return page.evaluate("() => document.activeElement.closest('tr').cells[0].innerText.trim()")


def exported_decisions(project, user) -> pd.DataFrame:
    """codebook/adjudications.csv of a real export (the job a PI starts, run here at once)."""
    job = ExportJob.objects.create(project=project, created_by=user, stage="queued")
    job = run_export(job.pk)
    job.refresh_from_db()
    assert job.status == "succeeded", job.error
    with zipfile.ZipFile(job.file_path) as archive:
        with archive.open("codebook/adjudications.csv") as table:
            return pd.read_csv(table, keep_default_na=False, dtype=str)


def assert_stored(decision, theme, pi, note):
    """The stored decision and its exported row say the same, and what the row offered."""
    assert (decision.theme.name, decision.decided_by, decision.note) == (theme, pi, note)
    assert decision.options_shown == OPTIONS
    assert decision.decided_at is not None
    csv = exported_decisions(decision.cluster_sample.round.project, pi)
    post = decision.sampled_post.public_id if decision.sampled_post else ""
    exported = csv[(csv["cluster_sample"] == decision.cluster_sample.public_id)
                   & (csv["post"] == post) & (csv["pass"] == "text")]
    assert len(exported) == 1
    exported = exported.iloc[0]
    assert (exported["theme"], exported["decided_by"], exported["note"]) == (theme, "pi", note)
    assert json.loads(exported["options_shown"]) == OPTIONS
    assert pd.Timestamp(exported["decided_at"]) == pd.Timestamp(decision.decided_at)


def test_enter_in_the_typed_field_stores_the_typed_theme(
        row, validation_round, users, client, live_server, browser, artefacts):
    sample, post = row
    page = open_page(browser, client, live_server, users["pi"], validation_round)
    assert focused_cell(page) == "Common theme"
    page.keyboard.press("n")                                 # the post's row
    assert focused_cell(page) != "Common theme"
    page.keyboard.press("Enter")                             # into the row's theme box
    page.wait_for_selector("form.decide input[name=theme_name]:focus")
    page.keyboard.type("Storm damage")
    shoot(page, artefacts, "typed")
    submits(page, lambda: page.keyboard.press("Enter"))
    decision = Adjudication.objects.get(sampled_post=post, pass_name="text")
    assert_stored(decision, "Storm damage", users["pi"], "")
    assert list(AdjudicationHistory.objects.values_list("action", "theme_name")) == [
        ("created", "Storm damage")]
    assert not page.errors, page.errors


def test_a_digit_accepts_that_coders_theme_with_the_note(
        row, validation_round, users, client, live_server, browser, artefacts):
    sample, post = row
    page = open_page(browser, client, live_server, users["pi"], validation_round)
    page.keyboard.press("n")                                 # the post's row
    post_row = page.locator("tr.dis-row").nth(1)
    post_row.locator("input.note").fill("coder 2 read the caption")   # a post row has a note
    page.keyboard.press("Escape")                            # back to the row
    assert focused_cell(page) != "Common theme"
    submits(page, lambda: page.keyboard.press("2"))
    decision = Adjudication.objects.get(sampled_post=post, pass_name="text")
    assert_stored(decision, "Flood", users["pi"], "coder 2 read the caption")
    shoot(page, artefacts, "accepted-by-digit")
    assert not page.errors, page.errors


def test_clicking_accept_stores_that_coders_theme_with_the_note(
        row, validation_round, users, client, live_server, browser, artefacts):
    sample, post = row
    page = open_page(browser, client, live_server, users["pi"], validation_round)
    common_row = page.locator("tr.dis-row").first
    common_row.locator("input.note").fill("both mean the march")
    common_row.locator("input[name=theme_name]").fill("Typed but not sent")
    submits(page, lambda: common_row.locator(".accept-button").first.click())
    decision = Adjudication.objects.get(cluster_sample=sample, sampled_post=None)
    assert_stored(decision, "Protest", users["pi"], "both mean the march")
    assert not Theme.objects.filter(name="Typed but not sent").exists()
    assert not page.errors, page.errors


def test_a_decision_is_revised_and_undone_with_its_history_kept(
        row, validation_round, users, client, live_server, browser, artefacts):
    sample, post = row
    pi = users["pi"]
    page = open_page(browser, client, live_server, pi, validation_round)
    common = page.locator("tr.dis-row").first
    submits(page, lambda: common.locator(".accept-button").first.click())       # "Protest"
    common = page.locator("tr.dis-row").first
    assert common.get_attribute("data-decided") == "1"
    assert common.locator(".decided").inner_text() == "Protest"
    assert common.locator(".decided-by").inner_text().startswith("by pi, ")
    # revise: another theme and a note, typed in the decided row's box and sent with Enter
    common.locator("input[name=theme_name]").fill("March")
    common.locator("input.note").fill("a march, not a protest")
    common.locator("input[name=theme_name]").focus()
    submits(page, lambda: page.keyboard.press("Enter"))
    common = page.locator("tr.dis-row").first
    assert common.locator(".decided").inner_text() == "March"
    decision = Adjudication.objects.get(cluster_sample=sample, sampled_post=None)
    assert (decision.theme.name, decision.note) == ("March", "a march, not a protest")
    # undo: the row is open again (and has the focus), the history keeps all three steps
    submits(page, lambda: common.locator(".undo-button").click())
    common = page.locator("tr.dis-row").first
    assert common.get_attribute("data-decided") == "0"
    assert focused_cell(page) == "Common theme"
    assert common.locator(".decided").count() == 0
    common.locator("details.decision-history summary").click()
    entries = common.locator("details.decision-history li")
    assert entries.count() == 3
    assert [entries.nth(i).get_attribute("data-action") for i in range(3)] == [
        "created", "revised", "undone"]
    assert "March" in entries.nth(2).inner_text() and "pi" in entries.nth(2).inner_text()
    shoot(page, artefacts, "undone-with-history")
    assert not Adjudication.objects.filter(cluster_sample=sample, sampled_post=None).exists()
    history = AdjudicationHistory.objects.filter(cluster_sample=sample, sampled_post=None)
    assert [(h.action, h.theme_name, h.note, h.acted_by, h.options_shown) for h in history] == [
        ("created", "Protest", "", pi, OPTIONS),
        ("revised", "March", "a march, not a protest", pi, OPTIONS),
        ("undone", "March", "a march, not a protest", pi, OPTIONS)]
    csv = exported_decisions(sample.round.project, pi)
    assert csv[csv["post"] == ""].empty                      # undone: not in the export
    assert not page.errors, page.errors
