"""In real headless Chromium: the dashboard's AMI card, K table and S_Dbw matrix as a PI sees
them (Debian's chromium through Playwright; fixtures shared with test_browser)."""
import pytest

from .browser_pages import CHROMIUM, browser_page, shot  # noqa: F401  (fixture)

pytestmark = [pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(),
                                 reason=f"no Chromium at {CHROMIUM}")]


def test_dashboard_ami_card_k_table_and_space_matrix(users, stored_run, live_server,
                                                     browser_page):  # noqa: F811
    page = browser_page
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "pi")
    page.fill("input[name=password]", "pw-pi")
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/runs/{stored_run.pk}/dashboard/")

    card = page.locator("#ami-card")
    assert card.is_visible()
    text = card.inner_text()
    assert "AMI =" in text and "the less joint clustering should add" in text
    assert "0.029 on CASM" in text and "0.166 on BU-NEmo" in text
    assert "project's own convention" in text and "permutation null" in text
    assert "Normalisation: max" in text

    notice = page.locator("#run-notice-1")
    assert notice.is_visible() and "no joint embedding" in notice.inner_text()
    assert notice.bounding_box()["y"] < card.bounding_box()["y"]   # said up front

    k_rows = page.locator("#k-table tbody tr")
    methods = {k_rows.nth(i).locator("td").nth(0).inner_text() for i in range(k_rows.count())}
    assert methods == {"text", "label", "vector", "cca"}
    chosen = page.locator("#k-table tbody tr.chosen")
    assert chosen.count() == 4 and all("★ chosen" in chosen.nth(i).inner_text()
                                       for i in range(chosen.count()))
    for i in range(k_rows.count()):   # a flagged row says why
        row = k_rows.nth(i)
        if "rose" in (row.get_attribute("class") or ""):
            assert "S_Dbw rose" in row.inner_text()

    headers = page.locator("#space-matrix thead th").all_inner_texts()
    assert headers == ["Solution", "text space", "label space", "vector space", "cca space"]
    rows = page.locator("#space-matrix tbody tr")
    assert rows.count() == stored_run.solutions.filter(kind="combined").count() > 0
    for i in range(rows.count()):
        cells = rows.nth(i).locator("td")
        sid = cells.nth(0).inner_text()
        own = [j for j in range(1, cells.count()) if "●" in cells.nth(j).inner_text()]
        assert [headers[j].split()[0] for j in own] == [sid.split("-")[0]], sid
        assert cells.nth(own[0]).locator(".flag.own").count() == 1   # the ● marks its own
    shot(page, "readings-dashboard")
