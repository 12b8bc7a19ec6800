"""REST API: token and session auth, membership filtering (404 outside), roles, schema."""
import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from projects.models import EngineRun

pytestmark = pytest.mark.django_db


def api(user=None):
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


def test_anonymous_requests_are_refused(project):
    assert api().get("/api/projects/").status_code in (401, 403)


def test_token_auth_and_project_creation(users, settings):
    from django.contrib.auth.models import Group

    client = api(users["outsider"])
    users["outsider"].groups.add(Group.objects.create(name=settings.DIPTYCH_PI_GROUP))
    response = client.post("/api/projects/", {"name": "Mine"}, format="json")
    assert response.status_code == 201 and response.json()["my_role"] == "pi"
    assert [p["name"] for p in client.get("/api/projects/").json()["results"]] == ["Mine"]


def test_token_endpoint(users):
    response = APIClient().post("/api/token/", {"username": "pi", "password": "pw-pi"})
    assert response.status_code == 200 and response.json()["token"]


@pytest.mark.parametrize("role,expected", [
    ("pi", {"projects": 1, "datasets": 1, "runs": 1, "solutions": "all", "clusters": True}),
    ("viewer", {"projects": 1, "datasets": 1, "runs": 1, "solutions": "all", "clusters": True}),
    ("coder", {"projects": 1, "datasets": 0, "runs": 0, "solutions": 0, "clusters": False}),
    ("outsider", {"projects": 0, "datasets": 0, "runs": 0, "solutions": 0, "clusters": False}),
])
def test_lists_are_filtered_by_membership_and_role(users, stored_run, role, expected):
    client = api(users[role])
    every_solution = stored_run.solutions.count()
    assert every_solution > 0
    for resource in ("projects", "datasets", "runs", "solutions"):
        want = every_solution if expected[resource] == "all" else expected[resource]
        assert client.get(f"/api/{resource}/").json()["count"] == want, resource
    clusters = client.get("/api/clusters/").json()["count"]
    assert (clusters > 0) == expected["clusters"]
    run_status = client.get(f"/api/runs/{stored_run.pk}/").status_code
    assert run_status == (200 if expected["runs"] else 404)


def test_only_the_pi_creates_runs_and_others_get_404(users, stored_run, monkeypatch):
    monkeypatch.setattr("projects.services.runs.dispatch_on_commit", lambda run_id: None)
    body = {"dataset": stored_run.dataset.pk, "options": {"ks": [4], "reduction": "pca"}}
    assert api(users["viewer"]).post("/api/runs/", body, format="json").status_code == 404
    assert api(users["outsider"]).post("/api/runs/", body, format="json").status_code == 404
    response = api(users["pi"]).post("/api/runs/", body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "queued" and EngineRun.objects.count() == 2
    bad = api(users["pi"]).post("/api/runs/", {**body, "options": {"ks": [1]}}, format="json")
    assert bad.status_code == 400 and "at least 2" in bad.json()["detail"]


def test_cancel_through_the_api(users, stored_run, monkeypatch):
    monkeypatch.setattr("projects.services.runs.dispatch_on_commit", lambda run_id: None)
    client = api(users["pi"])
    run_id = client.post("/api/runs/", {"dataset": stored_run.dataset.pk}, format="json").json()["id"]
    assert api(users["viewer"]).post(f"/api/runs/{run_id}/cancel/").status_code == 404
    assert client.post(f"/api/runs/{run_id}/cancel/").json()["status"] == "cancelled"
    assert client.post(f"/api/runs/{stored_run.pk}/cancel/").status_code == 400


def test_cluster_search_and_dataset_upload_errors(users, stored_run, project):
    client = api(users["pi"])
    solution = stored_run.solutions.get(solution_id="cca-kmeans-k4")
    every = client.get("/api/clusters/", {"solution": solution.pk}).json()["results"]
    word = every[0]["representatives"][0]["text"].split()[0]
    found = client.get("/api/clusters/", {"solution": solution.pk, "q": word}).json()["results"]
    assert every[0]["id"] in {c["id"] for c in found}
    response = client.post("/api/datasets/", {"project": project.pk, "name": "x",
                                              "server_folder": "/etc"}, format="multipart")
    # a PI without a data root granted to the project may not import server folders at all
    assert response.status_code == 400 and "administrator" in response.json()["detail"]


def test_schema_and_docs(client, users):
    client.force_login(users["pi"])
    schema = client.get("/api/schema/")
    assert schema.status_code == 200 and b"/api/runs/{id}/cancel/" in schema.content
    assert client.get("/api/docs/").status_code == 200
