"""Project pages and members: a PI adds or creates coders; coders see no engine internals."""
import pytest
from django.contrib.auth import get_user_model

from projects.models import Membership, Project

pytestmark = pytest.mark.django_db


def test_pi_creates_a_coder_account_and_adds_an_existing_user(client, users, project):
    client.force_login(users["pi"])
    url = f"/projects/{project.pk}/members/"
    response = client.post(url, {"username": "new-coder", "role": "coder",
                                 "create_with_password": "a-long-secret-1"})
    assert response.status_code == 302
    new = get_user_model().objects.get(username="new-coder")
    assert new.check_password("a-long-secret-1")
    assert Membership.objects.get(project=project, user=new).role == "coder"
    client.post(url, {"username": "outsider", "role": "viewer"})
    assert Membership.objects.get(project=project, user=users["outsider"]).role == "viewer"
    page = client.post(url, {"username": "ghost", "role": "coder"}).content.decode()
    assert "give it a password" in page


@pytest.mark.parametrize("role", ["viewer", "coder", "outsider"])
def test_only_the_pi_manages_members(client, users, project, role):
    client.force_login(users[role])
    assert client.get(f"/projects/{project.pk}/members/").status_code == 404


def test_project_pages_by_role(client, users, project, dataset):
    client.force_login(users["coder"])
    page = client.get(f"/projects/{project.pk}/").content.decode()
    assert "Engine runs and diagnostics are hidden" in page and dataset.name not in page
    client.force_login(users["viewer"])
    page = client.get(f"/projects/{project.pk}/").content.decode()
    assert dataset.name in page and "Import a data set" not in page
    client.force_login(users["outsider"])
    assert client.get(f"/projects/{project.pk}/").status_code == 404
    assert project.name not in client.get("/").content.decode()


def test_creating_a_project_makes_the_creator_its_pi(client, users, settings):
    from django.contrib.auth.models import Group

    client.force_login(users["outsider"])
    client.post("/", {"name": "Weibo floods", "description": ""})
    assert not Project.objects.filter(name="Weibo floods").exists()
    users["outsider"].groups.add(Group.objects.get_or_create(name=settings.DIPTYCH_PI_GROUP)[0])
    response = client.post("/", {"name": "Weibo floods", "description": ""})
    project = Project.objects.get(name="Weibo floods")
    assert response["Location"] == f"/projects/{project.pk}/"
    assert Membership.objects.get(project=project, user=users["outsider"]).role == "pi"
