"""The PI's workflow in headless Chromium: adjudication by keyboard (accept coder N with one key
or click, codebook autocomplete, thumbnails in the image pass, one collapsible block per cluster,
next disagreement). Screenshots: test-artifacts/<test name>/."""
import pytest

from annotation.models import Adjudication, Assignment
from annotation.services.coding import get_or_create_theme, save_cluster_code, save_post_code

from .browsing import (artefacts, browser, close_connections_after_each_request,  # noqa: F401
                       logged_in_page, shoot)

pytestmark = [pytest.mark.django_db(transaction=True)]


def shared_sample(validation_round, coder, coder2):
    both = set(Assignment.objects.filter(coder=coder).values_list("cluster_sample_id", flat=True)
               ) & set(Assignment.objects.filter(coder=coder2).values_list("cluster_sample_id",
                                                                           flat=True))
    return validation_round.samples.filter(pk__in=both).order_by("order").first()


def code(sample, coder, pass_name, common, post_themes):
    project = sample.round.project
    save_cluster_code(sample, coder, pass_name,
                      get_or_create_theme(project, pass_name, common, coder), 0)
    for post, name in zip(sample.posts.order_by("position"), post_themes):
        save_post_code(post, coder, pass_name, get_or_create_theme(project, pass_name, name, coder), 0)


def focused_row(page):
    return page.evaluate("""() => { const r = document.activeElement;
        return r && r.classList.contains('dis-row') ? r.closest('section').id + ':' +
               r.cells[0].innerText.trim().slice(0, 20) : null; }""")


def decide(page, key):
    """A key that submits a decision: wait for the page the server redirects back to."""
    with page.expect_navigation():
        page.keyboard.press(key)
    page.wait_for_selector("html[data-adjudicate-ready='1']")


def test_adjudication_by_keyboard(validation_round, users, coder2, client, live_server,
                                  browser, artefacts):
    coder = users["coder"]
    sample = shared_sample(validation_round, coder, coder2)
    n = sample.posts.count()
    code(sample, coder, "text", "Protest", ["Protest"] * n)
    code(sample, coder2, "text", "Rally", ["Rally"] + ["Protest"] * (n - 1))
    code(sample, coder, "image", "Crowd", ["Crowd"] * n)
    code(sample, coder2, "image", "Crowd", ["Police"] + ["Crowd"] * (n - 1))
    text_block, image_block = f"d-{sample.public_id}-text", f"d-{sample.public_id}-image"

    page = logged_in_page(browser, client, live_server, users["pi"])
    page.goto(f"{live_server.url}/code/rounds/{validation_round.pk}/adjudicate/")
    page.wait_for_selector("html[data-adjudicate-ready='1']")
    # one block per cluster holding both passes; thumbnails only where images were coded
    block = page.locator(f"details#c-{sample.public_id}")
    assert block.locator("section.disagreement").count() == 2
    assert page.locator(f"#{text_block} img").count() == 0
    thumb = page.locator(f"#{image_block} img.adj-thumb")
    assert thumb.count() == 1
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 0",
                           arg=thumb.element_handle())
    # the codebook feeds the typed box
    options = page.eval_on_selector_all("#codebook-text option", "os => os.map(o => o.value)")
    assert options == ["Protest", "Rally"]
    assert page.locator(f"#{text_block} form.decide input[name=theme_name]").first.get_attribute(
        "list") == "codebook-text"
    # the first undecided row has the focus: accept coder 2 ("Rally") with one key
    assert focused_row(page) == f"{text_block}:Common theme"
    shoot(page, artefacts, "adjudication-start")
    decide(page, "2")
    decision = Adjudication.objects.get(cluster_sample=sample, pass_name="text",
                                        sampled_post__isnull=True)
    assert (decision.theme.name, decision.decided_by) == ("Rally", users["pi"])
    # back at the next undecided row (text post 1): type a theme from the codebook
    assert focused_row(page).startswith(f"{text_block}:")
    assert focused_row(page) != f"{text_block}:Common theme"
    page.keyboard.press("Enter")
    page.keyboard.type("Protest")
    decide(page, "Enter")
    assert focused_row(page).startswith(f"{image_block}:")
    first_post = sample.posts.order_by("position").first()
    assert Adjudication.objects.get(sampled_post=first_post, pass_name="text").theme.name == "Protest"
    # n from anywhere finds the last open row (image post 1), 1 accepts coder 1 ("Crowd")
    page.keyboard.press("n")
    assert focused_row(page).startswith(f"{image_block}:")
    decide(page, "1")
    assert page.locator(f"details#c-{sample.public_id} .open-count").inner_text() == "all decided"
    assert Adjudication.objects.get(sampled_post=first_post, pass_name="image").theme.name == "Crowd"
    assert Adjudication.objects.filter(cluster_sample=sample).count() == 3
    assert not page.locator(f"details#c-{sample.public_id}").evaluate("d => d.open")  # folded
    shoot(page, artefacts, "adjudication-done")
    assert not page.errors, page.errors


def test_next_disagreement_goes_on_to_the_next_page(validation_round, users, coder2, client,
                                                    live_server, browser, artefacts):
    """One cluster a page: n on a page with nothing left to decide opens the page of the next
    cluster with an undecided row, where that row has the focus; a decision keeps the page."""
    coder = users["coder"]
    both = set(Assignment.objects.filter(coder=coder).values_list("cluster_sample_id", flat=True)
               ) & set(Assignment.objects.filter(coder=coder2).values_list("cluster_sample_id",
                                                                           flat=True))
    first, second = validation_round.samples.filter(pk__in=both).order_by("order")[:2]
    for sample in (first, second):
        n = sample.posts.count()
        code(sample, coder, "text", "Protest", ["Protest"] * n)
        code(sample, coder2, "text", "Protest", ["Rally"] + ["Protest"] * (n - 1))
    position = list(validation_round.samples.order_by("order")).index(first)
    url = f"{live_server.url}/code/rounds/{validation_round.pk}/adjudicate/?per_page=1"

    page = logged_in_page(browser, client, live_server, users["pi"])
    page.goto(f"{url}&page={position + 1}")
    page.wait_for_selector("html[data-adjudicate-ready='1']")
    assert focused_row(page).startswith(f"d-{first.public_id}-text:")
    page.keyboard.press("n")                       # an undecided row is left here: stay
    assert focused_row(page).startswith(f"d-{first.public_id}-text:")
    decide(page, "2")
    assert Adjudication.objects.get(cluster_sample=first).theme.name == "Rally"
    assert page.url.endswith(f"?per_page=1&page={position + 1}")
    with page.expect_navigation():
        page.keyboard.press("n")
    page.wait_for_selector("html[data-adjudicate-ready='1']")
    assert focused_row(page).startswith(f"d-{second.public_id}-text:")
    shoot(page, artefacts, "next-page")
    decide(page, "1")
    assert Adjudication.objects.get(cluster_sample=second).theme.name == "Protest"
    assert page.locator(f"details#c-{second.public_id} .open-count").inner_text() == "all decided"
    assert page.locator(f"details#c-{first.public_id}").count() == 0     # still one a page
    assert not page.errors, page.errors


def test_codebook_across_passes(validation_round, users, coder2, client, live_server, browser,
                                artefacts):
    from annotation.models import Theme
    from annotation.services.adjudication import disagreements
    from annotation.services.codebook import merge_themes

    coder = users["coder"]
    project = validation_round.project
    sample = shared_sample(validation_round, coder, coder2)
    n = sample.posts.count()
    for pass_name in ("text", "image", "joint"):        # two spellings, in every pass
        code(sample, coder, pass_name, "Protest", ["Protest"] * n)
        code(sample, coder2, pass_name, "Protests", ["Protests"] * n)
    for pass_name in ("text", "image"):
        get_or_create_theme(project, pass_name, "Crowd", coder)
        get_or_create_theme(project, pass_name, "Crowds", coder2)
    merge_themes(Theme.objects.get(project=project, modality="image", name="Crowds"),
                 Theme.objects.get(project=project, modality="image", name="Crowd"))
    get_or_create_theme(project, "text", "Unused idea", coder)
    assert {d["pass"] for d in disagreements(validation_round)} == {"text", "image", "joint"}

    page = logged_in_page(browser, client, live_server, users["pi"])
    page.goto(f"{live_server.url}/code/projects/{project.pk}/codebook/?modality=text")
    row = page.locator("tr", has=page.locator("td.theme-name", has_text="Protests"))
    assert row.locator("td").nth(5).inner_text() == "image, joint"
    # a merge made in the image pass is suggested here
    suggestion = page.locator(".suggestions-card li")
    assert suggestion.inner_text().startswith("“Crowds” → “Crowd” (done in the image pass)")
    shoot(page, artefacts, "codebook-suggestions")
    suggestion.locator("button").click()
    page.wait_for_selector(".message")
    assert Theme.objects.get(project=project, modality="text", name="Crowds").merged_into.name \
        == "Crowd"
    assert page.locator(".suggestions-card").count() == 0

    # one merge, applied to all passes (the default)
    page.select_option("select[name=source]", label="Protests")
    page.select_option("select[name=target]", label="Protest")
    page.locator("form.card button[type=submit]", has_text="Merge").click()
    page.wait_for_selector(".message")
    assert "in 3 pass(es): text, image, joint" in page.locator(".message").inner_text()
    for pass_name in ("text", "image", "joint"):
        merged = Theme.objects.get(project=project, modality=pass_name, name="Protests")
        assert (merged.merged_into.name, merged.merged_into.modality) == ("Protest", pass_name)
    assert disagreements(validation_round) == []          # the joint pass agrees now too

    # rename, then delete the unused theme; a used theme offers no delete
    unused = page.locator("tr", has=page.locator("td.theme-name", has_text="Unused idea"))
    unused.locator("input[name=name]").fill("Unused notion")
    unused.locator("form.rename button").click()
    page.wait_for_selector(".message")
    assert page.locator(".message").inner_text() == "“Unused idea” renamed “Unused notion”."
    used = page.locator("tr", has=page.locator("td.theme-name", has_text="Protest")).first
    assert used.locator("form.delete").count() == 0
    renamed = page.locator("tr", has=page.locator("td.theme-name", has_text="Unused notion"))
    renamed.locator("form.delete button").click()
    page.wait_for_selector(".message")
    assert page.locator(".message").inner_text() == "“Unused notion” deleted."
    assert not Theme.objects.filter(project=project, name__istartswith="Unused").exists()
    shoot(page, artefacts, "codebook-after")
    assert not page.errors, page.errors


def test_a_used_theme_is_never_deleted(validation_round, users, coder2, client):
    from django.urls import reverse

    from annotation.models import Theme

    sample = shared_sample(validation_round, users["coder"], coder2)
    code(sample, users["coder"], "text", "Protest", ["Protest"])
    theme = Theme.objects.get(name="Protest")
    client.force_login(users["pi"])
    response = client.post(reverse("annotation:theme-delete", args=[validation_round.project.pk]),
                           {"theme": theme.public_id}, follow=True)
    assert "is in use" in response.content.decode()
    assert Theme.objects.filter(pk=theme.pk).exists()


def test_round_form_and_closing_a_round(finished_run, users, coder2, client, live_server,
                                        browser, artefacts):
    from annotation.models import ValidationRound

    finished_run.manifest = {"k_selection": {"vector-kmeans": {
        "selects_k": True, "algorithm": "kmeans", "method": "vector", "chosen_k": 25}}}
    finished_run.save(update_fields=["manifest"])
    project = finished_run.project
    page = logged_in_page(browser, client, live_server, users["pi"])
    page.goto(f"{live_server.url}/code/projects/{project.pk}/rounds/new/")
    labels = [t.strip() for t in page.locator(".field-solutions label").all_inner_texts()][1:]
    assert "vector-kmeans-k25 — run" in labels[1] and labels[1].endswith(
        "K = 25, 4 clusters — chosen K (marginal gain)"), labels
    assert labels[0].endswith("K = 25, 4 clusters"), labels          # label-kmeans-k25: not chosen

    # no solution: the error sits under the solutions
    page.fill("input[name=name]", "round one")
    page.fill("input[name=calibration_clusters]", "50")
    page.locator("button", has_text="Sample and create").click()
    error = page.locator(".field-solutions .errorlist")
    error.wait_for()
    assert error.inner_text() == "Choose at least one solution."
    last_choice = page.locator(".field-solutions input[type=checkbox]").last.bounding_box()
    assert error.bounding_box()["y"] > last_choice["y"]
    shoot(page, artefacts, "round-form-error")

    # the calibration count is clamped to the clusters there are: said so
    for box in page.locator(".field-solutions input[type=checkbox]").all():
        box.check()
    page.locator(".field-coders input[type=checkbox]").first.check()
    page.locator("button", has_text="Sample and create").click()
    page.wait_for_url("**/manage/")
    validation_round = ValidationRound.objects.get(name="round one")
    n = validation_round.samples.count()
    warning = page.locator(".message.warning")
    assert warning.inner_text() == (f"Calibration set: {n} clusters, not the 50 asked for — the "
                                    f"round has only {n} clusters.")

    # closing asks first: dismissed, the round stays open; accepted, it closes
    dialogs = []
    page.once("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.locator("button", has_text="Close the round").click()
    page.wait_for_timeout(300)
    assert dialogs == ["Close this round? Coders can no longer save labels (you can reopen it)."]
    validation_round.refresh_from_db()
    assert validation_round.is_open
    page.once("dialog", lambda d: d.accept())
    with page.expect_navigation():
        page.locator("button", has_text="Close the round").click()
    validation_round.refresh_from_db()
    assert not validation_round.is_open
    assert page.locator("button", has_text="Reopen the round").count() == 1
    assert not page.errors, page.errors


def test_scores_page_keeps_chosen_in_view_and_says_what_each_action_did(
        validation_round, users, client, live_server, browser, artefacts):
    from scoring.models import SolutionChoice

    project = validation_round.project
    page = logged_in_page(browser, client, live_server, users["pi"], width=1400, height=900)
    page.goto(f"{live_server.url}/scoring/projects/{project.pk}/compare/")
    header = page.locator("#comparison th", has_text="Chosen")
    box = header.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 1400       # in view without scrolling
    button = page.locator("#comparison tbody tr").first.locator("button", has_text="Choose")
    button_box = button.bounding_box()
    assert button_box["x"] + button_box["width"] <= 1400
    shoot(page, artefacts, "scores-1400px")
    solution_id = page.locator("#comparison tbody tr").first.locator("td").first.inner_text(
        ).split()[0]
    button.click()
    page.wait_for_load_state()
    assert page.locator(".message").inner_text() == f"“{solution_id}” is marked as chosen."
    assert SolutionChoice.objects.filter(project=project, solution__solution_id=solution_id
                                         ).exists()
    page.locator("#comparison button", has_text="unmark").click()
    page.wait_for_load_state()
    assert page.locator(".message").inner_text() == f"“{solution_id}” is no longer marked as chosen."
    assert not SolutionChoice.objects.exists()
    assert not page.errors, page.errors
