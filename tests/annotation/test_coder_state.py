"""The coding page and the API's resume state show a coder the same codes (one builder)."""
import pytest
from django.urls import reverse

from annotation.services.codebook import merge_themes
from annotation.services.coding import get_or_create_theme

pytestmark = pytest.mark.django_db


def _put(client, url, **body):
    return client.put(url, body, content_type="application/json")


def test_page_and_api_state_agree_and_show_the_coders_own_names_after_a_merge(
        validation_round, users, client):
    """A coder keeps seeing their own spelling after the PI merges it into another theme."""
    sample = validation_round.samples.filter(is_calibration=True).order_by("order").first()
    posts = list(sample.posts.all())
    client.force_login(users["coder"])
    for post, name in zip(posts[:2], ("Road blockade", "Banner")):
        url = reverse("annotation-api:post-code", args=[post.public_id, "text"])
        assert _put(client, url, theme_name=name, base_version=0).status_code == 201
    url = reverse("annotation-api:post-code", args=[posts[0].public_id, "text"])
    assert _put(client, url, theme_name="Sit-in", base_version=1).status_code == 200
    common = reverse("annotation-api:common-code", args=[sample.public_id, "text"])
    assert _put(client, common, theme_name="Banner", base_version=0).status_code == 201
    project = validation_round.project
    merge_themes(get_or_create_theme(project, "text", "Banner"),
                 get_or_create_theme(project, "text", "Protest"), users["pi"], "same thing")

    state = client.get(reverse("annotation-api:cluster-state", args=[sample.public_id])).json()
    page = client.get(reverse("annotation:code-pass", args=[sample.public_id, "text"]))
    assert page.status_code == 200
    data = page.context["data"]

    text = state["passes"]["text"]
    assert data["common"] == text["common"] == {
        "theme": {"id": text["common"]["theme"]["id"], "name": "Banner"}, "version": 1}
    assert [(p["id"], p["theme"], p["version"]) for p in data["posts"]] == [
        (p["id"], p["theme"], p["version"]) for p in text["posts"]]
    assert [p["id"] for p in text["posts"]] == [p.public_id for p in posts]
    assert [p["position"] for p in text["posts"]] == [p.position for p in posts]
    named = [(p["theme"] or {}).get("name") for p in text["posts"]]
    assert named[:2] == ["Sit-in", "Banner"] and set(named[2:]) == {None}
    assert "Protest" not in page.content.decode()
    assert [p["version"] for p in text["posts"]][:3] == [2, 1, 0]
    assert all(p["theme"] is None and p["version"] == 0
               for other in ("image", "joint") for p in state["passes"][other]["posts"])
