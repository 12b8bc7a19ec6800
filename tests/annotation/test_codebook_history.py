"""The codebook with history, and reconciliation without unblinding: each coder owns their
themes under opaque ids, merges count at once and can be undone, renames are audited, and
nothing the PI does (opening adjudication, merging, reading α) changes what coders are offered."""
import re

import pytest
from django.test import Client
from django.urls import reverse

from annotation.models import PostCode, Theme, ThemeMerge
from annotation.services.codebook import (CodebookError, clean_theme_name, codebook,
                                          effective_theme_map, merge_themes, unmerge)
from annotation.services.coding import get_or_create_theme
from annotation.services.sampling import create_round

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r"T[0-9A-Z]{10}")


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _shared(validation_round):
    """A calibration cluster: every coder of the round codes it."""
    return validation_round.samples.filter(is_calibration=True).order_by("order").first()


def _label(client, post, base_version=0, **theme):
    return client.put(reverse("annotation-api:post-code", args=[post.public_id, "text"]),
                      {**theme, "base_version": base_version}, content_type="application/json")


def _themes(client, sample, q=""):
    return client.get(reverse("annotation-api:cluster-themes", args=[sample.public_id]),
                      {"pass": "text", "q": q}).json()


def _offered(client, sample, q="") -> set[str]:
    return {t["name"] for t in _themes(client, sample, q)["results"]}


def _rows(project) -> dict[str, dict]:
    return {row["name"].lower(): row for row in codebook(project, "text")}


def test_two_coders_typing_the_same_name_get_their_own_opaque_themes_and_still_agree(
        validation_round, users, coder2):
    post = _shared(validation_round).posts.first()
    first, second = _client(users["coder"]), _client(coder2)
    mine = _label(first, post, theme_name="Shark").json()["theme"]
    theirs = _label(second, post, theme_name="shark").json()["theme"]
    assert mine["id"] != theirs["id"]
    assert TOKEN.fullmatch(mine["id"]) and TOKEN.fullmatch(theirs["id"])
    assert theirs["name"] == "shark"      # the second coder's own spelling, not the first's
    codes = {c.coder_id: c.theme for c in PostCode.objects.filter(sampled_post=post)}
    assert codes[users["coder"].pk].owner == users["coder"] and codes[coder2.pk].owner == coder2
    # one category for the scores: the two coders agree, exactly as with one shared theme
    key = effective_theme_map(validation_round.project)
    assert key[codes[users["coder"].pk].pk] == key[codes[coder2.pk].pk]
    # another coder's theme, by its public id or by its sequential key, is as absent as a typo
    other = _shared(validation_round).posts.all()[1]
    for theme_id in (theirs["id"], str(codes[coder2.pk].pk), codes[coder2.pk].pk):
        refused = _label(first, other, theme_id=theme_id)
        assert refused.status_code == 400 and "theme_id" in refused.json()
    assert _label(first, other, theme_id=mine["id"]).status_code == 201


def test_coder_responses_carry_no_sequential_theme_key(validation_round, users):
    sample = _shared(validation_round)
    client = _client(users["coder"])
    for post, name in zip(sample.posts.all(), ("Flood", "Rescue", "Flood")):
        assert _label(client, post, theme_name=name).status_code == 201
    keys = {str(pk) for pk in Theme.objects.values_list("pk", flat=True)}
    body = _themes(client, sample)
    state = client.get(reverse("annotation-api:cluster-state", args=[sample.public_id])).json()
    page = client.get(reverse("annotation:code-pass", args=[sample.public_id, "text"]))
    ids = [t["id"] for t in body["results"] + body["recent"]] + [
        p["theme"]["id"] for p in state["passes"]["text"]["posts"] if p["theme"]] + [
        t["id"] for t in page.context["data"]["recent"]]
    assert len(ids) >= 6 and all(TOKEN.fullmatch(i) for i in ids)
    assert not keys & set(ids)


def test_merge_counts_at_once_and_unmerge_restores_every_code(validation_round, users, coder2):
    sample = _shared(validation_round)
    posts = list(sample.posts.all())
    first, second = _client(users["coder"]), _client(coder2)
    for client, names in ((first, ("fake shark", "shark hoax")),
                          (second, ("Fake shark", "shark hoax"))):
        for post, name in zip(posts, names):
            assert _label(client, post, theme_name=name).status_code == 201
    project = validation_round.project
    codes = list(PostCode.objects.filter(cluster_sample=sample))

    def scored_as():
        key = effective_theme_map(project)
        return {code.pk: key[code.theme_id] for code in codes}

    before, map_before = scored_as(), effective_theme_map(project)
    assert len(set(before.values())) == 2
    pi = _client(users["pi"])
    page_url = reverse("annotation:codebook", args=[project.pk])
    source = Theme.objects.filter(name__iexact="fake shark").order_by("pk").first()
    target = Theme.objects.filter(name="shark hoax").order_by("pk").first()
    merged = pi.post(page_url, {"modality": "text", "source": source.public_id,
                                "target": target.public_id, "note": "same hoax"})
    assert merged.status_code == 302
    # both coders' "fake shark" now score as "shark hoax", and the target counts them at once
    assert len(set(scored_as().values())) == 1
    rows = _rows(project)
    assert rows["shark hoax"]["n_posts"] == 2 and rows["shark hoax"]["scored_posts"] == 4
    assert rows["fake shark"]["merged_into"] == "shark hoax" and rows["fake shark"]["n_coders"] == 2
    page = pi.get(page_url, {"modality": "text"}).content.decode()
    assert re.search(rf'data-theme="{target.public_id}".*?class="scored-posts">4<', page,
                     re.S)
    # coders still see (and are offered) their own spelling
    assert _offered(first, sample) == {"fake shark", "shark hoax"}
    assert _label(first, posts[2], theme_name="fake shark").json()["theme"]["name"] == \
        "fake shark"
    # a theme of the merged name made later joins the merge, as its namesakes did
    late = get_or_create_theme(project, "text", "FAKE SHARK", created_by=users["pi"])
    assert late.merged_into == target

    merge = ThemeMerge.objects.get()
    unmerge_url = reverse("annotation:theme-unmerge", args=[project.pk])
    assert pi.post(unmerge_url, {"modality": "text", "merge": merge.pk}).status_code == 302
    assert scored_as() == before
    late.refresh_from_db()
    assert late.merged_into is None
    assert effective_theme_map(project) == {**map_before, late.pk: map_before[source.pk]}
    rows = _rows(project)
    assert rows["shark hoax"]["scored_posts"] == 2 and rows["fake shark"]["merged_into"] is None
    assert rows["fake shark"]["scored_posts"] == 3      # its two codes and the one made since
    page = pi.get(page_url, {"modality": "text"}).content.decode()
    assert "undid the merge" in page and "merged “fake shark” → “shark hoax” — same hoax" in page
    again = pi.post(unmerge_url, {"modality": "text", "merge": merge.pk})
    assert again.status_code == 400 and "merge: this merge is already undone" in \
        again.content.decode()


def test_unmerge_restores_flattened_merges_in_order(validation_round, users):
    project = validation_round.project
    x, y, z = (get_or_create_theme(project, "text", n, users["coder"]) for n in "XYZ")
    x_into_y = merge_themes(x, y, users["pi"])
    y_into_z = merge_themes(y, z, users["pi"])
    x.refresh_from_db()
    assert x.merged_into == z                                     # flattened: one hop
    with pytest.raises(CodebookError, match="undo that merge first"):
        unmerge(x_into_y, users["pi"])
    unmerge(y_into_z, users["pi"])
    x.refresh_from_db()
    y.refresh_from_db()
    assert (x.merged_into, y.merged_into) == (y, None)
    unmerge(x_into_y, users["pi"])
    assert effective_theme_map(project) == {t.pk: t.pk for t in (x, y, z)}


def test_rename_is_audited_and_refused_on_collision_or_direction_controls(validation_round,
                                                                           users):
    project = validation_round.project
    riot = get_or_create_theme(project, "text", "Riot", users["coder"])
    get_or_create_theme(project, "text", "Protest", users["coder"])
    pi = _client(users["pi"])
    url = reverse("annotation:theme-rename", args=[project.pk])
    collision = pi.post(url, {"modality": "text", "theme": riot.public_id, "name": "protest"})
    assert collision.status_code == 400 and "name: another text theme is called" in \
        collision.content.decode()
    bidi = pi.post(url, {"modality": "text", "theme": riot.public_id, "name": "Ri\u202eot"})
    assert bidi.status_code == 400 and "name: theme names cannot hold" in bidi.content.decode()
    unknown = pi.post(url, {"modality": "text", "theme": "abc", "name": "Riots"})
    assert unknown.status_code == 400 and "theme: no such theme" in unknown.content.decode()
    assert pi.post(url, {"modality": "text", "theme": riot.public_id, "name": "Riots"}
                   ).status_code == 302
    riot.refresh_from_db()
    assert riot.name == "Riots" and riot.renames.get().old_name == "Riot"
    page = pi.get(reverse("annotation:codebook", args=[project.pk]), {"modality": "text"})
    assert "renamed “Riot” → “Riots”" in page.content.decode()
    # the one name check coding uses too
    with pytest.raises(CodebookError):
        clean_theme_name("Flood\u2066")
    refused = _label(_client(users["coder"]), _shared(validation_round).posts.first(),
                     theme_name="Flood\u200f")
    assert refused.status_code == 400 and "theme_name" in refused.json()


def test_a_round_without_independent_coding_offers_only_that_rounds_themes(
        validation_round, project, solutions, users, coder2):
    # round 1 codes independently; coder 2 names a theme there
    assert _label(_client(coder2), _shared(validation_round).posts.first(),
                  theme_name="Round one idea").status_code == 201
    second_round = create_round(project, solutions, name="second", created_by=users["pi"],
                                posts_per_cluster=4, seed=8, calibration_clusters=2,
                                coders=[users["coder"], coder2], independent_coding=False)
    sample = _shared(second_round)
    posts = list(sample.posts.all())
    get_or_create_theme(project, "text", "Codebook theme", created_by=users["pi"])
    first = _client(users["coder"])
    assert "Round one idea" not in _offered(first, sample)
    assert _offered(first, sample, "round") == set()
    assert _label(_client(coder2), posts[0], theme_name="Round two idea").status_code == 201
    assert _offered(first, sample) == {"Round two idea", "Codebook theme"}
    # taking the other coder's theme labels with the coder's own theme of that name
    offered = {t["name"]: t["id"] for t in _themes(first, sample)["results"]}
    saved = _label(first, posts[1], theme_id=offered["Round two idea"])
    assert saved.status_code == 201
    code = PostCode.objects.get(coder=users["coder"], sampled_post=posts[1])
    assert code.theme.owner == users["coder"] and code.theme.name == "Round two idea"
    assert saved.json()["theme"]["id"] == code.theme.public_id != offered["Round two idea"]


def test_opening_adjudication_and_merging_change_nothing_coders_are_offered(
        validation_round, users, coder2):
    sample = _shared(validation_round)
    post = sample.posts.first()
    first, second = _client(users["coder"]), _client(coder2)
    _label(first, post, theme_name="Riot police")
    _label(second, post, theme_name="Police violence")
    before = (_offered(first, sample), _offered(second, sample))
    assert before == ({"Riot police"}, {"Police violence"})
    pi = _client(users["pi"])
    pi.post(reverse("annotation:round-manage", args=[validation_round.pk]),
            {"action": "open_adjudication"})
    validation_round.refresh_from_db()
    assert validation_round.adjudication_open
    assert (_offered(first, sample), _offered(second, sample)) == before
    merge_themes(Theme.objects.get(name="Police violence"), Theme.objects.get(name="Riot police"),
                 users["pi"])
    assert (_offered(first, sample), _offered(second, sample)) == before
    assert _offered(second, sample, "riot") == set()
    assert [t["name"] for t in _themes(second, sample)["recent"]] == ["Police violence"]


def test_the_pi_reads_alpha_on_the_scores_page_before_opening_adjudication(
        validation_round, users, coder2):
    sample = _shared(validation_round)
    for client, names in ((_client(users["coder"]), ("Shark", "Flood")),
                          (_client(coder2), ("shark", "flood"))):
        for i, post in enumerate(sample.posts.all()):
            assert _label(client, post, theme_name=names[i % 2]).status_code == 201
    page = _client(users["pi"]).get(
        reverse("scoring:comparison", args=[validation_round.project.pk])).content.decode()
    assert re.search(r"text: α = 1\.0", page), "α withheld before adjudication"
    assert "withheld" not in page
    validation_round.refresh_from_db()
    assert not validation_round.adjudication_open
