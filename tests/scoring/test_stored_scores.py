"""Stored scores: every write a score reads bumps the project's score version (bulk writes too),
pages read the snapshot of the current version, and a stale snapshot is shown only with a notice
while its recomputation is pending."""
import json

import pytest
from celery import current_app
from django.urls import reverse

from annotation.models import PostCode, Theme
from annotation.services.adjudication import record_decision
from annotation.services.codebook import merge_themes
from annotation.services.codebook_passes import merge_in_all_passes
from annotation.services.coding import get_or_create_theme, save_post_code
from scoring.models import ScoreSnapshot
from scoring.services.comparison import comparison
from scoring.services.snapshots import (SCORES_TASK, current_version, latest_snapshot, recompute,
                                        stored_scores)

pytestmark = pytest.mark.django_db


def shares(posts) -> tuple[float, float]:
    """(one coder's share with a different first post, the mean with the other coder's 1.0)."""
    n = len(posts)
    return (n - 1) / n, (1 + (n - 1) / n) / 2


def text_consistency(client, project) -> tuple[float, dict]:
    """Mean text consistency of the coded solution, from the comparison JSON."""
    body = client.get(reverse("scoring-api:comparison", args=[project.pk])).json()
    values = [r["consistency_text"] for r in body["rows"] if r["consistency_text"] is not None]
    assert len(values) == 1
    return values[0], body["scores"]


@pytest.fixture
def pi_client(client, users):
    client.force_login(users["pi"])
    return client


@pytest.fixture
def pending_jobs(monkeypatch):
    """A broker no worker reads: sent recomputations are recorded, not run."""
    sent = []
    monkeypatch.setattr(current_app.tasks[SCORES_TASK], "delay", lambda *args: sent.append(args))
    return sent


def test_stored_tables_give_the_numbers_computed_from_the_codes(validation_round, coded):
    project = validation_round.project
    live = comparison(project)
    stored = comparison(project, scores=stored_scores(project).scores)
    assert json.dumps(stored, default=str, sort_keys=True) == json.dumps(live, default=str,
                                                                          sort_keys=True)


def test_a_saved_code_bumps_the_version_and_the_next_read_shows_it(
        validation_round, coded, users, pi_client):
    sample, posts = coded
    project = validation_round.project
    differing, mean = shares(posts)
    before, state = text_consistency(pi_client, project)
    assert before == pytest.approx(mean) and not state["stale"]
    version = current_version(project.pk)
    flood = Theme.objects.get(project=project, name="Flood")
    save_post_code(posts[1], users["coder"], "text", flood,
                   PostCode.objects.get(sampled_post=posts[1], coder=users["coder"]).version)
    assert current_version(project.pk) > version
    after, state = text_consistency(pi_client, project)     # eager: recomputed in the request
    assert after == pytest.approx(differing) and not state["stale"]
    assert state["version"] == current_version(project.pk)


def test_merges_and_decisions_bump_the_version_bulk_updates_too(validation_round, coded, users,
                                                                pi_client):
    sample, posts = coded
    project = validation_round.project
    text_consistency(pi_client, project)
    version = current_version(project.pk)
    protest = Theme.objects.get(project=project, modality="text", name="Protest")
    flood = Theme.objects.get(project=project, modality="text", name="Flood")
    get_or_create_theme(project, "image", "Flood", users["pi"])
    get_or_create_theme(project, "image", "Protest", users["pi"])
    version = current_version(project.pk)
    merge_in_all_passes(flood, protest, users["pi"])          # several passes in one go
    assert current_version(project.pk) > version
    after, state = text_consistency(pi_client, project)
    assert after == pytest.approx(1.0) and not state["stale"]

    version = current_version(project.pk)
    record_decision(sample, "text", protest, users["pi"])
    assert current_version(project.pk) > version

    other = get_or_create_theme(project, "text", "Riot", users["pi"])
    version = current_version(project.pk)
    PostCode.objects.filter(cluster_sample=sample).update(theme=other)   # no signal, one UPDATE
    assert current_version(project.pk) > version
    version = current_version(project.pk)
    PostCode.objects.filter(cluster_sample=sample, coder=users["coder"]).delete()
    assert current_version(project.pk) > version


def test_a_stale_snapshot_is_shown_with_a_notice_until_the_job_has_run(
        validation_round, coded, users, pi_client, pending_jobs):
    sample, posts = coded
    project = validation_round.project
    page = reverse("scoring:comparison", args=[project.pk])
    assert "scores-stale" not in pi_client.get(page).content.decode()   # first read: computed
    first = latest_snapshot(project.pk)
    protest = Theme.objects.get(project=project, modality="text", name="Protest")
    merge_themes(Theme.objects.get(project=project, name="Flood"), protest, users["pi"])

    html = pi_client.get(page).content.decode()
    assert 'id="scores-stale"' in html and "Recomputing after recent changes" in html
    assert f"score version {first.version};" in html
    value, state = text_consistency(pi_client, project)
    assert value == pytest.approx(shares(posts)[1]) and state["stale"]     # the last snapshot, said so
    assert state["current_version"] == current_version(project.pk) > state["version"]
    assert pending_jobs == [(project.pk,)]                      # one job for that version

    recompute(project.pk)                                       # what the worker runs
    value, state = text_consistency(pi_client, project)
    assert value == pytest.approx(1.0) and not state["stale"]
    assert "scores-stale" not in pi_client.get(page).content.decode()
    assert ScoreSnapshot.objects.filter(project=project).count() == 1    # older ones removed


def test_read_api_and_cluster_json_read_the_current_snapshot(validation_round, coded, users,
                                                             pi_client):
    sample, posts = coded
    project = validation_round.project
    url = reverse("scoring-api:cluster-scores", args=[project.pk])
    body = pi_client.get(url).json()
    assert {r["consistency"] for r in body["per_coder"] if r["pass"] == "text"} == {1.0, shares(posts)[0]}
    merge_themes(Theme.objects.get(project=project, name="Flood"),
                 Theme.objects.get(project=project, modality="text", name="Protest"), users["pi"])
    body = pi_client.get(url).json()
    assert {r["consistency"] for r in body["per_coder"] if r["pass"] == "text"} == {1.0}
    assert body["scores"]["version"] == current_version(project.pk)
    analysis = pi_client.get(reverse("scoring-api:analysis-cluster-scores", args=[project.pk])
                             + f"?level=coder&round={validation_round.pk}").json()
    assert {r["consistency"] for r in analysis["results"] if r["pass"] == "text"} == {1.0}


def test_cluster_json_is_sent_gzipped_as_stored_and_unpacked_with_a_stale_state(
        validation_round, coded, users, pi_client, pending_jobs):
    import gzip

    project = validation_round.project
    url = reverse("scoring-api:cluster-scores", args=[project.pk])
    packed = pi_client.get(url, HTTP_ACCEPT_ENCODING="gzip, br")
    assert packed["Content-Encoding"] == "gzip"
    body = json.loads(gzip.decompress(packed.content))
    assert body == pi_client.get(url).json() and not body["scores"]["stale"]
    merge_themes(Theme.objects.get(project=project, name="Flood"),
                 Theme.objects.get(project=project, modality="text", name="Protest"), users["pi"])
    stale = pi_client.get(url, HTTP_ACCEPT_ENCODING="gzip")
    assert not stale.has_header("Content-Encoding")
    assert stale.json()["scores"]["stale"] and stale.json()["per_coder"] == body["per_coder"]
