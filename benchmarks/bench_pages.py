"""Dashboard and gallery page latency (median, p95) on an engine run over the MediaEval data.

The pages are rendered by Django's test client in this process (no network), against a fresh
SQLite database in a temporary folder (or the database in DATABASE_URL), so the numbers are the
server-side cost of a page: queries, template rendering, file access.

    python benchmarks/bench_pages.py [--run-dir demo_output] [--requests 50] [--quick]

--run-dir reuses an engine output folder made on the MediaEval data (e.g. `make demo`'s
demo_output/); otherwise the engine runs first (--quick: PCA and K in 9,16,25 for a fast check).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
MEDIAEVAL = Path(os.environ.get("DIPTYCH_MEDIAEVAL", REPO.parent / "shared" / "data" / "mediaeval2016_vmu"))

from benchmarks.measure import measured, percentile, print_table, time_page  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-dir", help="existing engine output folder on the MediaEval data")
    parser.add_argument("--data", default=str(MEDIAEVAL))
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="diptych-bench-pages-"))
    os.environ.setdefault("DIPTYCH_VAR_DIR", str(workdir / "var"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "diptych.settings")
    os.environ.setdefault("MPLBACKEND", "Agg")
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment

    from projects.models import EngineRun, RunStatus
    from projects.services import access, run_queries
    from projects.services.datasets import import_server_folder
    from projects.services.run_config import engine_config, normalise_options
    from projects.services.run_outputs import store_run_outputs

    setup_test_environment()
    settings.ALLOWED_HOSTS = ["testserver"]
    call_command("migrate", verbosity=0)
    data = Path(args.data).resolve()
    user = get_user_model().objects.create_user(f"bench-{os.getpid()}")
    project = access.create_project(user, "bench pages")
    rows = []
    with measured(row := {"step": "import + validate MediaEval"}):
        dataset = import_server_folder(project, "mediaeval", data, extra_roots=[data])
    rows.append(row)

    options = normalise_options({"ks": [9, 16, 25] if args.quick else [9, 16, 25, 36, 49],
                                 "reduction": "pca" if args.quick else "umap"})
    run_dir = Path(args.run_dir).resolve() if args.run_dir else workdir / "run"
    if not args.run_dir:
        from clustering_engine.pipeline import run as run_engine

        with measured(row := {"step": f"engine run ({options['reduction']}, K {options['ks']})"}):
            run_engine(dataset.table_path, dataset.images_root, str(run_dir),
                       config=engine_config(options), echo=lambda m: None)
        rows.append(row)
    run = EngineRun.objects.create(project=project, dataset=dataset, config=options,
                                   status=RunStatus.SUCCEEDED, output_dir=str(run_dir))
    with measured(row := {"step": "store outputs (solutions, cluster summaries)"}):
        store_run_outputs(run)
    rows.append(row)
    print_table(rows, ["step", "seconds", "peak_rss_gib"], "Set-up")

    chosen = sorted(run_queries.chosen_solution_ids(run)) or [run.solutions.first().solution_id]
    solution = run.solutions.get(solution_id=chosen[-1])
    cluster = solution.clusters.first()
    word = (cluster.representatives[0]["text"].split() or ["a"])[0] if cluster.representatives else "a"
    image = next((r["image"] for r in cluster.representatives if r["image"]), None)
    figure = (run_queries.figures(run) or [{"name": "data_loss"}])[0]["name"]
    pages = {
        "dashboard": f"/runs/{run.pk}/dashboard/",
        f"gallery {solution.solution_id}": f"/solutions/{solution.pk}/gallery/",
        "gallery search": f"/solutions/{solution.pk}/gallery/?q={word}",
        "compare two solutions": f"/runs/{run.pk}/compare/?a={solution.pk}&b="
                                 f"{run.solutions.exclude(pk=solution.pk).first().pk}",
        "figure PNG": f"/runs/{run.pk}/figures/{figure}.png",
    }
    if image:
        pages["thumbnail (cached)"] = f"/datasets/{dataset.pk}/images/{image}"
    client = Client()
    client.force_login(user)
    results = []
    for name, url in pages.items():
        times = time_page(client, url, args.requests)
        results.append({"page": name, "n": len(times),
                        "median_ms": statistics.median(times) * 1000,
                        "p95_ms": percentile(times, 0.95) * 1000, "max_ms": max(times) * 1000})
    print_table(results, ["page", "n", "median_ms", "p95_ms", "max_ms"],
                f"Page latency ({run.solutions.count()} solutions, "
                f"{dataset.n_pairs_valid} pairs, database {settings.DATABASES['default']['ENGINE']})")


if __name__ == "__main__":
    main()
