"""Inputs that used to answer 500: each is now a 400 JSON naming the field (API) or a message
naming it on the page (forms), and nothing is saved."""
from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999999"


def _json_error(response, status=400):
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    return response.json()


def _client(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def test_deep_json_on_the_anonymous_token_endpoint_is_a_400():
    deep = '{"username": ' + '{"a": ' * 5000 + "1" + "}" * 5000 + ', "password": "x"}'
    body = _json_error(Client(raise_request_exception=False).post(
        "/api/token/", deep, content_type="application/json"))
    assert "nested deeper" in body["detail"]
    # a JSON array, not an object, is refused too (it reached .get() on a list)
    assert _json_error(Client(raise_request_exception=False).post(
        "/api/token/", "[1, 2]", content_type="application/json"))


def test_huge_round_ids_on_the_analysis_api_are_a_400(validation_round, users):
    pi = _client(users["pi"])
    project = validation_round.project_id
    for name in ("analysis-codes", "analysis-cluster-scores", "analysis-reliability"):
        url = reverse(f"scoring-api:{name}", args=[project])
        for bad in (HUGE, f"{validation_round.pk},{HUGE}", "-1", "abc"):
            body = _json_error(pi.get(url, {"round": bad}))
            assert "whole numbers" in str(body["round"]), (name, bad, body)


def test_huge_base_version_in_coding_and_intrusion_answers_is_a_400(validation_round, users):
    from annotation.services.intrusion import create_round_with_tasks

    coder = _client(users["coder"])
    post = validation_round.samples.filter(assignments__coder=users["coder"]).first().posts.first()
    url = reverse("annotation-api:post-code", args=[post.public_id, "text"])
    body = _json_error(coder.put(url, {"theme_name": "boats", "base_version": int(HUGE)},
                                 content_type="application/json"))
    assert "base_version" in body
    assert not post.codes.exists()

    intrusion_round = create_round_with_tasks(
        validation_round.project, list(validation_round.solutions.all()), consistency=False,
        intrusion_kinds=["image"], name="intrusion", created_by=users["pi"],
        coders=[users["coder"]])
    task = intrusion_round.intrusion_tasks.order_by("order").first()
    url = reverse("annotation-api:intrusion-answer", args=[task.public_id])
    for field, payload in (("base_version", {"choice": 1, "base_version": int(HUGE)}),
                           ("choice", {"choice": int(HUGE), "base_version": 0})):
        assert field in _json_error(coder.put(url, payload, content_type="application/json"))
    assert not task.answers.exists()


def _named(data: bytes, name: str):
    f = io.BytesIO(data)
    f.name = name
    return f


def _png() -> bytes:
    from PIL import Image
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 10, 10)).save(buffer, "PNG")
    return buffer.getvalue()


def test_a_jsonl_table_nested_100000_deep_is_a_rejected_row_not_a_500(users, project):
    from projects.models import Dataset

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.png", _png())
    deep = '{"id": "2", "text": ' + "[" * 100_000 + "]" * 100_000 + ', "image": "a.png"}'
    table = (json.dumps({"id": "1", "text": "fine", "image": "a.png"}) + "\n" + deep + "\n")
    pi = _client(users["pi"])
    page = pi.post(reverse("projects:dataset-import", args=[project.pk]), {
        "upload-name": "deep", "upload-table": _named(table.encode(), "pairs.jsonl"),
        "upload-images_zip": _named(buffer.getvalue(), "images.zip")}, follow=True)
    assert page.status_code == 200
    dataset = Dataset.objects.get(project=project)
    assert (dataset.n_pairs_valid, dataset.n_rejected) == (1, 1)
    assert "nested deeper" in json.dumps(dataset.validation_report)


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_pi_forms_with_ids_that_are_not_numbers_answer_a_message(validation_round, users):
    from annotation.models import Theme

    pi = _client(users["pi"])
    project = validation_round.project
    theme = Theme.objects.create(project=project, modality="text", name="boats")
    rename = reverse("annotation:theme-rename", args=[project.pk])
    for bad in ("abc", HUGE):
        refused = pi.post(rename, {"theme": bad, "name": "ships"})
        assert refused.status_code in (400, 404), refused.status_code
    manage = reverse("annotation:round-manage", args=[validation_round.pk])
    intrusion = reverse("annotation:intrusion-manage", args=[validation_round.pk])
    for url, data in ((manage, {"action": "assign", "coders": ["abc"]}),
                      (manage, {"action": "assign", "coders": [HUGE]}),
                      (intrusion, {"coders": ["abc"], "kinds": ["image"]})):
        response = pi.post(url, data)
        assert response.status_code == 302, (url, data, response.status_code)
        assert any(m.startswith("coders:") for m in _messages(response)), _messages(response)
    assert not validation_round.intrusion_tasks.exists()
    theme.refresh_from_db()
    assert theme.name == "boats"


def test_theme_names_with_bidi_controls_are_refused_wherever_they_enter(validation_round, users):
    from annotation.models import Theme

    project = validation_round.project
    spoofed = "boats\u202eserif"
    coder = _client(users["coder"])
    post = validation_round.samples.filter(assignments__coder=users["coder"]).first().posts.first()
    for control in ("\u202a", "\u202e", "\u2066", "\u2069", "\u200e", "\u200f", "\u061c"):
        body = _json_error(coder.put(
            reverse("annotation-api:post-code", args=[post.public_id, "text"]),
            {"theme_name": f"boats{control}x"}, content_type="application/json"))
        assert "direction" in str(body["theme_name"])
    pi = _client(users["pi"])
    theme = Theme.objects.create(project=project, modality="text", name="boats")
    response = pi.post(reverse("annotation:theme-rename", args=[project.pk]),
                       {"theme": getattr(theme, "public_id", theme.pk), "name": spoofed})
    shown = _messages(response) + [response.content.decode()]
    assert any("name:" in m and "direction" in m for m in shown), shown
    theme.refresh_from_db()
    assert theme.name == "boats"
    assert not Theme.objects.filter(name__contains="\u202e").exists()
