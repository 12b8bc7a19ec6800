"""Stored run outputs, dashboards, galleries, figures and images, and who may see them."""
import pytest
from django.urls import reverse

from projects.models import ClusterSummary, Solution

pytestmark = pytest.mark.django_db


def test_outputs_become_solution_and_cluster_rows(stored_run):
    solutions = {s.solution_id: s for s in stored_run.solutions.all()}
    assert {"label-kmeans-k4", "vector-kmeans-k9", "cca-kmeans-k9"} <= set(solutions)
    assert solutions["text-kmeans-k2"].kind == Solution.Kind.MODALITY
    label = solutions["label-kmeans-k9"]
    assert (label.k_text, label.k_image) == (3, 3)
    clusters = list(label.clusters.all())
    assert sum(c.size for c in clusters) == 60 and clusters[0].rank == 1
    assert all(r["text"] and r["image"] for c in clusters for r in c.representatives)
    assert "solutions" not in stored_run.manifest and stored_run.manifest["ami_diagnostic"]


def test_storing_twice_replaces_rows(stored_run):
    from projects.services.run_outputs import store_run_outputs

    before = ClusterSummary.objects.filter(solution__run=stored_run).count()
    store_run_outputs(stored_run)
    assert ClusterSummary.objects.filter(solution__run=stored_run).count() == before


def pages(run):
    solution = run.solutions.get(solution_id="cca-kmeans-k4")
    cluster = solution.clusters.first()
    return {
        "dashboard": reverse("projects:run-dashboard", args=[run.pk]),
        "gallery": reverse("projects:solution-gallery", args=[solution.pk]),
        "run": reverse("projects:run-detail", args=[run.pk]),
        "status": reverse("projects:run-status", args=[run.pk]),
        "figure": reverse("projects:run-figure", args=[run.pk, "data_loss.png"]),
        "compare": reverse("projects:solution-compare", args=[run.pk])
        + f"?a={solution.pk}&b={run.solutions.get(solution_id='vector-kmeans-k9').pk}",
        "dataset": reverse("projects:dataset-detail", args=[run.dataset.pk]),
        "image": reverse("projects:dataset-image",
                         args=[run.dataset.pk, cluster.representatives[0]["image"]]),
    }


@pytest.mark.parametrize("role,visible", [
    ("pi", {"dashboard", "gallery", "run", "status", "figure", "compare", "dataset", "image"}),
    ("viewer", {"dashboard", "gallery", "run", "status", "figure", "compare", "dataset", "image"}),
    ("coder", set()),   # coders see images only by opaque id, never engine internals
    ("outsider", set()),
])
def test_page_access_by_role(client, users, stored_run, role, visible):
    client.force_login(users[role])
    for name, url in pages(stored_run).items():
        status = client.get(url).status_code
        assert status == (200 if name in visible else 404), (role, name, status)


def test_anonymous_users_are_sent_to_login(client, stored_run):
    response = client.get(pages(stored_run)["dashboard"])
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_dashboard_shows_ami_card_figures_and_solutions(client, users, stored_run):
    client.force_login(users["pi"])
    page = client.get(pages(stored_run)["dashboard"]).content.decode()
    assert 'id="ami-card"' in page and "AMI =" in page
    assert stored_run.manifest["ami_diagnostic"][0]["reading"][:20] in page
    for figure in ("sdbw_vs_k_own", "marginal_gain_own", "sdbw_vs_k_vector", "data_loss",
                   "cooccurrence_heatmap", "truth_ami_by_k"):
        assert f'id="figure-{figure}"' in page
        assert reverse("projects:run-figure", args=[stored_run.pk, f"{figure}.svg"]) in page
    assert "cca-kmeans-k9" in page and "★" in page


def test_figure_view_serves_downloads_and_refuses_other_files(client, users, stored_run):
    client.force_login(users["pi"])
    url = reverse("projects:run-figure", args=[stored_run.pk, "data_loss.svg"])
    response = client.get(url + "?download=1")
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    for name in ("manifest.json", "..%2Fmanifest.json", "data_loss.exe"):
        assert client.get(f"/runs/{stored_run.pk}/figures/{name}").status_code == 404


def test_gallery_search_and_thumbnail_cache(client, users, stored_run, settings):
    client.force_login(users["pi"])
    solution = stored_run.solutions.get(solution_id="vector-kmeans-k4")
    cluster = solution.clusters.first()
    word = cluster.representatives[0]["text"].split()[0]
    url = reverse("projects:solution-gallery", args=[solution.pk])
    page = client.get(url, {"q": word}).content.decode()
    assert f'id="cluster-{cluster.label}"' in page
    assert "No cluster matches" in client.get(url, {"q": "zzqx-no-such-text"}).content.decode()
    # The search covers every pair's text, not only the representatives shown.
    import pandas as pd

    out = stored_run.output_dir
    pairs = pd.read_parquet(f"{out}/pairs.parquet", columns=["pair_id", "text"])
    labels = pd.read_parquet(f"{out}/labels.parquet", columns=["pair_id", solution.solution_id])
    shown = {r["pair_id"] for c in solution.clusters.all() for r in c.representatives}
    hidden = pairs[~pairs.pair_id.isin(shown)].iloc[0]
    label = int(labels.set_index("pair_id").loc[hidden.pair_id, solution.solution_id])
    page = client.get(url, {"q": hidden.text[:25]}).content.decode()
    assert f'id="cluster-{label}"' in page and "matching" in page

    image_url = reverse("projects:dataset-image",
                        args=[stored_run.dataset.pk, cluster.representatives[0]["image"]])
    assert client.get(image_url).status_code == 200
    thumbs = list((settings.MEDIA_ROOT / "thumbnails").rglob("*.jpg"))
    assert len(thumbs) == 1
    mtime = thumbs[0].stat().st_mtime_ns
    assert client.get(image_url).status_code == 200
    assert thumbs[0].stat().st_mtime_ns == mtime, "a thumbnail is generated once"
    for path in ("../pairs.csv", "pairs.csv"):  # outside the root; not an image
        url = reverse("projects:dataset-image", args=[stored_run.dataset.pk, path])
        assert client.get(url + "?size=full").status_code == 404


def test_compare_view_crosstab(client, users, stored_run):
    client.force_login(users["pi"])
    page = client.get(pages(stored_run)["compare"]).content.decode()
    assert "crosstab" in page and "spreads over" in page
