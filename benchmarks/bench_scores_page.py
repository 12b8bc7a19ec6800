"""The scores page at the demo's size: median time and queries of the PI's score pages.

The demo (``make demo``) runs the engine on the MediaEval data with 5 methods x K in
9, 16, 25, 36, 49 (K-Means): 25 method solutions plus the single-modality building blocks of the
label-level ones, ~35 solutions in all. This benchmark builds that shape directly (an engine
stand-in: Solution rows with metrics, no engine run): one round over the 25 method solutions
(675 clusters, 10 posts each) coded by 2 coders in 3 passes, codes COPYed into PostgreSQL. The
score snapshot is computed once (as the job does),
then each page is loaded N times with the Django test client in this process (server-side cost:
queries, scoring, template rendering; no network).

    python benchmarks/bench_scores_page.py [--requests 10] [--coders 2]
        [--database postgres://postgres@127.0.0.1:5432/diptych_bench_scores_page]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.bench_platform_100coders import _copy  # noqa: E402
from benchmarks.databases import ensure_database  # noqa: E402
from benchmarks.measure import machine_load, print_table  # noqa: E402

PASSES = ("text", "image", "joint")
METHODS = ("text", "image", "label", "vector", "cca")     # the demo's DEMO_RUN_OPTIONS
KS = (9, 16, 25, 36, 49)
PARTS = [(m, k) for m in ("text", "image") for k in (3, 4, 5, 6, 7)]   # building blocks
POSTS_PER_CLUSTER, THEMES_PER_PASS, AGREEMENT = 10, 12, 0.7


def make_demo_project(n_coders: int, workdir: Path, seed: int = 0):
    """A PI, coders, a run with the demo's solutions and a round coded by every coder."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.utils import timezone

    from annotation.models import (Assignment, ClusterSample, PostCode, SampledPost, Theme,
                                   ValidationRound)
    from projects.models import Dataset, EngineRun, Role, RunStatus, Solution
    from projects.services import access

    rng = np.random.default_rng(seed)
    users = get_user_model().objects
    tag = f"{os.getpid()}-{int(time.time() * 1000) % 10**8}"
    pi = users.create_user(f"bench-scores-pi-{tag}")
    project = access.create_project(pi, f"scores page {tag}")
    coders = [users.create_user(f"bench-scores-coder-{tag}-{i}") for i in range(n_coders)]
    for coder in coders:
        access.add_member(project, coder, Role.CODER)
    out = workdir / "run"
    out.mkdir(parents=True)
    dataset = Dataset.objects.create(project=project, name="mediaeval-shaped", source="folder",
                                     table_path=str(out / "pairs.parquet"), images_root=str(out),
                                     n_rows_read=1776, n_pairs_valid=1776)
    run = EngineRun.objects.create(project=project, dataset=dataset, status=RunStatus.SUCCEEDED,
                                   stage="done", progress=1.0, output_dir=str(out))

    def metrics():
        return {"s_dbw_own": float(rng.uniform(0.5, 1.5)),
                "s_dbw_common": float(rng.uniform(0.5, 1.5)),
                "stability_ari_mean": float(rng.uniform(0.6, 1.0)),
                "ami_text_image": 0.17, "data_loss_top25": float(rng.uniform(0, 0.3)),
                "truth": {"ami": float(rng.uniform(0, 0.5)), "ari": float(rng.uniform(0, 0.4))}}

    solutions = [Solution.objects.create(
        run=run, solution_id=f"{m}-kmeans-k{k}", method=m, algorithm="kmeans", k=k,
        n_clusters=k, space=m, metrics=metrics()) for m in METHODS for k in KS]
    for m, k in PARTS:
        Solution.objects.create(run=run, solution_id=f"{m}-kmeans-k{k}-part", kind="modality",
                                method=m, algorithm="kmeans", k=k, n_clusters=k, space=m)
    validation_round = ValidationRound.objects.create(
        project=project, name="demo-sized round", dataset=dataset,
        posts_per_cluster=POSTS_PER_CLUSTER, calibration_clusters=0, created_by=pi,
        adjudication_open=True)
    validation_round.solutions.set(solutions)
    with transaction.atomic():
        cells = [(s, label) for s in solutions for label in range(s.n_clusters)]
        order = rng.permutation(len(cells))
        samples = ClusterSample.objects.bulk_create(
            [ClusterSample(round=validation_round, solution=s, cluster_label=label,
                           cluster_size=int(rng.integers(5, 200)), order=int(order[i]))
             for i, (s, label) in enumerate(cells)], batch_size=5000)
        posts = SampledPost.objects.bulk_create(
            [SampledPost(cluster_sample=sample, pair_id=f"p{i}-{j}", post_id=f"p{i}-{j}",
                         position=j, text=f"post {j} of cluster {i}", image=f"img/{i}.jpg",
                         lang="en")
             for i, sample in enumerate(samples) for j in range(POSTS_PER_CLUSTER)],
            batch_size=5000)
        Assignment.objects.bulk_create(
            [Assignment(round=validation_round, coder=c, cluster_sample=sample)
             for sample in samples for c in coders], batch_size=5000)
        themes = {p: [t.pk for t in Theme.objects.bulk_create(
            [Theme(project=project, modality=p, name=f"{p} theme {j:02d}", created_by=pi)
             for j in range(THEMES_PER_PASS)])] for p in PASSES}
        now = timezone.now()
        true_theme = {p: rng.integers(0, THEMES_PER_PASS, len(samples)) for p in PASSES}

        def post_rows():
            for i, sample in enumerate(samples):
                for post in posts[i * POSTS_PER_CLUSTER:(i + 1) * POSTS_PER_CLUSTER]:
                    for coder in coders:
                        for p in PASSES:
                            pick = (true_theme[p][i] if rng.random() < AGREEMENT
                                    else rng.integers(0, THEMES_PER_PASS))
                            yield (post.pk, sample.pk, coder.pk, p, themes[p][pick], 1, now, now)

        _copy(PostCode._meta.db_table, ["sampled_post_id", "cluster_sample_id", "coder_id",
                                        "pass_name", "theme_id", "version", "created_at",
                                        "updated_at"], post_rows())
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {PostCode._meta.db_table}")
    return project, pi, len(samples), PostCode.objects.filter(
        cluster_sample__round=validation_round).count(), len(solutions) + len(PARTS)


def timed(client, url: str, n: int, cold: bool = False) -> dict:
    """Median ms of n GETs after one warm-up, and the queries of one request; ``cold``: the
    cache is emptied before each GET (a plot's first draw after the scores changed)."""
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    times = []
    for _ in range(n):
        if cold:
            cache.clear()
        started = time.perf_counter()
        response = client.get(url)
        _ = response.content
        times.append(time.perf_counter() - started)
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    return {"median_ms": statistics.median(times) * 1000, "max_ms": max(times) * 1000,
            "queries": len(queries), "kib": len(response.content) / 1024}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10)
    parser.add_argument("--coders", type=int, default=2)
    parser.add_argument("--database", default=os.environ.get(
        "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/diptych_bench_scores_page"))
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="diptych-bench-scores-page-"))
    ensure_database(args.database)
    os.environ["DATABASE_URL"] = args.database
    os.environ.setdefault("DIPTYCH_VAR_DIR", str(workdir / "var"))
    os.environ.setdefault("DIPTYCH_MEDIA_ROOT", str(workdir / "media"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "diptych.settings")
    os.environ.setdefault("MPLBACKEND", "Agg")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment

    from scoring.services.snapshots import recompute

    setup_test_environment()
    settings.ALLOWED_HOSTS = ["testserver"]
    call_command("migrate", verbosity=0)
    project, pi, n_clusters, n_codes, n_solutions = make_demo_project(args.coders, workdir)
    started = time.perf_counter()
    recompute(project.pk)
    print(f"{n_solutions} solutions, {n_clusters} clusters in the round, {n_codes:,} post codes "
          f"by {args.coders} coders; score job {time.perf_counter() - started:.1f} s; "
          f"{machine_load()}")
    client = Client()
    client.force_login(pi)
    plot = f"/scoring/projects/{project.pk}/compare/plot.png"
    pages = {
        "scores page (compare solutions)": (f"/scoring/projects/{project.pk}/compare/", False),
        "comparison JSON": (f"/api/scoring/projects/{project.pk}/comparison/", False),
        "intrusion JSON": (f"/api/scoring/projects/{project.pk}/intrusion/", False),
        "the page's plot (PNG), reloaded": (plot, False),
        "the page's plot (PNG), first draw": (plot, True),
        "plot download (PNG), first draw": (plot + "?download=1", True),
    }
    rows = [{"page": name, "n": args.requests, **timed(client, url, args.requests, cold)}
            for name, (url, cold) in pages.items()]
    print_table(rows, ["page", "n", "median_ms", "max_ms", "queries", "kib"],
                "PI score pages at the demo's size (Django test client, server side)")


if __name__ == "__main__":
    main()
