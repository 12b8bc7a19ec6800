"""Blinding and roles: coders (and outsiders) get 404 on every scoring page and endpoint;
viewers read the comparison but cannot choose or export; the PI does everything."""
import pytest
from django.urls import reverse

from scoring.models import ExportJob

pytestmark = pytest.mark.django_db


@pytest.fixture
def job(validation_round, users, tmp_path):
    path = tmp_path / "export.zip"
    path.write_bytes(b"PK\x05\x06" + b"\x00" * 18)
    return ExportJob.objects.create(project=validation_round.project, created_by=users["pi"],
                                    status="succeeded", file_path=str(path))


def read_urls(project):
    return [reverse("scoring:comparison", args=[project.pk]),
            reverse("scoring:comparison-plot", args=[project.pk, "png"]),
            reverse("scoring-api:comparison", args=[project.pk]),
            reverse("scoring-api:cluster-scores", args=[project.pk])]


def pi_urls(project, job):
    return [reverse("scoring:exports", args=[project.pk]),
            reverse("scoring:export-download", args=[job.pk]),
            reverse("scoring-api:exports", args=[project.pk]),
            reverse("scoring-api:export-detail", args=[job.pk])]


@pytest.mark.parametrize("role", ["coder", "outsider"])
def test_coders_and_outsiders_get_404_everywhere(role, validation_round, job, users, coder2,
                                                 client):
    project = validation_round.project
    solution = validation_round.solutions.first()
    for user in (users[role], coder2):
        client.force_login(user)
        for url in read_urls(project) + pi_urls(project, job):
            assert client.get(url).status_code == 404, url
        assert client.post(reverse("scoring-api:exports", args=[project.pk])).status_code == 404
        assert client.post(reverse("scoring:exports", args=[project.pk])).status_code == 404
        assert client.put(reverse("scoring-api:choice", args=[project.pk, solution.pk]),
                          {"chosen": True}, content_type="application/json").status_code == 404
        assert client.post(reverse("scoring:choose", args=[project.pk]),
                           {"solution": solution.pk, "chosen": "1"}).status_code == 404
    assert ExportJob.objects.count() == 1


def test_viewer_reads_the_comparison_but_cannot_choose_or_export(validation_round, job, users,
                                                                 client):
    project = validation_round.project
    client.force_login(users["viewer"])
    for url in read_urls(project):
        assert client.get(url).status_code == 200, url
    for url in pi_urls(project, job):
        assert client.get(url).status_code == 404, url
    solution = validation_round.solutions.first()
    assert client.put(reverse("scoring-api:choice", args=[project.pk, solution.pk]),
                      {"chosen": True}, content_type="application/json").status_code == 404
    assert "Choose</button>" not in client.get(reverse("scoring:comparison", args=[project.pk])).content.decode()


def test_pi_reaches_everything_and_anonymous_nothing(validation_round, job, users, client):
    project = validation_round.project
    for url in read_urls(project) + pi_urls(project, job):
        assert client.get(url).status_code in (302, 403), url
    client.force_login(users["pi"])
    for url in read_urls(project) + pi_urls(project, job):
        assert client.get(url).status_code == 200, url


def test_uncoded_round_gives_a_clear_table(validation_round, users, client):
    client.force_login(users["pi"])
    table = client.get(reverse("scoring-api:comparison", args=[validation_round.project.pk])).json()
    assert len(table["rows"]) == 2
    row = table["rows"][0]
    assert row["consistency_text"] is None and row["alpha_text"] is None
    assert row["alpha_text_message"].startswith("undefined")
    page = client.get(reverse("scoring:comparison", args=[validation_round.project.pk]))
    assert page.status_code == 200 and "not coded" in page.content.decode()
    assert "nan" not in page.content.decode().lower().replace("nano", "")
