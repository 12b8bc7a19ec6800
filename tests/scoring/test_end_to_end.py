"""Round → codes by two coders through the annotation API → scores → export job → the exported
files reload with pandas and agree with the dashboard's JSON."""
import io
import json
import zipfile
from collections import Counter

import pandas as pd
import pytest
from django.urls import reverse

from annotation.models import Assignment, PostCode, Theme
from annotation.services.codebook import merge_themes
from scoring.models import ExportJob
from tests.annotation.browsing import browser, close_connections_after_each_request  # noqa: F401

pytestmark = pytest.mark.django_db


def _put(client, url, **body):
    return client.put(url, body, content_type="application/json")


def planned_theme(sample, position, pass_name, coder_name):
    """Deterministic codes: cluster-specific themes, some minority themes, coder2 disagreeing on
    position 0 of text, and one spreadsheet-hostile theme name."""
    if pass_name == "text":
        theme = f"protest {sample.order % 3}" if position < 3 else "=HYPERLINK(\"x\")"
        if coder_name == "coder2" and position == 0:
            theme = "banner protest"
        return theme
    if pass_name == "image":
        return "crowd" if position % 2 == 0 else "Crowd scene"   # merged into "crowd" below
    return f"joint {sample.order % 2}"


def code_everything(client_factory, round_, coders):
    for coder in coders:
        client = client_factory()
        client.force_login(coder)
        for assignment in Assignment.objects.filter(round=round_, coder=coder).select_related(
                "cluster_sample"):
            sample = assignment.cluster_sample
            for pass_name in ("text", "image", "joint"):
                for post in sample.posts.all():
                    if pass_name == "joint" and post.position == 3:
                        continue                      # an uncoded post: excluded, not a miss
                    r = _put(client, reverse("annotation-api:post-code",
                                             args=[post.public_id, pass_name]),
                             theme_name=planned_theme(sample, post.position, pass_name,
                                                      coder.username), base_version=0)
                    assert r.status_code == 201, r.content
                r = _put(client, reverse("annotation-api:common-code",
                                         args=[sample.public_id, pass_name]),
                         theme_name="common " + pass_name, base_version=0)
                assert r.status_code == 201


@pytest.fixture
def coded_round(scored_run, validation_round, users, coder2, client_factory):
    code_everything(client_factory, validation_round, [users["coder"], coder2])
    validation_round.adjudication_open = True   # the PI reconciles the coders' themes
    validation_round.save(update_fields=["adjudication_open"])
    project = validation_round.project
    # each coder owns their themes: a merge by name takes every coder's theme of that name
    merge_themes(Theme.objects.filter(project=project, modality="image", name="Crowd scene").first(),
                 Theme.objects.filter(project=project, modality="image", name="crowd").first(),
                 user=users["pi"], note="same thing")
    return validation_round


@pytest.fixture
def client_factory():
    from django.test import Client
    return Client


def test_round_to_scores_to_export(coded_round, users, client, django_capture_on_commit_callbacks,
                                   tmp_path):
    project = coded_round.project
    client.force_login(users["pi"])
    table = client.get(reverse("scoring-api:comparison", args=[project.pk])).json()
    rows = {r["solution_id"]: r for r in table["rows"]}
    assert set(rows) == {"vector-kmeans-k25", "label-kmeans-k25"}
    vector = rows["vector-kmeans-k25"]
    assert vector["s_dbw_common"] == 0.905 and rows["label-kmeans-k25"]["s_dbw_own"] == 0.644
    assert rows["label-kmeans-k25"]["truth_ami"] == 0.52   # known groupings beside the metrics
    assert table["columns"]["s_dbw_own"] == "S_Dbw (own space)"
    # every cluster: 3 of 4 text posts share the cluster's theme (coder2 disagrees on a
    # calibration post only in position 0, still 2 "protest" + ... see planned_theme)
    assert vector["consistency_image"] == 1.0          # merged: "Crowd scene" -> "crowd"
    assert vector["consistency_joint"] == 1.0          # 3 coded posts, 1 uncoded excluded
    assert 0 < vector["consistency_text"] < 1
    assert vector["consistency_text_low"] <= vector["consistency_text"] <= vector["consistency_text_high"]
    # calibration clusters coded by both coders: text α defined, image α undefined (one value)
    for row in rows.values():
        if row["alpha_image"] is None:
            assert row["alpha_image_message"].startswith("undefined")
    overall = table["reliability_overall"]
    assert overall["text"]["alpha"] is not None and overall["text"]["percent_agreement"] < 1
    assert overall["image"]["alpha"] is None and "one value only" in overall["image"]["message"]

    clusters = client.get(reverse("scoring-api:cluster-scores", args=[project.pk])).json()
    assert {r["coder"] for r in clusters["per_coder"]} == {"coder_1", "coder_2"}
    assert all(r["n_coded"] == 3 for r in clusters["per_coder"] if r["pass"] == "joint")
    # known answers from the planned codes: e.g. 3 of 4 posts share the cluster's text theme;
    # coder2 differs on position 0 (2 of 4, a 2-1-1 split)
    samples = {s.public_id: s for s in coded_round.samples.prefetch_related("posts")}
    names = {"coder_1": "coder", "coder_2": "coder2"}
    for r in clusters["per_coder"]:
        if r["pass"] == "text":
            sample = samples[r["cluster_sample"]]
            planned = [planned_theme(sample, p.position, "text", names[r["coder"]])
                       for p in sample.posts.all()]
            assert r["consistency"] == Counter(planned).most_common(1)[0][1] / len(planned)
    assert {r["consistency"] for r in clusters["per_coder"] if r["pass"] == "text"} >= {0.5, 0.75}

    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(reverse("scoring-api:exports", args=[project.pk]))
    assert r.status_code == 202
    job = client.get(reverse("scoring-api:export-detail", args=[r.json()["id"]])).json()
    assert job["status"] == "succeeded", ExportJob.objects.get().error
    download = client.get(job["download_url"])
    assert download.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    archive.extractall(tmp_path)
    root = tmp_path

    for stem in ("data/coded_posts", "scores/solution_scores", "tables/comparison"):
        for ext in ("csv", "jsonl", "parquet"):
            assert (root / f"{stem}.{ext}").is_file()
    for ext in ("png", "svg", "pdf"):
        assert (root / f"figures/mean_consistency.{ext}").is_file()
        assert (root / f"figures/cluster_consistency.{ext}").is_file()
    assert (root / "figures/run-{}/sdbw_common.svg".format(coded_round.solutions.first().run_id)).is_file()
    assert "\\begin{tabular}" in (root / "tables/comparison.tex").read_text()

    # coded data: one row per post code, raw and merged theme, formula cells neutralised
    coded_csv = pd.read_csv(root / "data/coded_posts.csv")
    coded_parquet = pd.read_parquet(root / "data/coded_posts.parquet")
    coded_jsonl = pd.read_json(root / "data/coded_posts.jsonl", lines=True)
    assert len(coded_csv) == len(coded_parquet) == len(coded_jsonl) == PostCode.objects.count()
    assert {"post", "pair_id", "cluster_sample", "solution_id", "coder", "pass", "theme_raw",
            "theme", "created_at", "updated_at"} <= set(coded_csv.columns)
    assert "'=HYPERLINK(\"x\")" in set(coded_csv["theme_raw"])
    assert "=HYPERLINK(\"x\")" in set(coded_parquet["theme_raw"])
    image = coded_parquet[coded_parquet["pass"] == "image"]
    assert set(image["theme_raw"]) == {"crowd", "Crowd scene"} and set(image["theme"]) == {"crowd"}

    # per-solution scores in the export = the dashboard's numbers
    solution_scores = pd.read_csv(root / "scores/solution_scores.csv")
    for _, s in solution_scores.iterrows():
        row = rows[s["solution_id"]]
        assert s["mean"] == pytest.approx(row[f"consistency_{s['pass']}"])
        if pd.notna(s["ci_low"]):
            assert s["ci_low"] == pytest.approx(row[f"consistency_{s['pass']}_low"])
    matrix = pd.read_csv(root / "tables/s_dbw_by_space.csv").set_index("solution_id")
    assert matrix.loc["label-kmeans-k25", "own_space"] == "label"
    assert matrix.loc["vector-kmeans-k25", "s_dbw_label"] == pytest.approx(0.733)
    known = pd.read_csv(root / "tables/known_groupings.csv").set_index("solution_id")
    assert known.loc["label-kmeans-k25", "ami"] == pytest.approx(0.52)
    comparison_csv = pd.read_csv(root / "tables/comparison.csv").set_index("solution_id")
    for sid, row in rows.items():     # the CSV's columns are the JSON's names
        assert comparison_csv.loc[sid, "consistency_text"] == pytest.approx(row["consistency_text"])
        assert comparison_csv.loc[sid, "s_dbw_common"] == pytest.approx(row["s_dbw_common"])
    reliability = pd.read_parquet(root / "scores/reliability_overall.parquet").set_index("pass")
    assert reliability.loc["text", "alpha"] == pytest.approx(overall["text"]["alpha"])

    # per-cluster scores agree with the cluster API
    per_coder = pd.read_parquet(root / "scores/cluster_coder_scores.parquet")
    api = pd.DataFrame(clusters["per_coder"])
    merged = per_coder.merge(api, on=["cluster_sample", "pass", "coder"], suffixes=("", "_api"))
    assert len(merged) == len(api) == len(per_coder)
    assert (merged["consistency"] - merged["consistency_api"]).abs().max() < 1e-12

    # cluster assignments: every solution of the run, noise stays numeric -1
    labels = pd.read_csv(root / f"assignments/run-{coded_round.solutions.first().run_id}-labels.csv")
    assert {"pair_id", "vector-kmeans-k25", "label-kmeans-k25"} <= set(labels.columns)
    assert labels["vector-kmeans-k25"].min() == -1
    assert pd.api.types.is_integer_dtype(labels["vector-kmeans-k25"])

    # codebook with merges; provenance from the run's manifest
    merges = pd.read_csv(root / "codebook/merges.csv")
    assert merges.iloc[0]["source"] == "Crowd scene" and merges.iloc[0]["target"] == "crowd"
    manifest = json.loads((root / "manifest.json").read_text())
    engine = manifest["runs"][0]["engine_manifest"]
    assert engine["models"]["text"]["weights_sha256"] == "ab12" and engine["seed"] == 0
    assert "common" in engine["evaluation_spaces"]
    assert "own clustering space" in manifest["metric_sources"]["s_dbw_own"]
    assert manifest["software"]["scoring_versions"]["krippendorff"] == "0.9.0"
    assert manifest["rounds"][0]["seed"] == 7
    assert "data/coded_posts.csv" in manifest["files"]


def test_dashboard_page_choice_and_plot(coded_round, users, client):
    project = coded_round.project
    solution = coded_round.solutions.get(solution_id="vector-kmeans-k25")
    client.force_login(users["pi"])
    page = client.get(reverse("scoring:comparison", args=[project.pk]), {"sort": "-s_dbw_common"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "S_Dbw (vector-level space)" in html and "S_Dbw (own space)" in html
    assert html.index("label-kmeans-k25") < html.index("vector-kmeans-k25")   # 1.204 first
    filtered = client.get(reverse("scoring-api:comparison", args=[project.pk]),
                          {"method": "vector"}).json()
    assert [r["solution_id"] for r in filtered["rows"]] == ["vector-kmeans-k25"]
    r = client.post(reverse("scoring:choose", args=[project.pk]),
                    {"solution": solution.pk, "chosen": "1", "note": "best joint α",
                     "query": "sort=k"})
    assert r.status_code == 302 and r.url.endswith("?sort=k")
    row = next(r for r in client.get(reverse("scoring-api:comparison", args=[project.pk])).json()["rows"]
               if r["solution_id"] == "vector-kmeans-k25")
    assert row["chosen"] and row["choice_note"] == "best joint α"
    r = client.put(reverse("scoring-api:choice", args=[project.pk, solution.pk]),
                   {"chosen": False}, content_type="application/json")
    assert r.status_code == 200 and r.json()["chosen"] is False
    png = client.get(reverse("scoring:comparison-plot", args=[project.pk, "png"]))
    assert png.status_code == 200 and png.content[:4] == b"\x89PNG"
    svg = client.get(reverse("scoring:comparison-plot", args=[project.pk, "svg"]), {"download": 1})
    assert b"<svg" in svg.content and "attachment" in svg["Content-Disposition"]
    clusters_png = client.get(reverse("scoring:comparison-plot", args=[project.pk, "png"]),
                              {"figure": "clusters"})
    assert clusters_png.status_code == 200 and clusters_png.content[:4] == b"\x89PNG"


@pytest.mark.django_db(transaction=True)
def test_scores_page_shows_which_solution_is_better_in_chromium(coded_round, users, client,
                                                                live_server, browser, monkeypatch):
    """The ranking with uncertainty and every pair, as a PI sees them, equal to the JSON."""
    from tests.annotation.browsing import logged_in_page

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    project = coded_round.project
    client.force_login(users["pi"])
    data = client.get(reverse("scoring-api:comparison", args=[project.pk])).json()
    ranking = data["solution_ranking"]["rows"]
    assert ranking and {r["statistic"] for r in ranking} == {"consistency"}
    page = logged_in_page(browser, client, live_server, users["pi"], width=1366, height=768)
    page.goto(f"{live_server.url}/scoring/projects/{project.pk}/compare/")
    page.locator("#which-is-better").scroll_into_view_if_needed()
    rows = page.locator("#solution-ranking tbody tr")
    assert rows.count() == len(ranking) and rows.first.is_visible()
    first = rows.first.locator("td[data-column=solution_id]").inner_text().strip()
    assert first == ranking[0]["solution_id"]
    pairs = page.locator("#solution-pairs tbody tr")
    assert not pairs.first.is_visible()                    # folded until asked for
    page.locator("#which-is-better ~ details summary").first.click()
    assert pairs.count() == len(data["solution_comparisons"]["rows"]) and pairs.first.is_visible()
    assert "p (Holm)" in page.locator("#solution-pairs thead").inner_text()
    assert not page.errors, page.errors
