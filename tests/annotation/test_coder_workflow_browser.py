"""The coder's workflow in headless Chromium: Back/Forward never shows stale labels, a conflict
with one's own earlier save says so where it can be read, `n` on an incomplete pass says what is
missing, theme length limits are visible, a coder's home shows only their rounds, earlier passes'
themes are offered, the image pass is a grid. Screenshots: test-artifacts/<test name>/."""
import pytest
from django.urls import reverse

from annotation.models import Assignment, PostCode
from annotation.services.coding import get_or_create_theme, save_post_code

from .browsing import (artefacts, browser, close_connections_after_each_request,  # noqa: F401
                       collect_errors, logged_in_page, pass_count, ready, shoot, theme_of, type_theme,
                       wait_saved)

pytestmark = [pytest.mark.django_db(transaction=True)]


def my_sample(validation_round, coder):
    mine = Assignment.objects.filter(coder=coder).values_list("cluster_sample_id", flat=True)
    return validation_round.samples.filter(pk__in=mine).order_by("order").first()


def code_pass_by_keyboard(page, common):
    """Common theme typed, every post given it (Space), then saved."""
    type_theme(page, common)
    n = page.locator("#items .item.post").count()
    for _ in range(n):
        page.keyboard.press(" ")
    wait_saved(page)


def test_back_button_shows_the_server_state_and_own_conflicts_are_worded(
        validation_round, users, client, live_server, browser, artefacts):
    coder = users["coder"]
    sample = my_sample(validation_round, coder)
    n = sample.posts.count()
    page = logged_in_page(browser, client, live_server, coder)

    response = page.goto(f"{live_server.url}/code/c/{sample.public_id}/")
    assert "no-store" in response.headers["cache-control"]
    ready(page, "text")
    code_pass_by_keyboard(page, "Protest")
    page.keyboard.press("n")
    ready(page, "image")
    code_pass_by_keyboard(page, "Crowd")
    assert pass_count(page) == f"{n + 1} / {n + 1}"
    page.keyboard.press("n")
    ready(page, "joint")

    # While the coder is on the joint pass, post 1's image label changes on the server (the
    # coder's other tab). Back must show the server's labels, not the page as first loaded.
    post = sample.posts.order_by("position").first()
    stored = PostCode.objects.get(sampled_post=post, coder=coder, pass_name="image")
    police = get_or_create_theme(validation_round.project, "image", "Police line", coder)
    assert save_post_code(post, coder, "image", police, stored.version).status == "changed"
    page.go_back()
    ready(page, "image")
    assert pass_count(page) == f"{n + 1} / {n + 1}"
    assert theme_of(page, 1) == "Police line"
    assert page.locator("#save-status").inner_text() == "All saved"

    # Relabelling now is a plain change, no conflict: the page knows the current version.
    page.keyboard.press("j")
    page.keyboard.press("j")                                   # cursor on post 2
    type_theme(page, "Street")
    wait_saved(page)
    assert page.locator(".conflict").count() == 0
    assert PostCode.objects.get(sampled_post__position=post.position + 1, coder=coder,
                                cluster_sample=sample, pass_name="image").theme.name == "Street"

    # A second tab left open from before that change: its save conflicts with the coder's own
    # earlier save, and says so, in view, below the sticky header.
    stale = page.context.new_page()
    stale_errors = collect_errors(stale)
    stale.goto(f"{live_server.url}/code/c/{sample.public_id}/image/")
    ready(stale, "image")
    page.keyboard.press("k")                                   # back on post 2 in the first tab
    type_theme(page, "Barricade")
    wait_saved(page)
    stale.keyboard.press("j")
    stale.keyboard.press("j")                                  # post 2
    type_theme(stale, "Banner")
    note = stale.locator('#items .item[data-index="2"] .conflict')
    note.wait_for(timeout=15000)
    text = note.inner_text()
    assert "You had already saved “Barricade”" in text and "“Banner” was not applied" in text
    assert "elsewhere" not in text
    head = stale.locator(".coding-head").bounding_box()
    box = note.bounding_box()
    assert box["y"] >= head["y"] + head["height"] - 1          # not under the sticky header
    assert box["y"] + box["height"] <= 1000                    # inside the viewport
    shoot(stale, artefacts, "own-conflict-note")
    assert theme_of(stale, 2) == "Barricade"
    assert PostCode.objects.get(sampled_post__position=post.position + 1, coder=coder,
                                cluster_sample=sample, pass_name="image").theme.name == "Barricade"
    assert not page.errors and not stale_errors, page.errors + stale_errors


def test_coding_json_is_never_cached(validation_round, users, client):
    coder = users["coder"]
    sample = my_sample(validation_round, coder)
    client.force_login(coder)
    for url in (reverse("annotation-api:cluster-state", args=[sample.public_id]),
                reverse("annotation:code-pass", args=[sample.public_id, "text"]),
                reverse("annotation:my-work")):
        response = client.get(url)
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"], url


def test_next_on_an_incomplete_pass_names_what_is_missing_and_moves_there(
        validation_round, users, client, live_server, browser, artefacts):
    coder = users["coder"]
    sample = my_sample(validation_round, coder)
    n = sample.posts.count()
    page = logged_in_page(browser, client, live_server, coder)
    page.goto(f"{live_server.url}/code/c/{sample.public_id}/text/")
    ready(page, "text")
    type_theme(page, "Protest")
    for _ in range(n - 2):
        page.keyboard.press(" ")                               # posts 1 … n-2
    page.keyboard.press("k")
    page.keyboard.press("k")
    page.keyboard.press("k")                                   # cursor away from the gap
    wait_saved(page)
    page.keyboard.press("n")
    note = page.locator("#missing-note")
    note.wait_for(state="visible", timeout=5000)
    assert note.inner_text() == (f"Not finished: post {n - 1}, post {n} have no theme yet. "
                                 f"The cursor is on post {n - 1}.")
    assert page.evaluate("document.activeElement.dataset.index") == str(n - 1)
    assert page.evaluate("document.querySelector('.item.selected').dataset.index") == str(n - 1)
    assert page.url.endswith("/text/")                         # stayed on the pass
    shoot(page, artefacts, "missing-items")
    page.keyboard.press(" ")
    page.keyboard.press(" ")
    wait_saved(page)
    assert note.is_hidden()
    page.keyboard.press("n")
    ready(page, "image")
    assert not page.errors, page.errors


def test_theme_length_is_counted_refusals_are_shown_and_long_names_wrap(
        validation_round, users, client, live_server, browser, artefacts):
    coder = users["coder"]
    sample = my_sample(validation_round, coder)
    page = logged_in_page(browser, client, live_server, coder)
    page.goto(f"{live_server.url}/code/c/{sample.public_id}/text/")
    ready(page, "text")

    # over the limit: nothing is cut; the box says by how much and keeps the name
    page.keyboard.press("Enter")
    page.wait_for_selector("#theme-input:focus")
    page.keyboard.type("x" * 195)
    assert page.locator("#theme-length").inner_text() == "195 / 200 characters"
    page.keyboard.type("y" * 10)
    page.keyboard.press("Enter")
    assert page.locator("#theme-input").input_value() == "x" * 195 + "y" * 10
    assert page.locator("#theme-length").inner_text() == (
        "Too long: 205 characters; the limit is 200.")
    assert theme_of(page, 0) == "—"
    shoot(page, artefacts, "theme-too-long")
    page.keyboard.press("Escape")

    # a long unbroken name (at the limit) wraps inside the item and the recent-themes card
    long_name = "Z" * 200
    type_theme(page, long_name)
    wait_saved(page)
    recent = page.locator("#recent li").first
    card = page.locator("#recent-card").bounding_box()
    box = recent.bounding_box()
    assert box["x"] + box["width"] <= card["x"] + card["width"] + 1
    assert page.evaluate("document.getElementById('recent-card').scrollWidth "
                         "<= document.getElementById('recent-card').clientWidth")
    slot = page.locator('#items .item[data-index="0"]')
    assert page.evaluate("(el) => el.scrollWidth <= el.clientWidth", slot.element_handle())
    shoot(page, artefacts, "long-theme-wraps")

    # the server refuses a label (a queued theme id from another codebook): the reason is shown
    image_theme = get_or_create_theme(validation_round.project, "image", "Image-only theme", coder)
    post_url = reverse("annotation-api:post-code",
                       args=[sample.posts.order_by("position").first().public_id, "text"])
    page.evaluate("""([url, id, user]) => localStorage.setItem(
        'diptych.annotation.queue.v1.u' + user,
        JSON.stringify([{id: 'x1', url, theme_id: id, theme_name: 'Image-only theme',
                         base_version: 0, at: Date.now()}]))""",
                  [post_url, image_theme.public_id, coder.pk])
    page.reload()
    ready(page, "text")
    note = page.locator('#items .item[data-index="1"] .conflict')
    note.wait_for(timeout=15000)
    assert note.inner_text() == ("Not saved: “Image-only theme” was refused by the server "
                                 "(no such theme in this codebook).")
    assert theme_of(page, 1) == "—"
    assert not PostCode.objects.filter(coder=coder, pass_name="text",
                                       sampled_post__cluster_sample=sample).exists()
    assert not page.errors, page.errors


def test_a_coders_home_is_their_rounds(validation_round, users, client, live_server, browser,
                                       artefacts):
    page = logged_in_page(browser, client, live_server, users["coder"])
    page.goto(f"{live_server.url}/")
    page.wait_for_url("**/code/")
    assert page.locator("h1").inner_text() == "My coding"
    assert page.locator(f'a[href="/code/rounds/{validation_round.pk}/"]').count() == 1
    body = page.locator("body").inner_text()
    assert "New project" not in body and "Create project" not in body
    assert page.locator("header nav a", has_text="Projects").count() == 0
    assert page.locator("header a.brand").get_attribute("href") == "/code/"
    shoot(page, artefacts, "coder-home")
    page.context.close()

    pi_page = logged_in_page(browser, client, live_server, users["pi"])
    pi_page.goto(f"{live_server.url}/")
    assert pi_page.url == f"{live_server.url}/"
    assert pi_page.locator("header nav a", has_text="Projects").count() == 1
    assert pi_page.locator("td a", has_text=validation_round.project.name).count() == 1
    assert not page.errors and not pi_page.errors


def digit_list(page):
    return [li.inner_text() for li in page.locator("#recent li").all()]


def test_earlier_passes_themes_are_offered_under_the_digits(
        validation_round, users, client, live_server, browser, artefacts):
    coder = users["coder"]
    sample = my_sample(validation_round, coder)
    n = sample.posts.count()
    page = logged_in_page(browser, client, live_server, coder)
    page.goto(f"{live_server.url}/code/c/{sample.public_id}/text/")
    ready(page, "text")
    assert digit_list(page) == []
    type_theme(page, "Protest")
    for _ in range(n - 1):
        page.keyboard.press(" ")
    type_theme(page, "Flood rescue")
    wait_saved(page)
    page.keyboard.press("n")

    ready(page, "image")
    # pass isolation: the text pass's themes would carry the texts into the image judgement
    assert digit_list(page) == []
    shoot(page, artefacts, "image-pass-suggestions")
    type_theme(page, "Crowd")
    for _ in range(n - 1):
        page.keyboard.press(" ")
    type_theme(page, "Flood rescue")
    wait_saved(page)
    image = PostCode.objects.filter(coder=coder, cluster_sample=sample, pass_name="image")
    assert set(image.values_list("theme__name", "theme__modality")) == {
        ("Crowd", "image"), ("Flood rescue", "image")}
    assert image.count() == n
    page.keyboard.press("n")

    ready(page, "joint")                                       # sees both: offered both
    assert digit_list(page) == ["1 Crowd (image pass)", "2 Flood rescue (image pass)",
                                "3 Protest (text pass)"]
    page.keyboard.press("3")                                   # common: Protest
    wait_saved(page)
    common = sample.cluster_codes.get(coder=coder, pass_name="joint")
    assert (common.theme.name, common.theme.modality) == ("Protest", "joint")
    assert not page.errors, page.errors


def test_image_pass_is_a_grid_with_the_same_keys(validation_round, users, client, live_server,
                                                 browser, artefacts):
    coder = users["coder"]
    sample = my_sample(validation_round, coder)
    n = sample.posts.count()
    page = logged_in_page(browser, client, live_server, coder)
    page.goto(f"{live_server.url}/code/c/{sample.public_id}/text/")
    ready(page, "text")
    code_pass_by_keyboard(page, "Protest")
    page.keyboard.press("n")
    ready(page, "image")
    boxes = [page.locator(f'#items .item[data-index="{i}"]').bounding_box()
             for i in range(1, n + 1)]
    assert len({round(b["y"]) for b in boxes[:4]}) == 1       # four images side by side
    assert boxes[1]["x"] > boxes[0]["x"] + boxes[0]["width"] - 1
    viewport_height = page.viewport_size["height"]
    assert all(b["y"] + b["height"] <= viewport_height for b in boxes)   # the cluster in view
    # keys unchanged: the common theme, then j moves to the next image in reading order
    type_theme(page, "Crowd")
    assert page.evaluate("document.querySelector('.item.selected').dataset.index") == "1"
    page.keyboard.press("j")
    assert page.evaluate("document.querySelector('.item.selected').dataset.index") == "2"
    page.keyboard.press("z")
    page.wait_for_selector("#zoom:not([hidden])")
    page.keyboard.press("Escape")
    page.wait_for_selector("#zoom", state="hidden")
    page.keyboard.press("k")
    for _ in range(n):
        page.keyboard.press(" ")
    wait_saved(page)
    shoot(page, artefacts, "image-pass-grid")
    image = PostCode.objects.filter(coder=coder, cluster_sample=sample, pass_name="image")
    assert image.filter(theme__name="Crowd").count() == n
    # each label carries its lead time: from the cursor reaching the item to the key press
    leads = list(image.values_list("lead_time_s", flat=True)) + list(
        sample.cluster_codes.filter(coder=coder).values_list("lead_time_s", flat=True))
    assert all(lead is not None and 0 <= lead < 120 for lead in leads), leads
    assert not page.errors, page.errors


def test_coder_images_keep_their_own_caching(validation_round, users, client):
    coder = users["coder"]
    sample = my_sample(validation_round, coder)
    post = sample.posts.exclude(image="").first()
    client.force_login(coder)
    # images come once the text pass of the cluster is done (pass isolation)
    for url in [reverse("annotation-api:common-code", args=[sample.public_id, "text"])] + [
            reverse("annotation-api:post-code", args=[p.public_id, "text"])
            for p in sample.posts.all()]:
        client.put(url, {"theme_name": "Protest", "base_version": 0},
                   content_type="application/json")
    response = client.get(reverse("annotation:coder-image", args=[post.public_id]) + "?size=thumb")
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, max-age=86400"


def test_a_coder_remaps_the_keys(validation_round, users, coder2, client, live_server, browser,
                                 artefacts):
    from annotation.keymap_models import keymap_for

    coder = users["coder"]
    sample = my_sample(validation_round, coder)
    page = logged_in_page(browser, client, live_server, coder)
    page.goto(f"{live_server.url}/code/c/{sample.public_id}/text/")
    ready(page, "text")
    page.locator("#change-keys").click()
    page.wait_for_url("**/code/keys/")
    # a clash is refused with the reason
    page.fill("#key-next", "k")
    page.locator("button", has_text="Save keys").click()
    assert "both use “k”" in page.locator(".message").inner_text()
    page.fill("#key-next", "l")
    page.fill("#key-previous", "h")
    page.fill("#key-common", "x")
    page.locator("button", has_text="Save keys").click()
    assert page.locator(".message").inner_text() == ("Keys saved: the coding pages use them "
                                                     "from now on.")
    shoot(page, artefacts, "keys-page")
    assert keymap_for(coder)["next"] == "l" and keymap_for(coder2)["next"] == "j"   # per user

    page.goto(f"{live_server.url}/code/c/{sample.public_id}/text/")
    ready(page, "text")
    assert "l" in page.locator("#shortcuts dt").first.inner_text()
    type_theme(page, "Protest")                                # cursor moves to post 1
    page.keyboard.press("j")                                   # no longer "next"
    assert page.evaluate("document.querySelector('.item.selected').dataset.index") == "1"
    page.keyboard.press("l")
    assert page.evaluate("document.querySelector('.item.selected').dataset.index") == "2"
    page.keyboard.press("h")
    page.keyboard.press("x")                                   # post 1 = the common theme
    wait_saved(page)
    assert theme_of(page, 1) == "Protest"
    assert PostCode.objects.filter(coder=coder, pass_name="text").count() == 1
    assert not page.errors, page.errors
