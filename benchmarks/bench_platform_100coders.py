"""The platform with 100 coders: a validation round of 2,500 clusters x 3 passes coded by 100
coders (~750,000 post codes), then the PI's pages, the read API, a merge and a full export.

Synthetic and direct: the round's rows (cluster samples, sampled posts, assignments, themes) are
bulk-created and the codes are COPYed into PostgreSQL (the codes are what is being measured, not
the coding pages; ``benchmarks/bench_load.py`` measures saving labels through the API). Each
cluster sample has 10 posts and is coded by 10 of the 100 coders in each pass; a coder gives the
cluster's "true" theme of the pass with probability 0.7, else one of 40 themes at random, so
consistency and Krippendorff's alpha are neither 0 nor 1. 24 K-Means solutions (3 methods x 8 K)
plus 3 HDBSCAN solutions make up the 2,500 clusters.

Timed (Django test client in this process: server-side cost, no network), one row each: the
first score computation (the job that stores the snapshot the pages read), scores/comparison
page, its JSON, per-cluster scores JSON, the read API for analysis (cluster scores, reliability,
codes), adjudication page, round API; then a theme merge, the comparison page while its
recomputation is pending (the last snapshot with its notice), the recomputation job after the
merge, the page after it, and a full export (time and peak RSS of this process).
Targets: p95 <= 300 ms, recomputation <= 10 s, export <= 60 s and <= 1 GiB.

    python benchmarks/bench_platform_100coders.py [--clusters 2500] [--coders 100] [--requests 20]
        [--database postgres://postgres@127.0.0.1:5432/diptych_bench_100coders]
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

from benchmarks.databases import ensure_database  # noqa: E402
from benchmarks.measure import machine_load, measured, percentile, print_table  # noqa: E402

PASSES = ("text", "image", "joint")
KS = (9, 16, 25, 36, 49, 64, 81, 100)
METHODS = ("label", "vector", "joint")
POSTS_PER_CLUSTER, THEMES_PER_PASS, AGREEMENT = 10, 40, 0.7


def _copy(table: str, columns: list[str], rows) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def make_round(n_clusters: int, n_coders: int, per_cluster: int, workdir: Path, seed: int = 0):
    """Project, run, solutions, round, samples, posts, assignments, themes and codes."""
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone

    from annotation.models import (Assignment, ClusterCode, ClusterSample, PostCode, SampledPost,
                                   Theme, ValidationRound)
    from projects.models import Dataset, EngineRun, Role, RunStatus, Solution
    from projects.services import access

    rng = np.random.default_rng(seed)
    users = get_user_model().objects
    tag = f"{os.getpid()}-{int(time.time() * 1000) % 10**8}"
    pi = users.create_user(f"bench100-pi-{tag}")
    project = access.create_project(pi, f"100 coders {tag}")
    coders = [users.create_user(f"bench100-coder-{tag}-{i:03d}") for i in range(n_coders)]
    for coder in coders:
        access.add_member(project, coder, Role.CODER)
    out = workdir / "run"
    out.mkdir(parents=True)
    dataset = Dataset.objects.create(project=project, name="synthetic", source="folder",
                                     table_path=str(out / "pairs.parquet"), images_root=str(out),
                                     n_rows_read=n_clusters * 100, n_pairs_valid=n_clusters * 100)
    run = EngineRun.objects.create(project=project, dataset=dataset, status=RunStatus.SUCCEEDED,
                                   stage="done", progress=1.0, output_dir=str(out))
    # 24 K-Means solutions, and HDBSCAN per method for the remaining clusters.
    sizes = [(m, "kmeans", k, k) for m in METHODS for k in KS]
    rest = n_clusters - sum(k for *_, k in sizes)
    sizes += [(m, "hdbscan", None, rest // 3 + (i < rest % 3)) for i, m in enumerate(METHODS)]
    solutions = []
    for method, algorithm, k, n in sizes:
        sid = f"{method}-{algorithm}" + (f"-k{k}" if k else "")
        solutions.append((Solution.objects.create(
            run=run, solution_id=sid, method=method, algorithm=algorithm, k=k, n_clusters=n,
            space="" if method == "label" else method,
            metrics={"s_dbw_common": float(rng.uniform(0.5, 1.5)), "ami_text_image": 0.03,
                     "s_dbw_own": None if method == "label" else float(rng.uniform(0.5, 1.5)),
                     "data_loss_top25": float(rng.uniform(0, 0.3))}), n))
    validation_round = ValidationRound.objects.create(
        project=project, name="100 coders", dataset=dataset, posts_per_cluster=POSTS_PER_CLUSTER,
        calibration_clusters=0, created_by=pi)
    validation_round.solutions.set([s for s, _ in solutions])

    with transaction.atomic():
        cells = [(s, label) for s, n in solutions for label in range(n)]
        order = rng.permutation(len(cells))
        samples = ClusterSample.objects.bulk_create(
            [ClusterSample(round=validation_round, solution=s, cluster_label=label,
                           cluster_size=int(rng.integers(20, 5000)), order=int(order[i]))
             for i, (s, label) in enumerate(cells)], batch_size=5000)
        posts = SampledPost.objects.bulk_create(
            [SampledPost(cluster_sample=sample, pair_id=f"p{i}-{j}", post_id=f"p{i}-{j}",
                         position=j, text=f"synthetic post {j} of cluster {i}",
                         image=f"images/{i % 500}.jpg", lang="en")
             for i, sample in enumerate(samples) for j in range(POSTS_PER_CLUSTER)],
            batch_size=5000)
        coder_sets = [[coders[(i * per_cluster + c) % n_coders] for c in range(per_cluster)]
                      for i in range(len(samples))]
        Assignment.objects.bulk_create(
            [Assignment(round=validation_round, coder=c, cluster_sample=sample)
             for sample, group in zip(samples, coder_sets) for c in group], batch_size=5000)
        themes = {p: [t.pk for t in Theme.objects.bulk_create(
            [Theme(project=project, modality=p, name=f"{p} theme {j:02d}", created_by=pi)
             for j in range(THEMES_PER_PASS)])] for p in PASSES}
        now = timezone.now()
        true_theme = {p: rng.integers(0, THEMES_PER_PASS, len(samples)) for p in PASSES}

        def theme_for(p, i, n):
            agree = rng.random(n) < AGREEMENT
            picks = np.where(agree, true_theme[p][i], rng.integers(0, THEMES_PER_PASS, n))
            return [themes[p][t] for t in picks]

        def post_rows():
            for i, sample in enumerate(samples):
                sample_posts = posts[i * POSTS_PER_CLUSTER:(i + 1) * POSTS_PER_CLUSTER]
                for coder in coder_sets[i]:
                    for p in PASSES:
                        for post, theme in zip(sample_posts, theme_for(p, i, POSTS_PER_CLUSTER)):
                            yield (post.pk, sample.pk, coder.pk, p, theme, 1, now, now)

        def cluster_rows():
            for i, sample in enumerate(samples):
                for coder in coder_sets[i]:
                    for p in PASSES:
                        yield (sample.pk, coder.pk, p, theme_for(p, i, 1)[0], 1, now, now)

        code_columns = ["version", "created_at", "updated_at"]
        _copy(PostCode._meta.db_table, ["sampled_post_id", "cluster_sample_id", "coder_id",
                                        "pass_name", "theme_id", *code_columns], post_rows())
        _copy(ClusterCode._meta.db_table, ["cluster_sample_id", "coder_id", "pass_name",
                                           "theme_id", *code_columns], cluster_rows())
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {PostCode._meta.db_table}; ANALYZE {ClusterCode._meta.db_table}")
    return project, validation_round, pi, themes


def page_row(name: str, times: list[float]) -> dict:
    return {"page or job": name, "n": len(times), "median_ms": statistics.median(times) * 1000,
            "p95_ms": percentile(times, 0.95) * 1000, "max_ms": max(times) * 1000}


def time_get(client, url: str, n: int) -> list[float]:
    """Seconds per GET after one warm-up; fewer repeats when one request takes seconds."""
    started = time.perf_counter()
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    if time.perf_counter() - started > 3:
        n = min(n, 3)
    times = []
    for _ in range(n):
        started = time.perf_counter()
        response = client.get(url)
        if hasattr(response, "streaming_content"):
            for _chunk in response.streaming_content:
                pass
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, (url, response.status_code)
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=2500)
    parser.add_argument("--coders", type=int, default=100)
    parser.add_argument("--coders-per-cluster", type=int, default=10)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--database", default=os.environ.get(
        "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/diptych_bench_100coders"))
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="diptych-bench-100coders-"))
    ensure_database(args.database)
    os.environ["DATABASE_URL"] = args.database
    os.environ.setdefault("DIPTYCH_VAR_DIR", str(workdir / "var"))
    os.environ.setdefault("DIPTYCH_MEDIA_ROOT", str(workdir / "media"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "diptych.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment

    from annotation.models import ClusterCode, PostCode, Theme
    from annotation.services.codebook import merge_themes
    from scoring.models import ExportJob
    from celery import current_app

    from scoring.services.exports import run_export
    from scoring.services.snapshots import SCORES_TASK, recompute

    setup_test_environment()
    settings.ALLOWED_HOSTS = ["testserver"]
    call_command("migrate", verbosity=0)
    setup = {}
    with measured(setup):
        project, validation_round, pi, themes = make_round(
            args.clusters, args.coders, args.coders_per_cluster, workdir)
    n_post_codes = PostCode.objects.filter(cluster_sample__round=validation_round).count()
    n_cluster_codes = ClusterCode.objects.filter(cluster_sample__round=validation_round).count()
    print(f"round: {args.clusters:,} clusters x {len(PASSES)} passes, {args.coders} coders, "
          f"{n_post_codes:,} post codes + {n_cluster_codes:,} common themes; created in "
          f"{setup['seconds']:.0f} s", flush=True)

    rows = []

    def job_row(name, m):
        rows.append({"page or job": name, "n": 1, "median_ms": m["seconds"] * 1000,
                     "p95_ms": m["seconds"] * 1000, "max_ms": m["seconds"] * 1000,
                     "peak_rss_gib": m["peak_rss_gib"]})
        print(f"  {name}: {m['seconds']:.1f} s", flush=True)

    with measured({}) as m:
        recompute(project.pk)
    job_row("first score computation (job)", m)
    client = Client(HTTP_ACCEPT_ENCODING="gzip, deflate")   # as browsers and requests send
    client.force_login(pi)
    analysis = f"/api/scoring/projects/{project.pk}/analysis"
    pages = {
        "scores/comparison page": f"/scoring/projects/{project.pk}/compare/",
        "comparison JSON (API)": f"/api/scoring/projects/{project.pk}/comparison/",
        "per-cluster scores JSON (API)": f"/api/scoring/projects/{project.pk}/clusters/",
        "read API: cluster scores per coder, page 1": f"{analysis}/cluster-scores/?level=coder",
        "read API: cluster scores, one solution": f"{analysis}/cluster-scores/?solution=vector-kmeans-k25",
        "read API: reliability": f"{analysis}/reliability/",
        "read API: codes, page 1": f"{analysis}/codes/",
        "adjudication page": f"/code/rounds/{validation_round.pk}/adjudicate/",
        "round detail (API)": f"/api/annotation/rounds/{validation_round.pk}/",
    }
    for name, url in pages.items():
        with measured({}) as m:
            times = time_get(client, url, args.requests)
        rows.append({**page_row(name, times), "peak_rss_gib": m["peak_rss_gib"]})
        print(f"  {name}: p95 {rows[-1]['p95_ms']:.0f} ms", flush=True)

    # A merge changes every score that used the merged theme: time the recomputation.
    source, target = (Theme.objects.get(pk=themes["text"][1]), Theme.objects.get(pk=themes["text"][0]))
    merge_themes(source, target, pi, "bench")
    # as with a broker: the page sends the job (here: recorded, not run) and shows the last
    # snapshot with its notice
    task = current_app.tasks[SCORES_TASK]
    task.delay = lambda *args: None
    with measured({}) as m:
        times = time_get(client, pages["scores/comparison page"], args.requests)
    assert b"scores-stale" in client.get(pages["scores/comparison page"]).content
    rows.append({**page_row("comparison page, recomputation pending", times),
                 "peak_rss_gib": m["peak_rss_gib"]})
    del task.delay
    with measured({}) as m:
        recompute(project.pk)
    job_row("score recomputation after a merge (job)", m)
    with measured({}) as m:
        times = time_get(client, pages["scores/comparison page"], args.requests)
    rows.append({**page_row("comparison page after the merge", times),
                 "peak_rss_gib": m["peak_rss_gib"]})

    job = ExportJob.objects.create(project=project, created_by=pi, stage="queued")
    with measured({}) as m:
        job = run_export(job.pk)
    assert job.status == ExportJob.Status.SUCCEEDED, job.error
    rows.append({"page or job": f"full export ({os.path.getsize(job.file_path) / 2**20:.0f} MiB zip)",
                 "n": 1, "median_ms": m["seconds"] * 1000, "p95_ms": m["seconds"] * 1000,
                 "max_ms": m["seconds"] * 1000, "peak_rss_gib": m["peak_rss_gib"],
                 "delta_rss_gib": m["delta_rss_gib"]})
    print_table(rows, ["page or job", "n", "median_ms", "p95_ms", "max_ms", "peak_rss_gib",
                       "delta_rss_gib"],
                f"Platform with {args.coders} coders: {args.clusters:,} clusters, "
                f"{n_post_codes:,} post codes; PostgreSQL; {machine_load()}")


if __name__ == "__main__":
    main()
