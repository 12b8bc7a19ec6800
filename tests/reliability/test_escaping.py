"""HTML and <script> in post texts are rendered inert on the platform's pages (the coding
pages are covered in tests/annotation; the engine's report.html in test_bad_input.py)."""
import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_html_and_script_in_texts_are_inert_on_dashboard_gallery_and_compare(
        degenerate_run, project, users):
    from projects.models import Dataset, EngineRun, RunStatus
    from projects.services.run_outputs import store_run_outputs

    out, table = degenerate_run
    dataset = Dataset.objects.create(project=project, name="hostile", source="folder",
                                     table_path=str(table), images_root=str(table.parent),
                                     n_rows_read=30, n_pairs_valid=30)
    run = EngineRun.objects.create(project=project, dataset=dataset, status=RunStatus.SUCCEEDED,
                                   stage="done", progress=1.0, output_dir=str(out))
    store_run_outputs(run)
    client = Client()
    client.force_login(users["pi"])
    solution = run.solutions.filter(n_clusters__gt=1).first()
    pages = [f"/runs/{run.pk}/dashboard/", f"/solutions/{solution.pk}/gallery/",
             f"/solutions/{solution.pk}/gallery/?q=script", f"/runs/{run.pk}/compare/"]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert "<script>alert" not in body and "<img src=x onerror" not in body, url
    gallery = client.get(pages[1]).content.decode()
    assert "&lt;script&gt;alert" in gallery and "مرحبا" in gallery
