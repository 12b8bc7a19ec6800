"""In real headless Chromium, a PI reads the dashboard and a gallery: the co-occurrence
heatmap and the AMI card each say their K_t × K_i (and agree where they meet), gallery search
shows the matching posts highlighted, and each gallery reads as HTML thumbnails with captions
beside a link to its full-size figure. Screenshots go to test-artifacts/ (kept)."""
import re
from pathlib import Path

import pandas as pd
import pytest

from clustering_engine import figures, metrics
from projects.templatetags.diptych import highlight
from tests.annotation.browsing import ARTIFACTS, shoot

from .browser_pages import CHROMIUM, browser_page  # noqa: F401  (fixture)

browser_only = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no Chromium at {CHROMIUM}")


def test_highlight_escapes_the_text_then_marks_each_match():
    assert highlight('<b>Flood</b> & FLOOD "flood"', "flood") == (
        '&lt;b&gt;<mark>Flood</mark>&lt;/b&gt; &amp; <mark>FLOOD</mark> '
        '&quot;<mark>flood</mark>&quot;')
    assert highlight("a+b (c)", "+b (") == "a<mark>+b (</mark>c)"   # the query is literal
    assert highlight("<i>", "") == "&lt;i&gt;"


def test_heatmap_title_names_its_grid_point_and_normalisation():
    co = metrics.cooccurrence([0, 0, 1, 1, 2, 2, 2], [1, 1, 0, 0, 0, 2, 2])
    title = figures.plot_cooccurrence_heatmap(co, 0.115, 6, 6, "max").axes[0].get_title()
    assert "K_t \u00d7 K_i = 6 \u00d7 6" in title and "AMI = 0.115 (max normalisation)" in title


def _login(page, url):
    page.goto(f"{url}/accounts/login/")
    page.fill("input[name=username]", "pi")
    page.fill("input[name=password]", "pw-pi")
    page.click("button[type=submit]")


def _grid(text):
    return [tuple(map(int, m)) for m in re.findall(r"K_t × K_i = (\d+) × (\d+)", text)]


def _frequent_query(stored_run, solution):
    """A word found in more than 5 texts of one cluster (so that cluster's list is capped)."""
    out = stored_run.output_dir
    pairs = pd.read_parquet(f"{out}/pairs.parquet", columns=["text"])
    labels = pd.read_parquet(f"{out}/labels.parquet", columns=[solution.solution_id])
    texts = pairs.text.str.lower()
    for word in ("the", "http", "and", "to", "in"):
        hits = labels[texts.str.contains(word, regex=False)][solution.solution_id]
        counts = hits[hits >= 0].value_counts()
        if len(counts) and counts.max() > 5:
            return word, counts.to_dict()
    pytest.fail("no word is found in more than 5 texts of one cluster")


@browser_only
def test_dashboard_heatmap_search_posts_and_html_gallery(users, stored_run, live_server,
                                                        browser_page):  # noqa: F811
    page = browser_page
    folder = ARTIFACTS / "test_dashboard_heatmap_search_posts_and_html_gallery"
    folder.mkdir(parents=True, exist_ok=True)
    manifest = stored_run.manifest
    shown = manifest["cooccurrence_heatmap"]
    rows = {(r["algorithm"], r["k_text"], r["k_image"]): r for r in manifest["ami_diagnostic"]}
    _login(page, live_server.url)
    page.goto(f"{live_server.url}/runs/{stored_run.pk}/dashboard/")

    # 1. The card and the heatmap each say their K_t × K_i; the heatmap's AMI is the AMI
    # table's at that grid point, with the same normalisation.
    card = page.locator("#ami-grid-point").inner_text()
    headline = page.locator("#ami-card .big").inner_text()
    card_grid, heatmap_grid = _grid(card)
    assert _grid(headline) == [card_grid]
    assert heatmap_grid == (shown["k_text"], shown["k_image"]) and shown["solution"] in card
    at_heatmap = rows[(shown["algorithm"], *heatmap_grid)]
    assert f"AMI = {at_heatmap['ami']:.3f}" in card and "max normalisation" in card
    caption = page.locator("#figure-cooccurrence_heatmap figcaption").inner_text()
    assert _grid(caption) == [heatmap_grid]
    assert f"AMI = {at_heatmap['ami']:.3f}, max normalisation" in caption
    page.locator("#ami-card").scroll_into_view_if_needed()
    shoot(page, folder, "ami-card-and-grid-points")

    # 3. Galleries as HTML: thumbnails at a readable size with captions, a full-size link.
    gallery = page.locator("#figure-gallery_label")
    chosen = stored_run.solutions.get(solution_id=gallery.locator("figcaption").inner_text()
                                      .split(": ")[1].split(",")[0])
    items = gallery.locator(".gallery-preview > li")
    assert items.count() == min(10, chosen.n_clusters) > 0
    first = chosen.clusters.order_by("rank").first()
    assert f"Cluster {first.label}" in items.nth(0).inner_text()
    assert f"{first.size} pairs" in items.nth(0).inner_text()
    thumbs = gallery.locator(".gallery-preview img")
    assert thumbs.count() > 0
    thumbs.first.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0",
                           arg=thumbs.first.element_handle())
    assert thumbs.first.bounding_box()["height"] >= 60
    assert gallery.locator("img[src*='gallery_label']").count() == 0   # no shrunken JPEG
    full = gallery.locator("a.full-size").get_attribute("href")
    assert full.endswith("/figures/gallery_label.jpg")
    response = page.request.get(f"{live_server.url}{full}")
    assert response.ok and response.headers["content-type"] == "image/jpeg"
    gallery.scroll_into_view_if_needed()
    shoot(page, folder, "html-gallery")

    # 2. Search shows the matching posts, the match marked, five per cluster with the count,
    # and every one of a cluster's matches page by page.
    query, counts = _frequent_query(stored_run, chosen)
    gallery.locator("a.gallery-page").click()
    page.fill("input[name=q]", query.upper())
    page.click("form.search button")
    page.wait_for_selector(".matching-posts")
    label, n = max(counts.items(), key=lambda kv: kv[1])
    block = page.locator(f"#cluster-{label} .matching-posts")
    assert block.locator("li.post").count() == 5
    assert f"5 of {n}" in block.locator("h3").inner_text()
    marks = block.locator("mark").all_inner_texts()
    assert marks and all(m.lower() == query for m in marks)
    for i in range(5):
        post = block.locator("li.post").nth(i)
        assert post.locator("mark").count() >= 1
        if post.locator("img").count():
            assert "size=thumb" in post.locator("img").get_attribute("src")
    assert block.locator("img").count() >= 1   # matching posts with images show them
    shoot(page, folder, "search-matching-posts")
    block.locator("a.all-matches").click()
    page.wait_for_selector(".matching-posts")
    assert page.locator("article.cluster").count() == 1
    assert page.locator(".matching-posts li.post").count() == min(n, 50)
    assert f"of {n}" in page.locator(".matching-posts h3").inner_text()
    shoot(page, folder, "one-cluster-all-matches")


def test_card_and_heatmap_name_different_grid_points_and_older_runs_say_less(client, users,
                                                                             stored_run):
    client.force_login(users["pi"])
    url = f"/runs/{stored_run.pk}/dashboard/"
    manifest = stored_run.manifest
    card_row = min((r for r in manifest["ami_diagnostic"] if r["algorithm"] == "kmeans"),
                   key=lambda r: abs(r["k_text"] * r["k_image"] - 25))
    other = next(r for r in manifest["ami_diagnostic"]
                 if (r["k_text"], r["k_image"]) != (card_row["k_text"], card_row["k_image"]))
    manifest["cooccurrence_heatmap"] = {
        "solution": f"label-kmeans-k{other['k_text'] * other['k_image']}", "algorithm": "kmeans",
        "k_text": other["k_text"], "k_image": other["k_image"], "ami": other["ami"]}
    stored_run.save(update_fields=["manifest"])
    page = client.get(url).content.decode()
    card = f"This card: K_t × K_i = {card_row['k_text']} × {card_row['k_image']}"
    heatmap = (f"heatmap under Figures shows K_t × K_i = {other['k_text']} × "
               f"{other['k_image']}")
    assert card in page and heatmap in page and f"AMI = {other['ami']:.3f}" in page
    assert (f"at K_t × K_i = {other['k_text']} × {other['k_image']}" in page)   # caption

    del manifest["cooccurrence_heatmap"]   # a run stored before the engine recorded it
    stored_run.save(update_fields=["manifest"])
    page = client.get(url).content.decode()
    assert card in page and "heatmap under Figures" not in page
    assert "Permuted co-occurrence heatmap (text × image labels)" in page
