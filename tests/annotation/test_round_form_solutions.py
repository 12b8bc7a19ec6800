"""The round form offers only the solutions a PI can validate: the single-modality clusterings
that exist only to build label-level solutions (Solution.Kind.MODALITY) are neither offered nor
accepted, on the page or through the API."""
import pytest
from django.urls import reverse

from annotation.models import ValidationRound

pytestmark = pytest.mark.django_db


@pytest.fixture
def building_block(finished_run):
    from projects.models import Solution

    return Solution.objects.create(run=finished_run, solution_id="text-kmeans-k3",
                                   kind=Solution.Kind.MODALITY, method="text",
                                   algorithm="kmeans", k=3, n_clusters=3, space="text")


def test_round_form_offers_and_accepts_only_method_solutions(project, solutions, building_block,
                                                              users, client):
    client.force_login(users["pi"])
    url = reverse("annotation:round-new", args=[project.pk])
    page = client.get(url)
    offered = {choice.data["value"].value for choice in page.context["form"]["solutions"]}
    assert offered == {s.pk for s in solutions}
    assert "text-kmeans-k3" not in page.content.decode()

    form = {"name": "with a part", "solutions": [solutions[0].pk, building_block.pk],
            "posts_per_cluster": 3, "seed": 1, "calibration_clusters": 0,
            "overlap": "calibration", "task_types": "consistency"}
    refused = client.post(url, form)
    assert refused.status_code == 200
    errors = refused.context["form"].errors
    assert list(errors) == ["solutions"]
    assert "building blocks" in errors["solutions"][0]
    assert not ValidationRound.objects.exists()

    accepted = client.post(url, {**form, "solutions": [solutions[0].pk]})
    assert accepted.status_code == 302
    assert list(ValidationRound.objects.get().solutions.all()) == [solutions[0]]


def test_round_api_refuses_a_building_block(project, solutions, building_block, users, client):
    client.force_login(users["pi"])
    response = client.post(reverse("annotation-api:rounds"),
                           {"project": project.pk, "name": "api", "posts_per_cluster": 3,
                            "solutions": [building_block.pk]}, content_type="application/json")
    assert response.status_code == 400
    assert "building blocks" in response.json()["detail"]
    assert not ValidationRound.objects.exists()
