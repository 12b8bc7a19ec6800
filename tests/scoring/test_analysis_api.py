"""The read API for analysis: long-format codes, cluster scores and reliability, paginated and
filterable, read with a token, read-only, permissioned like the pages, in the OpenAPI schema."""
import pandas as pd
import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from annotation.models import ClusterCode, PostCode

pytestmark = pytest.mark.django_db


def token_client(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def codes_url(project, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return reverse("scoring-api:analysis-codes", args=[project.pk]) + (f"?{query}" if query else "")


def test_codes_in_long_format_filtered_and_paginated_with_a_token(validation_round, coded,
                                                                  users):
    sample, posts = coded
    project = validation_round.project
    api = token_client(users["pi"])
    body = api.get(codes_url(project)).json()
    n_codes = PostCode.objects.count() + ClusterCode.objects.count()
    assert body["count"] == n_codes == 2 * (len(posts) + 1)
    frame = pd.DataFrame(body["results"])                    # what a pandas user gets
    assert list(frame.columns) == [
        "kind", "code_id", "round_id", "cluster_sample", "solution_id", "run_id", "method",
        "algorithm", "k", "cluster_label", "is_calibration", "post", "pair_id", "post_id",
        "position", "coder", "pass", "theme_id", "theme_raw", "theme_merged_id", "theme",
        "version", "lead_time_s", "created_at", "updated_at"]
    first = frame[(frame["post"] == posts[0].public_id)].set_index("coder")["theme"].to_dict()
    assert first == {"coder_1": "Protest", "coder_2": "Flood"}
    assert set(frame["cluster_sample"]) == {sample.public_id}
    assert set(frame["solution_id"]) == {sample.solution.solution_id}
    common = frame[frame["kind"] == "common"]
    assert len(common) == 2 and common["post"].isna().all() and common["position"].isna().all()
    assert all(type(r["position"]) is int and type(r["k"]) is int      # whole numbers in JSON
               for r in body["results"] if r["kind"] == "post")

    # filters combine
    only = api.get(codes_url(project, coder="coder_2", kind="post")).json()
    assert only["count"] == len(posts)
    assert {r["coder"] for r in only["results"]} == {"coder_2"}
    assert api.get(codes_url(project, **{"pass": "image"})).json()["count"] == 0
    assert api.get(codes_url(project, solution=sample.solution.solution_id,
                             round=validation_round.pk)).json()["count"] == n_codes
    other = validation_round.solutions.exclude(pk=sample.solution_id).first()
    assert api.get(codes_url(project, solution=other.solution_id)).json()["count"] == 0

    # pages: every row once, in a stable order
    seen, url = [], codes_url(project, page_size=3)
    while url:
        page = api.get(url).json()
        assert len(page["results"]) <= 3
        seen += [r["code_id"] for r in page["results"] if r["kind"] == "post"]
        url = page["next"]
    assert sorted(seen) == sorted(PostCode.objects.values_list("pk", flat=True))


def test_cluster_scores_and_reliability(validation_round, coded, users):
    sample, posts = coded
    project = validation_round.project
    validation_round.adjudication_open = True               # themes reconciled: α is reported
    validation_round.save(update_fields=["adjudication_open"])
    api = token_client(users["viewer"])                      # the comparison page's readers
    url = reverse("scoring-api:analysis-cluster-scores", args=[project.pk])
    clusters = api.get(url).json()
    assert clusters["count"] == 1
    row = clusters["results"][0]
    n = len(posts)
    # coder_1: n of n posts modal; coder_2: n-1 of n → the mean over coders
    assert (row["cluster_sample"], row["pass"], row["n_coders"]) == (sample.public_id, "text", 2)
    assert row["consistency"] == pytest.approx((1 + (n - 1) / n) / 2)
    per_coder = api.get(url + "?level=coder&coder=coder_2").json()["results"]
    assert [(r["coder"], r["n_coded"], r["n_modal"], r["modal_theme"]) for r in per_coder] == [
        ("coder_2", n, n - 1, "Protest")]

    body = api.get(reverse("scoring-api:analysis-reliability", args=[project.pk]) +
                   "?pass=text").json()
    assert [r["solution_id"] for r in body["per_solution"]] == [sample.solution.solution_id]
    text = body["overall"][0]
    assert (text["pass"], text["n_coders"], text["n_units"], text["n_pairable_units"]) == (
        "text", 2, n, n)
    assert text["percent_agreement"] == pytest.approx((n - 1) / n)
    assert text["alpha"] is not None and text["alpha"] < 1


def test_read_only_permissioned_like_the_pages_and_bad_input_is_clear(validation_round, coded,
                                                                     users, coder2):
    project = validation_round.project
    urls = {name: reverse(f"scoring-api:analysis-{name}", args=[project.pk])
            for name in ("codes", "cluster-scores", "reliability")}
    pi = token_client(users["pi"])
    for url in urls.values():
        assert pi.get(url).status_code == 200
        for method in (pi.post, pi.put, pi.patch, pi.delete):
            assert method(url, {}, format="json").status_code == 405
    viewer = token_client(users["viewer"])
    assert viewer.get(urls["codes"]).status_code == 404          # codes: the PI's, like exports
    assert viewer.get(urls["cluster-scores"]).status_code == 200
    for user in (users["coder"], coder2, users["outsider"]):
        client = token_client(user)
        assert all(client.get(url).status_code == 404 for url in urls.values())
    assert APIClient().get(urls["codes"]).status_code in (401, 403)

    for query, field in (("pass=sound", "pass"), ("round=abc", "round"),
                         ("round=987654", "round"), ("kind=x", "kind")):
        response = pi.get(f"{urls['codes']}?{query}")
        assert response.status_code == 400 and field in response.json(), query
    response = pi.get(f"{urls['cluster-scores']}?level=coders")
    assert response.status_code == 400 and "level" in response.json()
    assert len(pi.get(f"{urls['codes']}?page_size=100000").json()["results"]) <= 5000


def test_the_read_api_is_in_the_openapi_schema(users, client):
    client.force_login(users["pi"])
    schema = client.get(reverse("schema") + "?format=json").json()
    paths = schema["paths"]
    codes = paths["/api/scoring/projects/{id}/analysis/codes/"]
    assert set(codes) == {"get"}
    names = {p["name"] for p in codes["get"]["parameters"]}
    assert {"round", "pass", "solution", "coder", "kind", "page", "page_size"} <= names
    for path in ("/api/scoring/projects/{id}/analysis/cluster-scores/",
                 "/api/scoring/projects/{id}/analysis/reliability/"):
        assert set(paths[path]) == {"get"}
    row = schema["components"]["schemas"]["CodeRow"]["properties"]
    assert {"pass", "theme", "theme_raw", "coder", "solution_id"} <= set(row)
