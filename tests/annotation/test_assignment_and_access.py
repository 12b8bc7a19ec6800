"""Assignments (calibration + split, full overlap, reassign), progress, and who reaches what."""
import pytest
from django.urls import reverse

from annotation.models import Assignment, ValidationRound
from annotation.services.assignment import (AssignmentError, assign_round, coder_progress,
                                            reassign)
from annotation.services.sampling import create_round

pytestmark = pytest.mark.django_db


def _assigned(validation_round, user):
    return set(Assignment.objects.filter(round=validation_round, coder=user)
               .values_list("cluster_sample__public_id", flat=True))


def test_calibration_by_everyone_rest_split(validation_round, users, coder2):
    samples = list(validation_round.samples.order_by("order"))
    calibration = {s.public_id for s in samples if s.is_calibration}
    assert len(calibration) == 2
    a, b = _assigned(validation_round, users["coder"]), _assigned(validation_round, coder2)
    assert calibration <= a and calibration <= b
    assert (a | b) == {s.public_id for s in samples}
    assert (a & b) == calibration
    assert abs(len(a) - len(b)) <= 1


def test_full_overlap_and_eligibility(project, solutions, users, coder2):
    r = create_round(project, solutions, name="full", posts_per_cluster=2,
                     overlap=ValidationRound.Overlap.FULL, coders=[users["coder"], coder2])
    n = r.samples.count()
    assert len(_assigned(r, users["coder"])) == n == len(_assigned(r, coder2))
    with pytest.raises(AssignmentError):
        assign_round(r, [users["viewer"]])      # viewers do not code
    with pytest.raises(AssignmentError):
        assign_round(r, [users["outsider"]])


def test_reassign_and_progress(validation_round, users, coder2, client):
    only_first = sorted(_assigned(validation_round, users["coder"])
                        - _assigned(validation_round, coder2))[0]
    sample = validation_round.samples.get(public_id=only_first)
    client.force_login(coder2)
    url = reverse("annotation:code-pass", args=[only_first, "text"])
    assert client.get(url).status_code == 404
    reassign(validation_round, sample, users["coder"], coder2)
    assert client.get(url).status_code == 200
    client.force_login(users["coder"])
    assert client.get(url).status_code == 404
    rows = {r["coder"].username: r for r in coder_progress(validation_round)}
    assert rows["coder2"]["clusters"] == len(_assigned(validation_round, coder2))
    assert rows["coder"]["done"] == 0 and rows["coder"]["total"] > 0


def test_pi_pages(validation_round, users, client):
    client.force_login(users["pi"])
    pages = [reverse("annotation:round-list", args=[validation_round.project_id]),
             reverse("annotation:round-new", args=[validation_round.project_id]),
             reverse("annotation:round-manage", args=[validation_round.pk]),
             reverse("annotation:adjudicate", args=[validation_round.pk]),
             reverse("annotation:codebook", args=[validation_round.project_id])]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
    manage = client.get(pages[2]).content.decode()
    assert "vector-kmeans-k25" in manage and "noise" in manage  # the PI sees everything
    for name in ("coder", "viewer", "outsider"):
        client.force_login(users[name])
        for url in pages:
            assert client.get(url).status_code == 404, (name, url)
    client.force_login(users["coder"])
    assert client.get(reverse("annotation-api:rounds")).json()["results"] == []
    assert client.get(reverse("annotation-api:round-detail", args=[validation_round.pk])
                      ).status_code == 404


def test_round_form_creates_round(project, solutions, users, coder2, client):
    client.force_login(users["pi"])
    response = client.post(reverse("annotation:round-new", args=[project.pk]), {
        "name": "form round", "solutions": [s.pk for s in solutions], "posts_per_cluster": 3,
        "seed": 5, "calibration_clusters": 1, "overlap": "calibration",
        "coders": [users["coder"].pk, coder2.pk]})
    assert response.status_code == 302
    r = ValidationRound.objects.get(name="form round")
    assert r.samples.count() == 8 and r.assignments.count() == 9


def test_round_api_for_pi(project, solutions, users, client):
    client.force_login(users["pi"])
    response = client.post(reverse("annotation-api:rounds"), {
        "project": project.pk, "name": "api round", "solutions": [s.pk for s in solutions],
        "posts_per_cluster": 2, "seed": 1, "coders": ["coder"]}, content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["n_clusters"] == 8
    client.force_login(users["viewer"])
    response = client.post(reverse("annotation-api:rounds"), {
        "project": project.pk, "name": "x", "solutions": [solutions[0].pk]},
        content_type="application/json")
    assert response.status_code == 404


def test_coder_sees_only_own_assignments_and_labels(validation_round, users, coder2, client):
    shared = sorted(_assigned(validation_round, users["coder"]) & _assigned(validation_round, coder2))[0]
    sample = validation_round.samples.get(public_id=shared)
    post = sample.posts.first()
    client.force_login(users["coder"])
    r = client.put(reverse("annotation-api:post-code", args=[post.public_id, "text"]),
                   {"theme_name": "flood rescue", "base_version": 0}, content_type="application/json")
    assert r.status_code == 201
    client.force_login(coder2)
    state = client.get(reverse("annotation-api:cluster-state", args=[shared])).json()
    assert all(p["theme"] is None for p in state["passes"]["text"]["posts"])
    page = client.get(reverse("annotation:code-pass", args=[shared, "text"])).content.decode()
    assert "flood rescue" not in page
    for name in ("viewer", "outsider"):
        client.force_login(users[name])
        assert client.get(reverse("annotation:code-cluster", args=[shared])).status_code == 404
        assert client.get(reverse("annotation-api:cluster-state", args=[shared])).status_code == 404
        assert client.put(reverse("annotation-api:post-code", args=[post.public_id, "text"]),
                          {"theme_name": "x"}, content_type="application/json").status_code == 404


def test_pi_reassigns_and_closes_through_the_page(validation_round, users, coder2, client):
    only_first = sorted(_assigned(validation_round, users["coder"])
                        - _assigned(validation_round, coder2))[0]
    client.force_login(users["pi"])
    url = reverse("annotation:round-manage", args=[validation_round.pk])
    r = client.post(url, {"action": "reassign", "cluster": only_first,
                          "from_coder": users["coder"].pk, "to_coder": coder2.pk})
    assert r.status_code == 302
    assert only_first in _assigned(validation_round, coder2)
    assert only_first not in _assigned(validation_round, users["coder"])
    r = client.post(url, {"action": "reassign", "cluster": "CNOSUCH", "to_coder": coder2.pk})
    assert r.status_code == 200 and b"no such cluster" in r.content
    client.post(url, {"action": "close"})
    validation_round.refresh_from_db()
    assert validation_round.status == "closed"


def test_round_creation_errors(project, solutions, finished_run, users):
    from projects.models import EngineRun, Solution

    from annotation.services.sampling import SamplingError

    with pytest.raises(SamplingError):
        create_round(project, [], name="none")
    unfinished = EngineRun.objects.create(project=project, dataset=finished_run.dataset,
                                          status="running", output_dir=finished_run.output_dir)
    s = Solution.objects.create(run=unfinished, solution_id=solutions[0].solution_id,
                                method="vector", algorithm="kmeans", k=4, n_clusters=4)
    with pytest.raises(SamplingError, match="finished"):
        create_round(project, [s], name="unfinished")
    missing = Solution.objects.create(run=finished_run, solution_id="joint-kmeans-k9",
                                      method="joint", algorithm="kmeans", k=9, n_clusters=9)
    with pytest.raises(SamplingError, match="no column"):
        create_round(project, [missing], name="missing")
    assert not ValidationRound.objects.exists()
