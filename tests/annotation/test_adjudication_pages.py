"""The adjudication page in pages of cluster samples: the same few queries whatever the size of
the round, the right clusters on each page, the "only clusters with disagreements" filter, the
jump to the page holding the next undecided row, and the disagreement counts (one SQL query)
agreeing with the disagreements shown."""
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from annotation.models import (Adjudication, ClusterCode, ClusterSample, PostCode, SampledPost,
                               Theme, ValidationRound)
from annotation.services.adjudication import (disagreement_counts, disagreements,
                                              record_decision)
from annotation.services.codebook import merge_themes

pytestmark = pytest.mark.django_db

POSTS = 3


def make_round(project, pi, coders, n_clusters, disagrees=lambda i: i % 3 == 0):
    """``n_clusters`` samples of POSTS posts coded by every coder in the text pass: all agree
    on "A", except that in the samples ``disagrees`` picks the last coder gives post 0 "B"."""
    from projects.models import Dataset, EngineRun, RunStatus, Solution

    dataset = Dataset.objects.create(project=project, name=f"d{n_clusters}", source="folder",
                                     table_path="/absent/pairs.csv", images_root="/absent",
                                     n_rows_read=n_clusters * POSTS,
                                     n_pairs_valid=n_clusters * POSTS)
    run = EngineRun.objects.create(project=project, dataset=dataset, status=RunStatus.SUCCEEDED,
                                   stage="done", progress=1.0, output_dir="/absent")
    solution = Solution.objects.create(run=run, solution_id=f"vector-kmeans-k{n_clusters}",
                                       method="vector", algorithm="kmeans", k=n_clusters,
                                       n_clusters=n_clusters, space="common")
    validation_round = ValidationRound.objects.create(
        project=project, name=f"{n_clusters} clusters", dataset=dataset, posts_per_cluster=POSTS,
        calibration_clusters=0, created_by=pi)
    samples = ClusterSample.objects.bulk_create(
        [ClusterSample(round=validation_round, solution=solution, cluster_label=i,
                       cluster_size=10, order=i) for i in range(n_clusters)])
    posts = SampledPost.objects.bulk_create(
        [SampledPost(cluster_sample=s, pair_id=f"{s.pk}-{j}", post_id=f"{s.pk}-{j}", position=j,
                     text=f"post {j}", image=f"images/{j}.jpg")
         for s in samples for j in range(POSTS)])
    theme = {name: Theme.objects.get_or_create(project=project, modality="text", name=name)[0]
             for name in ("A", "B")}
    ClusterCode.objects.bulk_create(
        [ClusterCode(cluster_sample=s, coder=c, pass_name="text", theme=theme["A"])
         for s in samples for c in coders])
    PostCode.objects.bulk_create(
        [PostCode(sampled_post=p, cluster_sample=s, coder=c, pass_name="text",
                  theme=theme["B"] if (disagrees(i) and c == coders[-1] and p.position == 0)
                  else theme["A"])
         for i, s in enumerate(samples) for p in posts[i * POSTS:(i + 1) * POSTS]
         for c in coders])
    return validation_round, samples


def shown(html):
    """(public ids of the disagreement blocks, public ids of the naming table) of a page."""
    blocks = re.findall(r'<details class="card cluster-block" id="c-([^"]+)"', html)
    naming = html[html.index('id="cluster-names"'):]
    return blocks, re.findall(r"<tr><td><code>([^<]+)</code>", naming)


def get(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return response.content.decode(), len(queries)


def test_the_page_costs_the_same_queries_at_3_and_30_clusters(project, users, coder2, client):
    client.force_login(users["pi"])
    counts = []
    for n in (3, 30):
        validation_round, samples = make_round(project, users["pi"], [users["coder"], coder2], n)
        url = reverse("annotation:adjudicate", args=[validation_round.pk]) + "?per_page=50"
        html, n_queries = get(client, url)
        blocks, naming = shown(html)
        assert naming == [s.public_id for s in samples]          # every cluster on one page
        assert blocks == [s.public_id for s in samples[::3]]
        counts.append(n_queries)
    assert counts[0] == counts[1], counts


def test_pages_hold_clusters_in_round_order_and_the_filter_keeps_the_disagreeing(
        project, users, coder2, client):
    validation_round, samples = make_round(project, users["pi"], [users["coder"], coder2], 30)
    client.force_login(users["pi"])
    url = reverse("annotation:adjudicate", args=[validation_round.pk])
    ids = [s.public_id for s in samples]
    html, _ = get(client, url)                                   # 5 clusters a page
    assert shown(html) == ([ids[0], ids[3]], ids[:5])
    assert "Clusters 1–5 of 30 · page 1 of 6" in html
    html, _ = get(client, url + "?page=3")
    assert shown(html) == ([ids[12]], ids[10:15])
    html, _ = get(client, url + "?per_page=10&page=3")
    assert shown(html) == ([ids[i] for i in (21, 24, 27)], ids[20:])
    assert "Clusters 21–30 of 30 · page 3 of 3" in html
    # the filter: pages of clusters with disagreements, found on from a cluster
    filtered = url + "?only=disagreements&per_page=4"
    html, _ = get(client, filtered + "&from=10")
    disagreeing = [ids[i] for i in (12, 15, 18, 21)]
    assert shown(html) == (disagreeing, disagreeing)
    assert "Clusters with disagreements: #13–#22 of the round" in html
    assert 'href="?only=disagreements&amp;per_page=4&amp;from=22">next' in html
    assert 'href="?only=disagreements&amp;per_page=4&amp;before=12">← previous' in html
    html, _ = get(client, filtered + "&before=12")
    assert shown(html)[0] == [ids[i] for i in (0, 3, 6, 9)] and "← previous" not in html
    html, _ = get(client, filtered + "&from=25")
    assert shown(html)[0] == [ids[27]] and "next →" not in html
    # a decision keeps the page and the filter
    response = client.post(filtered + "&from=10",
                           {"cluster": ids[12], "pass_name": "text", "accept": "A",
                            "post": samples[12].posts.get(position=0).public_id})
    assert response.status_code == 302 and response["Location"] == filtered + "&from=10"
    assert Adjudication.objects.get(cluster_sample=samples[12]).theme.name == "A"


def test_next_disagreement_is_on_the_page_of_the_next_undecided_row(project, users, coder2,
                                                                     client):
    validation_round, samples = make_round(project, users["pi"], [users["coder"], coder2], 30)
    client.force_login(users["pi"])
    page = reverse("annotation:adjudicate", args=[validation_round.pk])
    jump = reverse("annotation:adjudicate-next", args=[validation_round.pk])
    theme_a = Theme.objects.get(project=project, name="A")
    for i in (12, 15):                                           # decided: page 2 keeps 18 open
        record_decision(samples[i], "text", theme_a, users["pi"],
                        sampled_post=samples[i].posts.get(position=0))
    assert client.get(jump + "?after=9")["Location"] == page + "?page=4"         # 5 a page
    assert client.get(jump + "?after=18&per_page=10")["Location"] == page + "?per_page=10&page=3"
    assert client.get(jump + "?after=27")["Location"] == page + "?page=1"       # wraps round
    assert client.get(jump + "?after=9&only=disagreements&per_page=2")["Location"] == (
        page + "?only=disagreements&per_page=2&from=18")
    for i in range(0, 30, 3):
        record_decision(samples[i], "text", theme_a, users["pi"],
                        sampled_post=samples[i].posts.get(position=0))
    response = client.get(jump + "?after=9&back=page%3D2", follow=True)
    assert response.redirect_chain[-1][0] == page + "?page=2"
    assert "Every disagreement has a decision." in response.content.decode()


def test_disagreement_counts_agree_with_the_disagreements_shown(project, users, coder2):
    coders = [users["coder"], coder2]
    validation_round, samples = make_round(project, users["pi"], coders, 6,
                                           disagrees=lambda i: i in (1, 2, 4))
    theme = {t.name: t for t in Theme.objects.filter(project=project)}
    # sample 3: the second coder coded the posts but gave no common theme
    ClusterCode.objects.filter(cluster_sample=samples[3], coder=coder2).delete()
    # sample 4: different common themes too; sample 2: its difference merged away
    ClusterCode.objects.filter(cluster_sample=samples[4], coder=coder2).update(theme=theme["B"])
    C = Theme.objects.create(project=project, modality="text", name="C")
    PostCode.objects.filter(cluster_sample=samples[2], theme=theme["B"]).update(theme=C)
    merge_themes(C, theme["A"])
    # sample 1 decided; sample 4: its common theme decided, its post not
    record_decision(samples[1], "text", theme["A"], users["pi"],
                    sampled_post=samples[1].posts.get(position=0))
    record_decision(samples[4], "text", theme["A"], users["pi"])

    def open_rows(item):
        return (int(item["common_differs"] and not item["decision"])
                + sum(r["differs"] and not r["decision"] for r in item["posts"]))
    expected = [(item["sample"].pk, item["sample"].order, 1, open_rows(item))
                for item in disagreements(validation_round)]
    assert disagreement_counts(validation_round) == expected
    assert [(order, n_open) for _, order, _, n_open in expected] == [(1, 0), (3, 1), (4, 1)]
