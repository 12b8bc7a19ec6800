"""Decisions on the adjudication page, server side: each one records the options its row showed;
the same decision again changes nothing, another theme or note revises it, undo opens the row
again — every step kept in the history; bad input answers 400 naming the field, never 500.

The row (fixture ``coded``): coder gave "Protest", coder2 "Flood" for the first post of the
text pass; both gave the common theme "Protest"."""
import pytest
from django.urls import reverse

from annotation.models import Adjudication, AdjudicationHistory, ClusterCode, Theme
from annotation.services.adjudication import (AdjudicationError, record_decision, row_options,
                                              undo_decision)
from annotation.services.coding import get_or_create_theme

pytestmark = pytest.mark.django_db

POST_OPTIONS = [{"coder": "coder", "theme": "Protest"}, {"coder": "coder2", "theme": "Flood"}]


def history(sample, post=None):
    return list(AdjudicationHistory.objects.filter(cluster_sample=sample, sampled_post=post)
                .values_list("action", "theme_name", "note"))


def test_same_decision_again_changes_nothing_and_another_note_revises(coded, users):
    sample, posts = coded
    pi, project = users["pi"], sample.round.project
    storm = get_or_create_theme(project, "text", "Storm", created_by=pi)
    first = record_decision(sample, "text", storm, pi, "first look", sampled_post=posts[0])
    assert first.options_shown == POST_OPTIONS
    again = record_decision(sample, "text", storm, pi, "first look", sampled_post=posts[0])
    assert (again.pk, again.decided_at) == (first.pk, first.decided_at)
    record_decision(sample, "text", storm, pi, "on a second look", sampled_post=posts[0])
    assert history(sample, posts[0]) == [("created", "Storm", "first look"),
                                         ("revised", "Storm", "on a second look")]
    assert Adjudication.objects.get(sampled_post=posts[0]).note == "on a second look"


def test_undo_opens_the_row_and_a_new_decision_starts_again(coded, users):
    sample, posts = coded
    pi, project = users["pi"], sample.round.project
    protest = get_or_create_theme(project, "text", "Protest", created_by=pi)
    record_decision(sample, "text", protest, pi)
    undo_decision(sample, "text", pi)
    assert not Adjudication.objects.filter(cluster_sample=sample).exists()
    with pytest.raises(AdjudicationError, match="no decision to undo"):
        undo_decision(sample, "text", pi)
    record_decision(sample, "text", protest, pi, "after all")
    assert history(sample) == [("created", "Protest", ""), ("undone", "Protest", ""),
                               ("created", "Protest", "after all")]


def test_options_name_a_coder_without_a_theme(coded, users, coder2):
    sample, posts = coded
    ClusterCode.objects.filter(cluster_sample=sample, coder=coder2).delete()
    assert row_options(sample, "text") == [{"coder": "coder", "theme": "Protest"},
                                           {"coder": "coder2", "theme": None}]
    assert row_options(sample, "text", posts[0]) == POST_OPTIONS


def test_a_theme_of_another_codebook_or_a_post_of_another_cluster_is_refused(coded, users):
    sample, posts = coded
    pi, project = users["pi"], sample.round.project
    image_theme = get_or_create_theme(project, "image", "Crowd", created_by=pi)
    with pytest.raises(AdjudicationError, match="^theme_name: "):
        record_decision(sample, "text", image_theme, pi)
    other = sample.round.samples.exclude(pk=sample.pk).first()
    text_theme = get_or_create_theme(project, "text", "Crowd", created_by=pi)
    with pytest.raises(AdjudicationError, match="^post: "):
        record_decision(other, "text", text_theme, pi, sampled_post=posts[0])
    assert not AdjudicationHistory.objects.exists()


@pytest.mark.parametrize("fields, field", [
    ({"pass_name": "text", "post": "first"}, "theme_name"),                 # no theme at all
    ({"pass_name": "text", "theme_name": "   "}, "theme_name"),             # only spaces
    ({"pass_name": "audio", "theme_name": "Storm"}, "pass_name"),
    ({"pass_name": "text", "theme_name": "Storm", "post": "PNOSUCHPOST"}, "post"),
    ({"pass_name": "text", "theme_name": "Storm", "cluster": "CNOSUCH"}, "cluster"),
    ({"pass_name": "text", "theme_name": "Storm\u202e"}, "theme_name"),     # bidi control
    ({"pass_name": "text", "undo": "1"}, "cluster"),                        # nothing to undo
])
def test_bad_input_answers_400_naming_the_field(coded, users, client, fields, field):
    sample, posts = coded
    client.force_login(users["pi"])
    data = {"cluster": sample.public_id, **fields}
    if data.get("post") == "first":
        data["post"] = posts[0].public_id
    response = client.post(reverse("annotation:adjudicate", args=[sample.round.pk]), data)
    assert response.status_code == 400
    message = response.context["messages"]
    assert any(str(m).startswith(f"{field}: ") for m in message), [str(m) for m in message]
    assert not Adjudication.objects.exists() and not Theme.objects.filter(name="Storm").exists()


def test_the_page_shows_who_decided_the_note_and_the_history(coded, users, client):
    sample, posts = coded
    pi = users["pi"]
    client.force_login(pi)
    url = reverse("annotation:adjudicate", args=[sample.round.pk])
    response = client.post(url, {"cluster": sample.public_id, "pass_name": "text",
                                 "post": posts[0].public_id, "accept": "Flood",
                                 "theme_name": "", "note": "the caption says flood"})
    assert response.status_code == 302
    decision = Adjudication.objects.get(sampled_post=posts[0])
    assert (decision.theme.name, decision.decided_by, decision.note) == (
        "Flood", pi, "the caption says flood")
    assert decision.options_shown == POST_OPTIONS
    html = client.get(url).content.decode()
    assert "by pi, " in html and "— the caption says flood" in html
    assert 'data-action="created"' in html and 'class="undo-button"' in html
