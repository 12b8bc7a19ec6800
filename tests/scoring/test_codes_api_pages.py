"""The codes read API pages in the database: every page equals the page of the frame built from
all of the project's codes (the reference below, how the endpoint used to work), with every
filter, and a page reads only its own rows (LIMIT in the SQL), not all codes."""
import json

import pandas as pd
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from annotation.models import Assignment, ClusterCode, PostCode
from annotation.services.coding import get_or_create_theme, save_cluster_code, save_post_code
from scoring.analysis_api import CODE_COLUMNS, INTEGER_COLUMNS
from scoring.services import codes as code_tables
from scoring.services.comparison import clean_value

pytestmark = pytest.mark.django_db


@pytest.fixture
def coded(validation_round, users, coder2):
    """Both coders code every sample assigned to them in two passes (post themes and a common
    theme), each with their own mix of themes."""
    project = validation_round.project
    for c, who in enumerate((users["coder"], coder2)):
        for pass_name in ("text", "image"):
            themes = [get_or_create_theme(project, pass_name, name, who)
                      for name in ("Protest", "Flood", "Sport")]
            for sample_pk in Assignment.objects.filter(coder=who).values_list(
                    "cluster_sample_id", flat=True):
                sample = validation_round.samples.get(pk=sample_pk)
                save_cluster_code(sample, who, pass_name, themes[c], 0)
                for i, post in enumerate(sample.posts.order_by("position")):
                    save_post_code(post, who, pass_name, themes[(i + c) % 3], 0)


def frame_rows(project, params: dict) -> list[dict]:
    """All rows of the codes API as the endpoint computed them before it paged in the database:
    every code of the project in a frame, filtered and sorted in pandas."""
    round_ids = [int(params["round"])] if "round" in params else None
    frames = [code_tables.post_codes(project, round_ids).assign(kind="post"),
              code_tables.cluster_codes(project, round_ids).assign(kind="common")]
    frame = pd.concat([f for f in frames if not f.empty] or frames[:1], ignore_index=True)
    for column in INTEGER_COLUMNS:
        frame[column] = pd.to_numeric(frame[column]).astype("Int64")
    column = {"pass": "pass", "solution": "solution_id", "coder": "coder", "kind": "kind"}
    for name, value in params.items():
        if name in column:
            frame = frame[frame[column[name]] == value]
    for column in ("created_at", "updated_at"):
        frame[column] = frame[column].map(lambda t: None if pd.isna(t) else t.isoformat())
    frame = frame.reindex(columns=CODE_COLUMNS)
    rows = [{k: clean_value(v) for k, v in row.items()} for row in frame.to_dict("records")]
    return json.loads(json.dumps(rows))


def api_pages(client, project, params: dict, page_size: int) -> tuple[list[dict], list[dict]]:
    """Every row of every page, following the next links, and each page's envelope."""
    url = reverse("scoring-api:analysis-codes", args=[project.pk])
    query = "&".join(f"{k}={v}" for k, v in {**params, "page_size": page_size}.items())
    url, rows, envelopes = f"{url}?{query}", [], []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        rows += body["results"]
        envelopes.append({k: v for k, v in body.items() if k != "results"})
        url = body["next"]
    return rows, envelopes


@pytest.mark.parametrize("params", [
    {}, {"kind": "post"}, {"kind": "common"}, {"pass": "image"}, {"coder": "coder_2"},
    {"coder": "coder_9"}, {"pass": "text", "coder": "coder_1", "kind": "post"},
    {"solution": "vector-kmeans-k25"}, {"round": "ROUND", "solution": "label-kmeans-k25"}])
def test_pages_equal_the_frame_of_all_codes(validation_round, coded, users, params):
    project = validation_round.project
    params = {k: (validation_round.pk if v == "ROUND" else v) for k, v in params.items()}
    client = APIClient()
    client.force_authenticate(users["pi"])
    expected = frame_rows(project, params)
    for page_size in (7, 5000):
        rows, envelopes = api_pages(client, project, params, page_size)
        assert rows == expected
        assert {e["count"] for e in envelopes} == {len(expected)}
        assert envelopes[0]["previous"] is None
        if len(envelopes) > 1:
            assert envelopes[1]["previous"] is not None
    assert expected or params.get("coder") == "coder_9"


def test_a_page_reads_only_its_rows(validation_round, coded, users):
    project = validation_round.project
    client = APIClient()
    client.force_authenticate(users["pi"])
    url = reverse("scoring-api:analysis-codes", args=[project.pk])
    with CaptureQueriesContext(connection) as queries:
        body = client.get(f"{url}?page=2&page_size=3").json()
    assert len(body["results"]) == 3
    code_reads = [q["sql"] for q in queries.captured_queries
                  if 'FROM "annotation_postcode"' in q["sql"] and '"position"' in q["sql"]]
    assert code_reads and all("LIMIT 3" in sql for sql in code_reads), code_reads


def test_pages_follow_new_and_deleted_codes(validation_round, coded, users):
    """The cached counts and coders are keyed by the score version that every post code write
    bumps; common themes are read live."""
    project = validation_round.project
    client = APIClient()
    client.force_authenticate(users["pi"])
    before, _ = api_pages(client, project, {}, 5000)
    sample = validation_round.samples.order_by("order").first()
    theme = get_or_create_theme(project, "joint", "Late", users["coder"])
    PostCode.objects.create(cluster_sample=sample, sampled_post=sample.posts.first(),
                            coder=users["outsider"], pass_name="joint", theme=theme, version=1)
    ClusterCode.objects.filter(cluster_sample__round=validation_round).order_by("pk").first().delete()
    after, _ = api_pages(client, project, {}, 5000)
    assert after == frame_rows(project, {})
    assert len(after) == len(before)          # one post code more, one common theme less
    assert [r["code_id"] for r in after] != [r["code_id"] for r in before]
    assert {r["coder"] for r in after} == {"coder_1", "coder_2", "coder_3"}
