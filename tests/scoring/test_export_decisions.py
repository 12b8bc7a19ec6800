"""Exports: the build request answers at once (no broker: the export is built in a thread) and
says honestly where the job stands; the zip holds the PI's cluster names, solution choices with
their notes, adjudication decisions and the codebook version of every code."""
import io
import os
import shutil
import zipfile

import pandas as pd
import pytest
from django.urls import reverse

from annotation.models import Assignment, Theme
from annotation.services.adjudication import record_decision
from annotation.services.codebook import merge_themes
from annotation.services.coding import get_or_create_theme, save_post_code
from scoring.models import ExportJob, SolutionChoice

from tests.annotation.browsing import close_connections_after_each_request  # noqa: F401,E402

CHROMIUM = "/usr/bin/chromium"


def first_sample(validation_round, coder):
    mine = Assignment.objects.filter(coder=coder).values_list("cluster_sample_id", flat=True)
    return validation_round.samples.filter(pk__in=mine).order_by("order").first()


@pytest.mark.django_db
def test_export_holds_the_pis_decisions_and_codebook_versions(
        scored_run, validation_round, users, client, django_capture_on_commit_callbacks,
        tmp_path):
    coder, project = users["coder"], validation_round.project
    sample = first_sample(validation_round, coder)
    first, second = sample.posts.order_by("position")[:2]
    protest = get_or_create_theme(project, "text", "Protest", coder)          # text codebook v1
    save_post_code(first, coder, "text", protest, 0, lead_time_s=2.5)        # saved under v1
    flood = get_or_create_theme(project, "text", "Flood", coder)              # v2
    merge_themes(flood, protest, users["pi"], "one thing")                    # v3
    save_post_code(second, coder, "text", protest, 0, lead_time_s=90000)     # saved under v3
    sample.name = "Street protests"
    sample.save(update_fields=["name"])
    solution = validation_round.solutions.get(solution_id="vector-kmeans-k25")
    SolutionChoice.objects.create(project=project, solution=solution, chosen_by=users["pi"],
                                  note="best consistency at the chosen K")
    record_decision(sample, "text", protest, users["pi"], "coder 1 is right", sampled_post=first)

    client.force_login(users["pi"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("scoring:exports", args=[project.pk]), follow=True)
    job = ExportJob.objects.get()
    # the test's transaction defers the build to the end of the request: "queued" was true then
    assert f"Export {job.pk} is queued: its status below updates live" in \
        response.content.decode()
    assert job.status == "succeeded", job.error
    download = client.get(reverse("scoring:export-download", args=[job.pk]))
    zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content))).extractall(tmp_path)

    names = pd.read_csv(tmp_path / "decisions/cluster_names.csv")
    assert names[["cluster_sample", "name"]].values.tolist() == [[sample.public_id,
                                                                   "Street protests"]]
    choices = pd.read_csv(tmp_path / "decisions/solution_choices.csv")
    assert choices[["solution_id", "note", "chosen_by"]].values.tolist() == [
        ["vector-kmeans-k25", "best consistency at the chosen K", "pi"]]
    decisions = pd.read_csv(tmp_path / "codebook/adjudications.csv")
    assert decisions[["post", "theme", "note"]].values.tolist() == [
        [first.public_id, "Protest", "coder 1 is right"]]
    coded = pd.read_csv(tmp_path / "data/coded_posts.csv").set_index("post")
    assert coded.loc[first.public_id, "codebook_version"] == 1
    assert coded.loc[second.public_id, "codebook_version"] == 3
    assert coded.loc[first.public_id, "lead_time_s"] == 2.5
    assert pd.isna(coded.loc[second.public_id, "lead_time_s"])   # over a day: not a duration
    assert Theme.objects.get(name="Flood").merged_into == protest


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM),
                    reason="Debian's chromium is not installed")
def test_build_answers_at_once_and_the_page_follows_the_job(
        scored_run, validation_round, users, client, live_server, settings, tmp_path):
    from tests.annotation.browsing import logged_in_page, shoot

    sync_api = pytest.importorskip("playwright.sync_api")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    settings.DIPTYCH_RUNS_IN_THREAD = True               # the embedded default: no broker
    project = validation_round.project
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--no-sandbox", "--disable-gpu",
                                          "--disable-background-networking"])
        page = logged_in_page(browser, client, live_server, users["pi"])
        page.goto(f"{live_server.url}/scoring/projects/{project.pk}/exports/")
        page.locator("button", has_text="Build a new export").click()
        page.wait_for_selector(".message")
        job = ExportJob.objects.get()
        message = page.locator(".message").inner_text()
        if message.startswith(f"Export {job.pk} is queued") or \
                message.startswith(f"Export {job.pk} is running"):
            assert message.endswith("its status below updates live; the download link appears "
                                    "when it is ready.")
        else:   # only if the thread finished before the page was drawn — then it says so
            assert message == f"Export {job.pk} is ready: download it below."
        page.wait_for_selector("a:has-text('Download zip')", timeout=120000)
        job.refresh_from_db()
        assert job.status == "succeeded", job.error
        import threading
        for thread in threading.enumerate():
            if thread.name == f"export-{job.pk}":
                thread.join(60)      # its last step closes its database connections
        from tests.annotation.browsing import ARTIFACTS
        folder = ARTIFACTS / "test_build_answers_at_once_and_the_page_follows_the_job"
        folder.mkdir(parents=True, exist_ok=True)
        shoot(page, folder, "export-ready")
        assert not page.errors, page.errors
        browser.close()
    from django.db import connections
    connections.close_all()
