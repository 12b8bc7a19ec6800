"""Bad query parameters, deeply nested JSON and large bodies on the API: 400 / 413 with a JSON
message naming what was wrong, never a 500 or an HTML page."""
from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999999"


def _json_error(response, status):
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    return response.json()


def test_bad_ids_deep_json_and_large_bodies_answer_json_errors(validation_round, users):
    pi = Client(raise_request_exception=False)
    pi.force_login(users["pi"])
    for url, name in (("/api/datasets/?project=abc", "project"),
                      (f"/api/datasets/?project={HUGE}", "project"),
                      ("/api/runs/?project=abc", "project"), ("/api/runs/?dataset=x", "dataset"),
                      ("/api/solutions/?run=x", "run"), (f"/api/solutions/?run={HUGE}", "run"),
                      ("/api/clusters/?solution=-1", "solution"),
                      ("/api/annotation/rounds/?project=abc", "project"),
                      (f"/api/annotation/rounds/?project={HUGE}", "project")):
        body = _json_error(pi.get(url), 400)
        assert name in body and "whole number" in str(body[name]), (url, body)
    coder_client = Client(raise_request_exception=False)
    coder_client.force_login(users["coder"])
    for bad in ("abc", HUGE):
        body = _json_error(coder_client.get(f"/api/annotation/intrusion/tasks/?round={bad}"), 400)
        assert "whole number" in str(body["round"])
    # A good id still filters.
    assert pi.get(f"/api/annotation/rounds/?project={validation_round.project_id}"
                  ).json()["results"][0]["id"] == validation_round.pk

    deep = "[" * 5000 + "]" * 5000
    body = _json_error(pi.post("/api/projects/", deep, content_type="application/json"), 400)
    assert "nested deeper" in body["detail"]
    coder = Client(raise_request_exception=False)
    coder.force_login(users["coder"])
    sample = validation_round.samples.filter(assignments__coder=users["coder"]).first()
    post = sample.posts.first()
    put_url = reverse("annotation-api:post-code", args=[post.public_id, "text"])
    deep_object = '{"theme_name": ' + '{"a": ' * 5000 + "1" + "}" * 5000 + "}"
    assert "nested deeper" in _json_error(
        coder.put(put_url, deep_object, content_type="application/json"), 400)["detail"]

    large = json.dumps({"theme_name": "x" * (3 * 1024 * 1024)})
    assert "larger than" in _json_error(
        coder.put(put_url, large, content_type="application/json"), 413)["detail"]
    form = "username=" + "x" * (3 * 1024 * 1024) + "&password=y"
    assert "larger than" in _json_error(Client(raise_request_exception=False).post(
        "/api/token/", form, content_type="application/x-www-form-urlencoded"), 413)["detail"]
    # Django's own error pages under /api/ are JSON too.
    assert _json_error(pi.get("/api/no-such-endpoint/"), 404)["detail"] == "not found"
    # and nothing was saved by any of it
    assert not post.codes.exists()
