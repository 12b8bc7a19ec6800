"""What the dashboard, the run form and the comparison read out: the AMI card in the paper's
direction, the K table with its flags, the S_Dbw matrix, known groupings, and the notice that no
pretrained multimodal model is configured."""
from django.urls import reverse

import pytest

pytestmark = pytest.mark.django_db


def test_dashboard_reads_ami_k_and_every_space(client, users, stored_run):
    client.force_login(users["pi"])
    page = client.get(reverse("projects:run-dashboard", args=[stored_run.pk])).content.decode()
    assert "The higher the AMI, the less joint clustering should add" in page
    assert "0.166 on BU-NEmo" in page and "rather limited" in page
    assert "project&#x27;s own convention" in page or "project's own convention" in page
    assert 'id="k-table"' in page and "★ chosen" in page
    assert 'id="space-matrix"' in page
    for space in ("text", "label", "vector", "cca"):
        assert f">{space} space</th>" in page
    assert page.count(" ●") >= stored_run.solutions.filter(kind="combined").count() > 0
    assert "AMI vs image_label" in page
    assert "no joint embedding" in page   # the run's notice, up front


def test_run_form_offers_the_columns_and_says_there_is_no_joint_model(client, users, project,
                                                                     dataset):
    client.force_login(users["pi"])
    page = client.get(reverse("projects:run-new", args=[project.pk])).content.decode()
    assert 'id="joint-notice"' in page and "no joint embedding" in page
    assert '<option value="event">event</option>' in page
    assert '<option value="text">' not in page.split('name="truth_column"')[1].split("</select>")[0]
    response = client.post(reverse("projects:run-new", args=[project.pk]), {
        "dataset": dataset.pk, "text_model": "use-multilingual",
        "image_model": "efficientnet-lite0", "joint_model": "rcca", "methods": ["vector"],
        "ks": "4", "algorithms": ["kmeans"], "reduction": "pca", "n_components": 5, "seed": 0,
        "truth_column": "no_such_column"})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
