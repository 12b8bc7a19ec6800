"""Saving labels through the API: idempotent, versioned, history; codebook merges; adjudication."""
import pytest
from django.urls import reverse

from annotation.models import Adjudication, ClusterCode, CodeHistory, PostCode, Theme
from annotation.services.adjudication import disagreements
from annotation.services.codebook import merge_themes

pytestmark = pytest.mark.django_db


def _put(client, url, **body):
    return client.put(url, body, content_type="application/json")


@pytest.fixture
def shared_sample(validation_round):
    return validation_round.samples.filter(is_calibration=True).order_by("order").first()


def test_put_create_unchanged_change_conflict(shared_sample, users, client):
    client.force_login(users["coder"])
    post = shared_sample.posts.first()
    url = reverse("annotation-api:post-code", args=[post.public_id, "text"])
    r = _put(client, url, theme_name="  Road   blockade ", base_version=0)
    assert r.status_code == 201 and r.json()["version"] == 1
    theme_id = r.json()["theme"]["id"]
    assert r.json()["theme"]["name"] == "Road blockade"
    # a retry of the same request (acknowledgement lost) succeeds and changes nothing
    r = _put(client, url, theme_name="road blockade", base_version=0)
    assert r.status_code == 200 and r.json()["status"] == "unchanged" and r.json()["version"] == 1
    r = _put(client, url, theme_name="banner protest", base_version=1)
    assert r.status_code == 200 and r.json()["status"] == "changed" and r.json()["version"] == 2
    r = _put(client, url, theme_id=theme_id, base_version=1)      # stale
    assert r.status_code == 409 and r.json()["theme"]["name"] == "banner protest"
    code = PostCode.objects.get()
    assert code.version == 2 and code.theme.name == "banner protest"
    assert code.cluster_sample_id == shared_sample.pk
    assert list(code.history.values_list("outcome", "version")) == [
        ("created", 1), ("changed", 2), ("conflict", 2)]
    assert CodeHistory.objects.filter(outcome="conflict").get().theme.public_id == theme_id
    # common theme, and themes are per modality
    common = reverse("annotation-api:common-code", args=[shared_sample.public_id, "text"])
    assert _put(client, common, theme_id=theme_id, base_version=0).status_code == 201
    image_common = reverse("annotation-api:common-code", args=[shared_sample.public_id, "image"])
    assert _put(client, image_common, theme_id=theme_id).status_code == 400
    assert ClusterCode.objects.count() == 1
    assert _put(client, url, base_version=2).status_code == 400          # no theme
    assert _put(client, reverse("annotation-api:post-code", args=[post.public_id, "audio"]),
                theme_name="x").status_code == 404


def test_state_themes_and_closed_round(shared_sample, users, client):
    client.force_login(users["coder"])
    post = shared_sample.posts.first()
    for target in [*shared_sample.posts.all(), shared_sample]:   # the text pass comes first
        url = (reverse("annotation-api:common-code", args=[target.public_id, "text"])
               if target is shared_sample else
               reverse("annotation-api:post-code", args=[target.public_id, "text"]))
        assert _put(client, url, theme_name="Street", base_version=0).status_code == 201
    _put(client, reverse("annotation-api:post-code", args=[post.public_id, "image"]),
         theme_name="Police line", base_version=0)
    state = client.get(reverse("annotation-api:cluster-state", args=[shared_sample.public_id])).json()
    assert state["passes"]["image"]["posts"][0]["theme"]["name"] == "Police line"
    assert state["progress"]["passes"]["image"]["done"] == 1
    themes = client.get(reverse("annotation-api:cluster-themes", args=[shared_sample.public_id]),
                        {"pass": "image", "q": "pol"}).json()
    assert [t["name"] for t in themes["results"]] == ["Police line"]
    assert [t["name"] for t in themes["recent"]] == ["Police line"]
    assert client.get(reverse("annotation-api:cluster-themes", args=[shared_sample.public_id]),
                      {"pass": "text", "q": "pol"}).json()["results"] == []
    shared_sample.round.status = "closed"
    shared_sample.round.save()
    r = _put(client, reverse("annotation-api:post-code", args=[post.public_id, "image"]),
             theme_name="Other", base_version=1)
    assert r.status_code == 423
    assert PostCode.objects.get(pass_name="image").theme.name == "Police line"


def test_pass_order_is_enforced_by_pages(shared_sample, users, client):
    client.force_login(users["coder"])
    r = client.get(reverse("annotation:code-pass", args=[shared_sample.public_id, "joint"]))
    assert r.status_code == 302 and r.url.endswith("/text/")
    r = client.get(reverse("annotation:code-cluster", args=[shared_sample.public_id]))
    assert r.url.endswith("/text/")


def test_merge_and_adjudication(shared_sample, users, coder2, client):
    posts = list(shared_sample.posts.all())
    for user, common_name, post_names in (
            (users["coder"], "Protest", ["Protest", "Protest", "Flood"]),
            (coder2, "Demonstration", ["Demonstration", "Rally", "Flood"])):
        client.force_login(user)
        _put(client, reverse("annotation-api:common-code", args=[shared_sample.public_id, "text"]),
             theme_name=common_name, base_version=0)
        for post, name in zip(posts, post_names):
            _put(client, reverse("annotation-api:post-code", args=[post.public_id, "text"]),
                 theme_name=name, base_version=0)
    items = disagreements(shared_sample.round)
    assert len(items) == 1 and items[0]["common_differs"] and items[0]["n_posts_differ"] == 2
    protest = Theme.objects.get(name="Protest")
    merge_themes(Theme.objects.get(name="Demonstration"), protest, users["pi"], "same thing")
    items = disagreements(shared_sample.round)
    assert not items[0]["common_differs"] and items[0]["n_posts_differ"] == 1
    # chained merges stay one hop
    merge_themes(protest, Theme.objects.get(name="Rally"), users["pi"])
    assert Theme.objects.get(name="Demonstration").merged_into.name == "Rally"
    assert disagreements(shared_sample.round) == []
    # the PI records a decision through the page
    client.force_login(users["pi"])
    url = reverse("annotation:adjudicate", args=[shared_sample.round_id])
    r = client.post(url, {"cluster": shared_sample.public_id, "pass_name": "text",
                          "theme_name": "Rally", "note": "agreed in meeting"})
    assert r.status_code == 302
    adj = Adjudication.objects.get()
    assert adj.theme.name == "Rally" and adj.sampled_post is None and adj.decided_by == users["pi"]
    r = client.post(url, {"cluster": shared_sample.public_id, "pass_name": "text",
                          "post": posts[1].public_id, "theme_name": "Rally"})
    assert Adjudication.objects.count() == 2
    client.post(url, {"cluster": shared_sample.public_id, "name": "Street protests"})
    shared_sample.refresh_from_db()
    assert shared_sample.name == "Street protests"
    codebook = client.get(reverse("annotation:codebook", args=[shared_sample.round.project_id])
                          ).content.decode()
    assert "same thing" in codebook


def test_texts_are_escaped_with_direction_and_language(validation_round, users, client):
    """A Chinese, an Arabic and a markup text in one of the coder's clusters (placed there, with
    the language the sampler would guess: which pairs a round samples follows its secret)."""
    from annotation.models import Assignment
    from annotation.services.sampling import guess_lang
    from tests.fixtures.annotation import SPECIAL_TEXTS

    client.force_login(users["coder"])
    first = Assignment.objects.filter(coder=users["coder"]).order_by("pk").first().cluster_sample
    for post, text in zip(first.posts.order_by("position"), SPECIAL_TEXTS.values()):
        post.text, post.lang = text, guess_lang(text)
        post.save(update_fields=["text", "lang"])
    seen = set()
    for a in Assignment.objects.filter(coder=users["coder"]).select_related("cluster_sample"):
        page = client.get(reverse("annotation:code-pass", args=[a.cluster_sample.public_id, "text"])
                          ).content.decode()
        assert page.count('class="post-text" dir="auto"') == a.cluster_sample.posts.count()
        assert "<script>alert" not in page
        if "&lt;script&gt;alert" in page:
            seen.add("escaped")
        if 'lang="zh">抗议者' in page:
            seen.add("zh")
        if 'lang="ar">مظاهرة' in page:
            seen.add("ar")
    assert seen == {"escaped", "zh", "ar"}


def test_leaving_the_project_closes_the_clusters(shared_sample, users, client):
    from projects.models import Membership

    client.force_login(users["coder"])
    url = reverse("annotation:code-pass", args=[shared_sample.public_id, "text"])
    assert client.get(url).status_code == 200
    Membership.objects.filter(user=users["coder"], project=shared_sample.round.project).delete()
    assert client.get(url).status_code == 404
    assert client.get(reverse("annotation-api:assignments")).json()["results"] == []


def test_effective_theme_map(validation_round, users):
    from annotation.services.codebook import effective_theme_map
    from annotation.services.coding import get_or_create_theme

    project = validation_round.project
    a, b = (get_or_create_theme(project, "text", n) for n in ("A", "B"))
    merge_themes(a, b, users["pi"])
    assert effective_theme_map(project) == {a.pk: b.pk, b.pk: b.pk}
    # a merged name is still its own theme (what its coder sees); it scores as its target
    assert get_or_create_theme(project, "text", "a") == a


def test_codebook_merge_through_the_page(validation_round, users, client):
    from annotation.services.coding import get_or_create_theme

    project = validation_round.project
    a, b = (get_or_create_theme(project, "image", n) for n in ("Riot police", "Police"))
    client.force_login(users["pi"])
    url = reverse("annotation:codebook", args=[project.pk])
    r = client.post(url, {"modality": "image", "source": a.public_id, "target": b.public_id,
                          "note": "dup"})
    assert r.status_code == 302
    a.refresh_from_db()
    assert a.merged_into == b and a.merges_out.get().note == "dup"
    page = client.get(url + "?modality=image").content.decode()
    assert "“Riot police” → “Police”" in page
    client.force_login(users["coder"])
    assert client.post(url, {"modality": "image", "source": b.public_id,
                             "target": a.public_id}).status_code == 404
