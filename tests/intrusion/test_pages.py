"""PI and coder pages: the round form makes intrusion-only rounds, the PI's intrusion page shows
the plan (coders get 404), the coder's overview lists the intrusion set, and a cluster-only
round form still makes a consistency-only round."""
import pytest
from django.urls import reverse

from annotation.models import ValidationRound

pytestmark = pytest.mark.django_db


def test_round_form_intrusion_only_and_manage_page(project, intrusion_solutions, users, coder2,
                                                   client):
    client.force_login(users["pi"])
    form = {"name": "odd one out", "solutions": [s.pk for s in intrusion_solutions],
            "posts_per_cluster": 3, "seed": 5, "calibration_clusters": 1,
            "overlap": "calibration", "coders": [users["coder"].pk, coder2.pk]}
    missing = client.post(reverse("annotation:round-new", args=[project.pk]),
                          {**form, "task_types": "intrusion"})
    assert missing.status_code == 200 and "choose at least one kind" in missing.content.decode()
    response = client.post(reverse("annotation:round-new", args=[project.pk]),
                           {**form, "task_types": "intrusion", "intrusion_kinds": ["text"],
                            "intrusion_items": 4})
    assert response.status_code == 302
    made = ValidationRound.objects.get(name="odd one out")
    assert not made.samples.exists() and not made.assignments.exists()
    assert made.intrusion_tasks.count() == 24 + 7
    assert set(made.intrusion_tasks.values_list("n_items", flat=True)) == {5}
    page = client.get(reverse("annotation:intrusion-manage", args=[made.pk])).content.decode()
    assert "vector-kmeans-k24" in page and "Generation report" in page     # the PI sees all

    plain = client.post(reverse("annotation:round-new", args=[project.pk]),
                        {**form, "name": "themes only"})
    assert plain.status_code == 302
    themes = ValidationRound.objects.get(name="themes only")
    assert themes.samples.exists() and not themes.intrusion_tasks.exists()

    client.force_login(users["coder"])
    assert client.get(reverse("annotation:intrusion-manage", args=[made.pk])).status_code == 404
    work = client.get(reverse("annotation:my-work")).content.decode()
    assert reverse("annotation:code-intrusion", args=[made.pk]) in work
    coding = client.get(reverse("annotation:code-intrusion", args=[made.pk]))
    assert coding.status_code == 200
    assert "vector-kmeans" not in coding.content.decode()
    client.force_login(users["outsider"])
    assert client.get(reverse("annotation:code-intrusion", args=[made.pk])).status_code == 404


def test_pi_adds_intrusion_tasks_on_the_page(project, intrusion_solutions, users, client):
    from annotation.services.sampling import create_round

    validation_round = create_round(project, intrusion_solutions, name="plain", seed=2,
                                    posts_per_cluster=3, calibration_clusters=0)
    client.force_login(users["pi"])
    url = reverse("annotation:intrusion-manage", args=[validation_round.pk])
    response = client.post(url, {"kinds": ["term"], "items_per_task": 5,
                                 "calibration_tasks": 2, "coders": [users["coder"].pk]})
    assert response.status_code == 302
    assert validation_round.intrusion_tasks.filter(kind="term").count() == 24 + 7
    assert validation_round.intrusion_plan.has_consistency is True
    again = client.post(url, {"coders": [users["coder"].pk]}, follow=True)
    assert "0 intrusion assignments added" in again.content.decode()
