"""Pass isolation is enforced by the server, not only hidden by the page: a cluster's images are
refused until the coder's text pass of it is done; a pass is closed (409 naming it) once a later
pass of that cluster has begun; the image pass offers no text-pass theme under the digits."""
import json
import re

import pytest
from django.urls import reverse

from annotation.models import Assignment, PostCode
from annotation.services.suggestions import earlier_pass_themes

pytestmark = pytest.mark.django_db


def _sample_with_images(validation_round, coder):
    for a in Assignment.objects.filter(round=validation_round, coder=coder).select_related(
            "cluster_sample"):
        if a.cluster_sample.posts.exclude(image="").exists():
            return a.cluster_sample
    raise AssertionError("no assigned cluster with images")


def _put(client, url, theme, base_version=0):
    return client.put(url, {"theme_name": theme, "base_version": base_version},
                      content_type="application/json")


def _code_pass(client, sample, pass_name, theme):
    assert _put(client, reverse("annotation-api:common-code", args=[sample.public_id, pass_name]),
                theme).status_code == 201
    for post in sample.posts.all():
        assert _put(client, reverse("annotation-api:post-code", args=[post.public_id, pass_name]),
                    theme).status_code == 201


def test_images_are_refused_until_the_text_pass_is_done(validation_round, users, client):
    coder = users["coder"]
    client.force_login(coder)
    sample = _sample_with_images(validation_round, coder)
    post = sample.posts.exclude(image="").first()
    url = reverse("annotation:coder-image", args=[post.public_id]) + "?size=thumb"
    refused = client.get(url)
    assert refused.status_code == 403
    assert refused["Content-Type"].startswith("text/plain")
    assert "text-only pass" in refused.content.decode()
    _code_pass(client, sample, "text", "Protest")
    served = client.get(url)
    assert served.status_code == 200 and served["Content-Type"] == "image/jpeg"


def test_a_pass_is_closed_once_a_later_pass_has_begun(validation_round, users, client):
    coder = users["coder"]
    client.force_login(coder)
    sample = _sample_with_images(validation_round, coder)
    post = sample.posts.first()
    text_url = reverse("annotation-api:post-code", args=[post.public_id, "text"])
    common_url = reverse("annotation-api:common-code", args=[sample.public_id, "text"])
    _code_pass(client, sample, "text", "Protest")
    # before the image pass begins the text pass may still change
    changed = _put(client, text_url, "Rally", base_version=1)
    assert changed.status_code == 200 and changed.json()["status"] == "changed"

    image_url = reverse("annotation-api:post-code", args=[post.public_id, "image"])
    assert _put(client, image_url, "Crowd").status_code == 201      # the image pass has begun
    for url, version in ((text_url, 2), (common_url, 1)):
        refused = _put(client, url, "Flood", base_version=version)
        assert refused.status_code == 409, refused.content
        body = refused.json()
        assert body["status"] == "pass_locked"
        assert body["pass_name"] == "text" and body["begun"] == "image"
        assert "text only pass" in body["detail"]
    stored = PostCode.objects.get(sampled_post=post, coder=coder, pass_name="text")
    assert (stored.theme.name, stored.version) == ("Rally", 2)
    # the image pass itself stays open until the joint pass begins
    assert _put(client, image_url, "Crowd").json()["status"] == "unchanged"

    page = client.get(reverse("annotation:code-pass", args=[sample.public_id, "text"]))
    data = json.loads(re.search(r'<script id="coding-data" type="application/json">(.*?)</script>',
                                page.content.decode(), re.S).group(1))
    assert data["read_only"] is True
    assert 'id="pass-locked"' in page.content.decode()


def test_image_pass_offers_no_text_pass_theme(validation_round, users, client):
    coder = users["coder"]
    client.force_login(coder)
    sample = _sample_with_images(validation_round, coder)
    _code_pass(client, sample, "text", "Protest")
    assert earlier_pass_themes(sample, coder, "image") == []
    page = client.get(reverse("annotation:code-pass", args=[sample.public_id, "image"]))
    assert page.status_code == 200
    data = json.loads(re.search(r'<script id="coding-data" type="application/json">(.*?)</script>',
                                page.content.decode(), re.S).group(1))
    assert data["earlier"] == [] and "Protest" not in json.dumps(data["recent"])
    _code_pass(client, sample, "image", "Crowd")
    # the joint pass shows texts and images: it is offered the themes of both
    assert earlier_pass_themes(sample, coder, "joint") == [
        {"name": "Crowd", "pass": "image"}, {"name": "Protest", "pass": "text"}]
