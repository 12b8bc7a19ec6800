"""Blinding: every page and API response a coder can reach (crawled from /code/ and the
project pages, plus every coder API endpoint, after coding everything so that every pass is
reachable) is free of method, K, algorithm and solution identifiers and of the solutions' DB ids.

Not scanned: /api/docs/ and /api/schema/ (the generic API description, the same for everyone;
it names endpoints and fields, not any cluster's origin). Image bodies are binary; their headers
are scanned (no file name reveals anything either).
"""
import re
from collections import deque
from urllib.parse import urljoin, urlparse

import pytest
from django.urls import reverse

from annotation.models import Assignment

from tests.fixtures.annotation import SOLUTION_IDS, SOLUTION_PKS

pytestmark = pytest.mark.django_db

FORBIDDEN = [re.compile(p, re.I) for p in (
    *[re.escape(s) for s in SOLUTION_IDS], r"kmeans", r"k-means", r"hdbscan", r"label-level",
    r"vector-level", r"joint[- ]embedding", r"\bk\s*=\s*\d", r"k\d{1,3}\b", r"\bsolution",
    r"algorithm", r"cluster_label", r"\bK_?[ti]\b",
    *[rf"(?<!\d){pk}(?!\d)" for pk in SOLUTION_PKS])]
CSRF = [re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"'),
        re.compile(r'<meta name="csrf-token" content="[^"]*">')]
LINK = re.compile(r'(?:href|src|data-zoom)="([^"]+)"')
SKIP = ("/api/docs/", "/api/schema/", "/static/", "/admin/", "/accounts/")


# An opaque public id (annotation/tokens.py) is random: it may hold any digit string, such as a
# solution's pk, by chance. Ids are checked to be opaque elsewhere; the scan reads around them.
PUBLIC_ID = re.compile(r"\b[A-Z][0-9A-HJMNP-TV-Z]{10}\b")


def scan(where, text):
    for pattern in (*CSRF, PUBLIC_ID):
        text = pattern.sub("", text)
    for pattern in FORBIDDEN:
        match = pattern.search(text)
        assert match is None, (f"{where} reveals {match.group(0)!r}: …"
                               f"{text[max(0, match.start() - 80):match.end() + 80]}…")


def code_everything(client, user):
    """Code every assigned cluster through the API, so every pass page is reachable."""
    responses = []
    for a in Assignment.objects.filter(coder=user).select_related("cluster_sample"):
        sample = a.cluster_sample
        for pass_name in ("text", "image", "joint"):
            url = reverse("annotation-api:common-code", args=[sample.public_id, pass_name])
            responses.append((url, client.put(url, {"theme_name": f"{pass_name} theme", "base_version": 0},
                                              content_type="application/json")))
            for post in sample.posts.all():
                url = reverse("annotation-api:post-code", args=[post.public_id, pass_name])
                responses.append((url, client.put(url, {"theme_name": f"{pass_name} theme",
                                                         "base_version": 0},
                                                  content_type="application/json")))
    return responses


def crawl_coder_view(client, coder, project):
    """Everything the logged-in coder reaches: ``[(where, text)]`` for every page (by links from
    /code/ and the project pages), redirect, header and coder API response; and counts."""
    seen_texts, counts = [], {"pages": 0, "images": 0}
    start = [reverse("annotation:my-work"), "/", f"/projects/{project.pk}/"]
    samples = list(Assignment.objects.filter(coder=coder).values_list(
        "cluster_sample__public_id", flat=True))
    api = [reverse("annotation-api:assignments"), reverse("annotation-api:rounds"),
           "/api/projects/", f"/api/projects/{project.pk}/", "/api/solutions/", "/api/runs/",
           "/api/clusters/", "/api/datasets/"]
    for public_id in samples:
        api.append(reverse("annotation-api:cluster-state", args=[public_id]))
        for pass_name in ("text", "image", "joint"):
            api.append(reverse("annotation-api:cluster-themes", args=[public_id]) + f"?pass={pass_name}&q=")
            start.append(reverse("annotation:code-pass", args=[public_id, pass_name]))

    seen, queue = set(), deque(start)
    while queue:
        url = queue.popleft()
        if url in seen or any(url.startswith(s) for s in SKIP):
            continue
        seen.add(url)
        response = client.get(url, follow=True)
        for chain_url, _ in response.redirect_chain:
            seen_texts.append((f"redirect of {url}", chain_url))
        seen_texts.append((f"headers of {url}",
                           " ".join(f"{k}: {v}" for k, v in response.headers.items())))
        assert response.status_code in (200, 404), (url, response.status_code)
        if response.status_code != 200:
            continue
        seen_texts.append((f"URL {url}", url))
        if "image" in response.get("Content-Type", ""):
            counts["images"] += 1
            continue
        body = response.content.decode()
        seen_texts.append((url, body))
        counts["pages"] += 1
        for link in LINK.findall(body):
            link = link.replace("&amp;", "&")
            parsed = urlparse(urljoin(url, link))
            if parsed.netloc in ("", "testserver"):
                queue.append(parsed.path + (f"?{parsed.query}" if parsed.query else ""))
    for url in api:
        response = client.get(url)
        assert response.status_code in (200, 404), url
        seen_texts.append((f"API {url}", response.content.decode()))
    counts["api"], counts["samples"] = len(api), len(samples)
    return seen_texts, counts


def test_coder_reachable_pages_and_api_are_blind(validation_round, users, client):
    coder = users["coder"]
    client.force_login(coder)
    put_responses = code_everything(client, coder)
    assert put_responses and all(r.status_code == 201 for _, r in put_responses)
    for url, response in put_responses:
        scan(f"PUT {url}", response.content.decode())

    project = validation_round.project
    texts, counts = crawl_coder_view(client, coder, project)
    for where, text in texts:
        scan(where, text)
    print(f"scanned {counts['pages']} pages, {counts['images']} images, {counts['api']} API "
          f"responses, {len(put_responses)} saves")
    assert counts["pages"] >= 3 * counts["samples"] + 3
    assert counts["images"] > 0  # thumbnails and zoom images were reached and checked

    # a coder is not told about other coders' clusters either
    samples = list(Assignment.objects.filter(coder=coder).values_list(
        "cluster_sample__public_id", flat=True))
    others = Assignment.objects.exclude(coder=coder).exclude(
        cluster_sample__public_id__in=samples).values_list("cluster_sample__public_id", flat=True)
    for public_id in others:
        assert client.get(reverse("annotation:code-cluster", args=[public_id])).status_code == 404
        assert client.get(reverse("annotation-api:cluster-state", args=[public_id])).status_code == 404


def test_coders_never_see_the_run_config_seed_or_data_set(validation_round, users, client):
    """What would let a coder rerun the engine (threat model, docs/reliability.md): the seed,
    the configuration, the data set's name, the project's real name and description."""
    project = validation_round.project
    project.name, project.description = "VMU replication study", "Tweets of the VMU benchmark"
    project.save()
    run = validation_round.solutions.first().run
    run.config = {"seed": 1618033988, "reduction": "umap", "n_components": 47,
                  "ks": [9, 16, 25], "fit_sample": 31337}
    run.seed = 1618033988
    run.manifest = {"seed": 1618033988, "config": run.config}
    run.save()
    run.dataset.name = "vmu2016-dump"
    run.dataset.save()
    secrets = ["1618033988", "31337", "n_components", "fit_sample", "reduction", "umap",
               "vmu2016", "VMU replication", "VMU benchmark"]
    coder = users["coder"]
    client.force_login(coder)
    code_everything(client, coder)
    texts, counts = crawl_coder_view(client, coder, project)
    for where, text in texts:
        for secret in secrets:
            assert secret.lower() not in text.lower(), f"{where} shows {secret!r}"
    assert counts["pages"] >= 3 * counts["samples"] + 3
    # the name the PI chose for coders (default "Study <n>") is what they see
    home = client.get(reverse("annotation:my-work")).content.decode()
    assert f"Study {project.pk}" in home
    project.name_for_coders = "Pilot B"
    project.save()
    assert "Pilot B" in client.get(reverse("annotation:my-work")).content.decode()
    assert client.get(f"/api/projects/{project.pk}/").json()["name"] == "Pilot B"
    client.force_login(users["pi"])
    assert "VMU replication study" in client.get(f"/projects/{project.pk}/").content.decode()


def test_the_scan_catches_a_leak(validation_round, users, client):
    """Negative control: the PI's round page names the solutions, and the scan says so."""
    client.force_login(users["pi"])
    body = client.get(reverse("annotation:round-manage", args=[validation_round.pk])).content.decode()
    with pytest.raises(AssertionError, match="reveals"):
        scan("PI page", body)
    for leak in ("/api/solutions/9001/", "Kmeans", "k=25", "K25 clusters"):
        with pytest.raises(AssertionError):
            scan("probe", leak)
