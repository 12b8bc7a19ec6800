"""The comparison table on a laptop screen (1366 x 768, Debian's Chromium): no header cell is
covered by another (the "Chosen" column is not pinned over the others), the table fits its box or
fits once its column groups are folded, and folding hides exactly that group's columns."""
import pytest

from tests.annotation.browsing import (artefacts, browser,  # noqa: F401  (fixtures)
                                       close_connections_after_each_request, logged_in_page,
                                       shoot)

pytestmark = pytest.mark.django_db(transaction=True)

# Per header cell of the column row: its box, and whether the element drawn at its centre is
# that cell (or inside it) — another cell pinned over it would be drawn there instead.
HEADER_GEOMETRY = """() => {
  const cells = [...document.querySelectorAll('#comparison thead tr:last-child th')]
    .filter(th => th.offsetParent !== null);
  const boxes = cells.map(th => { const r = th.getBoundingClientRect();
    return {name: th.dataset.column, left: r.left, right: r.right, top: r.top,
            bottom: r.bottom}; });
  cells.forEach((th, i) => {
    th.scrollIntoView({block: 'center', inline: 'center'});
    const r = th.getBoundingClientRect();
    boxes[i].onTop = th.contains(document.elementFromPoint(r.left + r.width / 2,
                                                           r.top + r.height / 2));
  });
  return boxes;
}"""
FITS = """() => { const box = document.querySelector('#comparison-box .scroll');
  return {scroll: box.scrollWidth, client: box.clientWidth}; }"""


def overlapping(cells):
    pairs = []
    for i, a in enumerate(cells):
        for b in cells[i + 1:]:
            if (min(a["right"], b["right"]) - max(a["left"], b["left"]) > 0.5 and
                    min(a["bottom"], b["bottom"]) - max(a["top"], b["top"]) > 0.5):
                pairs.append((a["name"], b["name"]))
    return pairs


@pytest.fixture(autouse=True)
def orm_beside_playwright(monkeypatch):
    """Playwright's sync API runs an event loop; the page's login and the live server use the
    ORM beside it."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def every_group(scored_run, coded):
    """The coded run with a value in every column group (the fixture's metrics lack stability)."""
    for solution in scored_run.solutions.all():
        solution.metrics = {**solution.metrics, "stability_ari_mean": 0.91234}
        solution.save(update_fields=["metrics"])
    return scored_run.project


def test_comparison_table_fits_a_laptop_screen(every_group, users, client, live_server,
                                               browser, artefacts):  # noqa: F811
    project = every_group
    page = logged_in_page(browser, client, live_server, users["pi"], width=1366, height=768)
    page.goto(f"{live_server.url}/scoring/projects/{project.pk}/compare/")
    page.locator("#comparison").scroll_into_view_if_needed()
    shoot(page, artefacts, "comparison-1366")
    cells = page.evaluate(HEADER_GEOMETRY)
    names = [c["name"] for c in cells]
    assert names[:2] == ["solution_id", "chosen"] and "alpha_joint" in names
    assert not overlapping(cells), overlapping(cells)
    assert all(c["onTop"] for c in cells), [c["name"] for c in cells if not c["onTop"]]

    width = page.evaluate(FITS)
    print(f"\ncomparison table at 1366 px: {width['scroll']} px wide in a {width['client']} px box")
    groups = page.locator("#comparison-box .fold-controls input[data-fold]")
    assert groups.count() == 4        # machine metrics, known groups, consistency, α
    folded = 0
    while width["scroll"] > width["client"] + 1 and folded < groups.count():
        group = groups.nth(folded).get_attribute("data-fold")
        in_group = page.locator(f'#comparison [data-group="{group}"]')
        assert in_group.first.is_visible()
        groups.nth(folded).uncheck()
        assert all(not in_group.nth(i).is_visible() for i in range(in_group.count()))
        folded += 1
        width = page.evaluate(FITS)
    assert width["scroll"] <= width["client"] + 1, width
    print(f"fits after folding {folded} group(s)")
    cells = page.evaluate(HEADER_GEOMETRY)
    assert not overlapping(cells) and all(c["onTop"] for c in cells)
    chosen = page.locator("#comparison thead th[data-column='chosen']").bounding_box()
    assert 0 <= chosen["x"] and chosen["x"] + chosen["width"] <= 1366
    assert not page.errors, page.errors
