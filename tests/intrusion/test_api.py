"""Intrusion API: coders reach only their tasks, by public id; the payload never says which item
is the intruder, nor the solution, cluster or file names; answers are idempotent versioned PUTs
with 409 on a stale version and 423 once the round is closed; PIs add tasks and read the plan."""
import json

import pytest

from annotation.intrusion_models import (IntrusionAnswer, IntrusionAnswerHistory,
                                         IntrusionAssignment, IntrusionItem, IntrusionTask)

from tests.fixtures.platform import client_for

from .conftest import BY_IMAGE, BY_ROW, SOLUTION_PKS

pytestmark = pytest.mark.django_db


def _leaves(value, path=()):
    """(path, value) of every scalar in a JSON document; a path ends with the key or index."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, (*path, index))
    else:
        yield path, value


def _put(client, url, body):
    return client.put(url, data=json.dumps(body), content_type="application/json")


def test_task_payload_is_blind(intrusion_round, users, client):
    client_for(client, users["coder"])
    response = client.get(f"/api/annotation/intrusion/tasks/?round={intrusion_round.pk}")
    assert response.status_code == 200
    results = response.json()["results"]
    assert len(results) == intrusion_round.intrusion_tasks.count()
    shown = IntrusionItem.objects.filter(task__round=intrusion_round)
    file_names = {i.image for i in shown if i.image}
    pair_ids = {i.pair_id for i in shown if i.pair_id}
    assert file_names and pair_ids
    # On structure, not substrings of the raw body: random public ids and post texts can hold
    # any digit string. No field names a hidden fact; no value is one; only texts and terms are
    # free text, every other string is an opaque id or a URL built from one.
    leaves = list(_leaves(results))
    keys = {path[-1] for path, _ in leaves if isinstance(path[-1], str)}
    assert not keys & {"is_intruder", "intruder", "pair_id", "cluster_label", "solution",
                       "solution_id", "method", "k", "algorithm", "image", "label"}, keys
    hidden = {BY_ROW, BY_IMAGE, *SOLUTION_PKS.values(), *map(str, SOLUTION_PKS.values()),
              *file_names, *pair_ids}
    for path, value in leaves:
        assert value not in hidden, (path, value)
        if isinstance(value, str) and path[-1] not in ("text", "term", "lang"):
            for word in ("kmeans", ".jpg", "_fake_", "_real_", "images/", BY_ROW, BY_IMAGE):
                assert word not in value, (path, value)
    items = {i.public_id: i for i in shown}
    for task in results:
        for item in task["items"]:   # every item id resolves to an item of that very task
            assert items[item["id"]].task.public_id == task["task"]
            if item.get("image_url"):
                assert item["image_url"].rstrip("/").rsplit("/", 1)[-1] == item["id"]
    for task in results:
        assert len(task["items"]) == task["n_items"] == 6
        kind = task["kind"]
        item = task["items"][0]
        assert ("term" in item) == (kind == "term")
        assert ("text" in item) == (kind in ("text", "joint"))
        assert ("image_url" in item) == (kind in ("image", "joint"))
    image_task = next(t for t in results if t["kind"] == "image")
    image = client.get(image_task["items"][0]["image_url"])
    assert image.status_code == 200 and image["Content-Type"] == "image/jpeg"
    assert "Content-Disposition" not in image


def test_answers_are_idempotent_versioned_and_recorded(intrusion_round, users, client):
    task = IntrusionTask.objects.filter(round=intrusion_round).order_by("order").first()
    url = f"/api/annotation/intrusion/tasks/{task.public_id}/answer/"
    client_for(client, users["coder"])
    first = _put(client, url, {"choice": 2, "base_version": 0, "lead_time_s": 3.4})
    assert first.status_code == 201 and first.json()["version"] == 1
    again = _put(client, url, {"choice": 2, "base_version": 0, "lead_time_s": 9.9})  # a retry
    assert again.status_code == 200 and again.json()["status"] == "unchanged"
    changed = _put(client, url, {"unsure": True, "base_version": 1, "lead_time_s": 5.0})
    assert changed.status_code == 200 and changed.json() == {
        "status": "changed", "task": task.public_id, "choice": None, "unsure": True, "version": 2}
    stale = _put(client, url, {"choice": 4, "base_version": 1})
    assert stale.status_code == 409 and stale.json()["unsure"] is True
    answer = IntrusionAnswer.objects.get(task=task, coder=users["coder"])
    assert (answer.choice, answer.unsure, answer.version, answer.lead_time_s) == (None, True, 2, 5.0)
    assert list(IntrusionAnswerHistory.objects.filter(answer=answer).values_list(
        "outcome", "choice")) == [("created", 2), ("changed", None), ("conflict", 4)]
    # bad input: a clear message naming the field, never a 500
    for body in ({"choice": 7}, {"choice": 0}, {}, {"choice": 2, "unsure": True},
                 {"choice": "x"}):
        bad = _put(client, url, body)
        assert bad.status_code == 400, body
    assert "between 1 and 6" in _put(client, url, {"choice": 7, "base_version": 2}).json()["choice"]


def test_closed_round_and_other_coders(intrusion_round, users, client, coder2):
    task = IntrusionTask.objects.filter(round=intrusion_round).order_by("order").first()
    url = f"/api/annotation/intrusion/tasks/{task.public_id}/answer/"
    IntrusionAssignment.objects.filter(task=task, coder=coder2).delete()
    client_for(client, coder2)
    assert client.get(f"/api/annotation/intrusion/tasks/{task.public_id}/").status_code == 404
    assert _put(client, url, {"choice": 1}).status_code == 404
    client_for(client, users["outsider"])
    assert _put(client, url, {"choice": 1}).status_code == 404
    intrusion_round.status = "closed"
    intrusion_round.save()
    client_for(client, users["coder"])
    closed = _put(client, url, {"choice": 1, "base_version": 0})
    assert closed.status_code == 423
    assert not IntrusionAnswer.objects.filter(task=task).exists()
    page = client.get(f"/code/intrusion/rounds/{intrusion_round.pk}/")
    assert page.status_code == 200 and "read-only" in page.content.decode()


def test_pi_adds_tasks_and_reads_the_plan(project, intrusion_solutions, users, client, coder2):
    from annotation.services.sampling import create_round

    validation_round = create_round(project, intrusion_solutions, name="plain", seed=5,
                                    posts_per_cluster=3, calibration_clusters=0)
    url = f"/api/annotation/rounds/{validation_round.pk}/intrusion/"
    client_for(client, users["coder"])
    assert client.post(url, {"kinds": ["text"]}, content_type="application/json"
                       ).status_code == 404
    client_for(client, users["pi"])
    assert client.get(url).status_code == 404                 # no tasks yet
    bad = client.post(url, {"kinds": ["colour"]}, content_type="application/json")
    assert bad.status_code == 400 and "kinds" in bad.json()
    made = client.post(url, {"kinds": ["term", "text"], "items_per_task": 4,
                             "calibration_tasks": 3, "coders": ["coder", "coder2"]},
                       content_type="application/json")
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["n_tasks"] == IntrusionTask.objects.filter(round=validation_round).count() > 0
    assert body["items_per_task"] == 4 and body["has_consistency"] is True
    assert set(IntrusionTask.objects.filter(round=validation_round).values_list(
        "n_items", flat=True)) == {5}
    assert client.get(url).json()["report"]["kinds"] == ["term", "text"]
    again = client.post(url, {"kinds": ["text"]}, content_type="application/json")
    assert again.status_code == 400 and "already" in again.json()["detail"]


def test_openapi_schema_lists_the_endpoints(users, client):
    client_for(client, users["pi"])
    response = client.get("/api/schema/")
    assert response.status_code == 200
    text = response.content.decode()
    for path in ("/api/annotation/intrusion/tasks/:",
                 "/api/annotation/intrusion/tasks/{public_id}/answer/:",
                 "/api/annotation/rounds/{id}/intrusion/:",
                 "/api/scoring/projects/{id}/intrusion/:"):
        assert path in text, path
