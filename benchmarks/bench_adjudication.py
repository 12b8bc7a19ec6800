"""The adjudication page at 100 coders: p50/p95 and query counts of its pages on synthetic rounds
(each cluster sample coded by 10 of 100 coders in 3 passes, ~300 post codes per cluster).

The rounds are built by ``bench_platform_100coders.make_round`` in this benchmark's own
PostgreSQL database (dropped and made again unless ``--reuse``). Timed with the Django test
client in this process (server-side cost, no network), after one warm-up request per URL:
the first page, a page in the middle, "only clusters with disagreements" from the start and from
the middle, and the "next disagreement" jump from the middle (a redirect to the page that holds
the next undecided row).

    python benchmarks/bench_adjudication.py [--clusters 250 2500] [--coders 100]
        [--coders-per-cluster 10] [--requests 10] [--reuse]
        [--database postgres://postgres@127.0.0.1:5432/diptych_bench_adjud]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.databases import ensure_database  # noqa: E402
from benchmarks.measure import machine_load, percentile, print_table  # noqa: E402


def drop_database(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    admin = url[: -len(parsed.path)] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parsed.path.lstrip("/")}" WITH (FORCE)')


def bench_round(n_clusters: int, args, workdir: Path):
    """This size's round: reused when ``--reuse`` finds one, else built."""
    from annotation.models import ClusterSample, SampledPost, Theme, ValidationRound
    from benchmarks import bench_platform_100coders as platform

    name = f"adjudication bench {n_clusters} x {args.coders_per_cluster}/{args.coders}"
    found = ValidationRound.objects.filter(name=name).select_related("created_by").first()
    if args.reuse and found is not None:
        return found, found.created_by
    # make_round needs room for its 24 K-Means solutions (1,140 clusters): a smaller round keeps
    # the smallest Ks that fit, the rest of its clusters going to HDBSCAN as before.
    all_ks = platform.KS
    while 3 * sum(platform.KS) > n_clusters:
        platform.KS = platform.KS[:-1]
    started = time.perf_counter()
    try:
        _project, validation_round, pi, _themes = platform.make_round(
            n_clusters, args.coders, args.coders_per_cluster, workdir / f"round-{n_clusters}")
    finally:
        platform.KS = all_ks
    validation_round.name = name
    validation_round.save(update_fields=["name"])
    from django.db import connection

    with connection.cursor() as cursor:   # make_round analyses the codes; the rest too, as
        for model in (ClusterSample, SampledPost, Theme):   # autovacuum would
            cursor.execute(f"ANALYZE {model._meta.db_table}")
    print(f"built {n_clusters:,} clusters in {time.perf_counter() - started:.0f} s", flush=True)
    return validation_round, pi


def timed(client, url: str, n: int, status: int = 200) -> tuple[list[float], int]:
    """Seconds of n GETs after a warm-up, and the queries of one request."""
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    reset_queries()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    n_queries = len(queries)   # now: the next request empties the log this counts in
    assert response.status_code == status, (url, response.status_code)
    times = []
    for _ in range(n):
        started = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - started)
        assert response.status_code == status, (url, response.status_code)
    return times, n_queries


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, nargs="+", default=[250, 2500])
    parser.add_argument("--coders", type=int, default=100)
    parser.add_argument("--coders-per-cluster", type=int, default=10)
    parser.add_argument("--requests", type=int, default=10)
    parser.add_argument("--reuse", action="store_true",
                        help="keep the database and reuse rounds of the same size")
    parser.add_argument("--database",
                        default="postgres://postgres@127.0.0.1:5432/diptych_bench_adjud")
    args = parser.parse_args()

    if not args.reuse:
        drop_database(args.database)
    ensure_database(args.database)
    workdir = Path(tempfile.mkdtemp(prefix="diptych-bench-adjud-"))
    os.environ["DATABASE_URL"] = args.database
    os.environ.setdefault("DIPTYCH_VAR_DIR", str(workdir / "var"))
    os.environ.setdefault("DIPTYCH_MEDIA_ROOT", str(workdir / "media"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "diptych.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client
    from django.urls import reverse

    from annotation.models import PostCode
    from annotation.services.adjudication import PAGE_SIZE

    # No setup_test_environment: its template instrumentation would be timed too.
    settings.ALLOWED_HOSTS = ["testserver"]
    call_command("migrate", verbosity=0)
    rows = []
    for n_clusters in args.clusters:
        validation_round, pi = bench_round(n_clusters, args, workdir)
        n_codes = PostCode.objects.filter(cluster_sample__round=validation_round).count()
        client = Client()
        client.force_login(pi)
        page = reverse("annotation:adjudicate", args=[validation_round.pk])
        middle = validation_round.samples.count() // 2
        urls = {
            "first page": (page, 200),
            "page in the middle": (f"{page}?page={middle // PAGE_SIZE + 1}", 200),
            "first page, 20 clusters a page": (f"{page}?per_page=20", 200),
            "only disagreements, first page": (f"{page}?only=disagreements", 200),
            "only disagreements, from the middle": (
                f"{page}?only=disagreements&from={middle}", 200),
            "next disagreement (redirect)": (
                reverse("annotation:adjudicate-next", args=[validation_round.pk])
                + f"?after={middle}", 302),
        }
        for name, (url, status) in urls.items():
            times, n_queries = timed(client, url, args.requests, status)
            rows.append({"clusters": n_clusters, "post codes": n_codes, "request": name,
                         "n": len(times), "queries": n_queries,
                         "p50_ms": statistics.median(times) * 1000,
                         "p95_ms": percentile(times, 0.95) * 1000})
            print(f"  {n_clusters} clusters, {name}: p95 {rows[-1]['p95_ms']:.0f} ms, "
                  f"{n_queries} queries", flush=True)
    print_table(rows, ["clusters", "post codes", "request", "n", "queries", "p50_ms", "p95_ms"],
                f"Adjudication page, {args.coders} coders ({args.coders_per_cluster} per cluster), "
                f"{PAGE_SIZE} clusters a page unless said; PostgreSQL; {machine_load()}")


if __name__ == "__main__":
    main()
