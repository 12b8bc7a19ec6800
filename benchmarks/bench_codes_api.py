"""The codes read API (``analysis/codes/``) on a database that already holds a large project:
page 1, a middle page, the last page, and filtered pages, timed per request.

Reuses the project with the most post codes in the database (the one
``bench_platform_100coders.py`` creates: 750,000 post codes + 75,000 common themes), so it runs in
seconds instead of building a round. Django test client in this process (server-side cost).

    python benchmarks/bench_codes_api.py [--requests 10]
        [--database postgres://postgres@127.0.0.1:5432/diptych_scores_bench]
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.databases import largest_project, setup_django  # noqa: E402
from benchmarks.measure import machine_load, measured, print_table  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10)
    parser.add_argument("--database", default=os.environ.get(
        "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/diptych_scores_bench"))
    args = parser.parse_args()
    setup_django(args.database, "diptych-bench-codes-api-")
    from django.conf import settings
    from django.test import Client
    from django.test.utils import setup_test_environment

    from benchmarks.bench_platform_100coders import page_row, time_get

    setup_test_environment()
    settings.ALLOWED_HOSTS = ["testserver"]
    project = largest_project()
    client = Client(HTTP_ACCEPT_ENCODING="gzip, deflate")
    client.force_login(project.created_by)
    url = f"/api/scoring/projects/{project.pk}/analysis/codes/"
    count = client.get(url).json()["count"]
    pages = {
        "codes, page 1 (500 rows)": url,
        "codes, page 1 of 5,000 rows": f"{url}?page_size=5000",
        "codes, middle page": f"{url}?page={count // 1000}",
        "codes, last page (common themes)": f"{url}?page={(count + 499) // 500}",
        "codes of one coder and pass, page 2": f"{url}?coder=coder_7&pass=image&page=2",
        "codes of one solution, page 3": f"{url}?solution=vector-kmeans-k25&page=3",
    }
    rows = []
    for name, page in pages.items():
        with measured({}) as m:
            times = time_get(client, page, args.requests)
        rows.append({**page_row(name, times), "peak_rss_gib": m["peak_rss_gib"]})
        print(f"  {name}: p95 {rows[-1]['p95_ms']:.0f} ms", flush=True)
    print_table(rows, ["page or job", "n", "median_ms", "p95_ms", "max_ms", "peak_rss_gib"],
                f"Codes read API, project {project.pk}: {count:,} codes; {machine_load()}")


if __name__ == "__main__":
    main()
