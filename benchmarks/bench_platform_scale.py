"""The platform at the paper's scale: import a 336,921-pair run result, then page latency.

The run result is synthesised directly in the engine's output format (``diptych-engine-run/1``:
manifest.json, labels.parquet, pairs.parquet, clusters.json) with topic structure: texts drawn
from 30 topic vocabularies, 3 methods x 8 K x K-Means plus HDBSCAN (with noise) per method, and
the label-level building blocks — ~1,900 clusters in all. (The engine grid itself at this scale
is benchmarks/bench_grid.py.) Then:

* import: ``store_run_outputs`` (Solution + ClusterSummary rows, representatives resolved, the
  gallery's text search index built), into PostgreSQL (or the database in DATABASE_URL);
* pages through Django's test client in this process (server-side cost: queries, templates,
  file access; no network): dashboard, galleries, gallery text search (common and rare word),
  run status; target p95 < 300 ms. The comparison page (an explicit action that reads two label
  columns) is shown apart.

    python benchmarks/bench_platform_scale.py [--n 336921] [--requests 40]
"""
from __future__ import annotations

import argparse
import json
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
from benchmarks.measure import measured, percentile, print_table, time_page  # noqa: E402
from clustering_engine.methods import split_k  # noqa: E402

PAPER_PAIRS = 336_921
KS = (9, 16, 25, 36, 49, 64, 81, 100)
METHODS = ("label", "vector", "joint")
N_TOPICS, WORDS_PER_TOPIC, WORDS_PER_TEXT = 30, 60, 14


def _labels(rng, topic, k: int, noise: float = 0.0) -> np.ndarray:
    """Cluster labels that follow the topics (with some mixing), sizes skewed."""
    n = len(topic)
    labels = (topic * k // N_TOPICS + rng.integers(0, max(1, k // N_TOPICS + 1), n)) % k
    mixed = rng.random(n) < 0.25
    weights = 1.0 / np.sqrt(np.arange(1, k + 1))
    labels[mixed] = rng.choice(k, size=int(mixed.sum()), p=weights / weights.sum())
    if noise:
        labels[rng.random(n) < noise] = -1
    return labels.astype(np.int32)


def synthesise_run(out: Path, n: int, seed: int = 0) -> dict:
    """Write manifest.json, labels.parquet, pairs.parquet, clusters.json for n pairs."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    common = ["the", "a", "of", "and", "to", "in", "is", "on", "for", "with", "this", "rt"]
    vocab = [[f"t{t}w{w}" for w in range(WORDS_PER_TOPIC)] for t in range(N_TOPICS)]
    topic = rng.integers(0, N_TOPICS, n)
    word_idx = rng.integers(0, WORDS_PER_TOPIC, (n, WORDS_PER_TEXT))
    common_idx = rng.integers(0, len(common), (n, 4))
    texts = [" ".join([vocab[t][w] for w in row] + [common[c] for c in crow])
             for t, row, crow in zip(topic, word_idx, common_idx)]
    ids = [f"post{i:07d}" for i in range(n)]
    images = [f"images/{i % 50_000:05d}.jpg" for i in range(n)]
    pd.DataFrame({"pair_id": ids, "post_id": ids, "text": texts, "image": images,
                  "text_sha256": [f"{i:064x}" for i in range(n)]}).to_parquet(
        out / "pairs.parquet", index=False)
    del texts

    columns, solutions, modality, clusters = {}, [], [], {}

    def add(sid, method, algorithm, labels, k=None, kt=None, ki=None, target=solutions):
        columns[sid] = labels
        values, counts = np.unique(labels[labels >= 0], return_counts=True)
        order = np.argsort(-counts, kind="stable")
        clusters[sid] = []
        for j in order:
            members = np.flatnonzero(labels == values[j])[:5]
            clusters[sid].append({
                "cluster": int(values[j]), "size": int(counts[j]),
                "share": round(float(counts[j]) / n, 6),
                "top_terms": [[f"t{int(values[j]) % N_TOPICS}w{w}", round(1.0 / (w + 1), 6)]
                              for w in range(10)],
                "representatives": [ids[m] for m in members]})
        noise = float((labels < 0).mean())
        target.append({"id": sid, "method": method, "algorithm": algorithm, "k": k,
                       "k_text": kt, "k_image": ki, "n_clusters": len(values),
                       "noise_share": round(noise, 6), "space": "" if method == "label" else method,
                       "metrics": {"s_dbw_own": None if method == "label" else
                                   round(float(rng.uniform(0.5, 1.5)), 4),
                                   "s_dbw_common": round(float(rng.uniform(0.5, 1.5)), 4),
                                   "ami_text_image": 0.03,
                                   "data_loss_top25": round(float(rng.uniform(0, 0.3)), 4)}})

    for method in METHODS:
        for k in KS:
            kt, ki = split_k(k) if method == "label" else (None, None)
            add(f"{method}-kmeans-k{k}", method, "kmeans", _labels(rng, topic, k), k, kt, ki)
        add(f"{method}-hdbscan", method, "hdbscan", _labels(rng, topic, 40, noise=0.2))
    for modality_name in ("text", "image"):
        for kt in sorted({split_k(k)[0] for k in KS} | {split_k(k)[1] for k in KS}):
            add(f"{modality_name}-kmeans-k{kt}", modality_name, "kmeans",
                _labels(rng, topic, kt), kt, target=modality)
    pd.DataFrame({"pair_id": ids, **columns}).to_parquet(out / "labels.parquet", index=False)
    (out / "clusters.json").write_text(json.dumps(clusters), encoding="utf-8")
    manifest = {
        "format": "diptych-engine-run/1", "seed": seed, "config": {"grid": {"ks": list(KS)}},
        "data": {"n_pairs_valid": n, "n_pairs_clustered": n},
        "ami_diagnostic": [{"algorithm": "kmeans", "k_text": split_k(k)[0], "k_image": split_k(k)[1],
                            "ami": 0.03, "p_value": 0.01, "null_band": [0.0, 0.001],
                            "reading": "independent"} for k in KS],
        "k_selection": {f"{m}-kmeans-common": {"method": m, "algorithm": "kmeans",
                                               "space": "common", "ks": list(KS),
                                               "chosen_k": 25} for m in METHODS},
        "solutions": solutions, "modality_solutions": modality, "timings": {}}
    (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return manifest


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=PAPER_PAIRS)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--database", default=os.environ.get(
        "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/diptych_bench_scale"))
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="diptych-bench-scale-"))
    ensure_database(args.database)
    os.environ["DATABASE_URL"] = args.database
    os.environ.setdefault("DIPTYCH_VAR_DIR", str(workdir / "var"))
    os.environ.setdefault("DIPTYCH_MEDIA_ROOT", str(workdir / "media"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "diptych.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment

    from projects.models import ClusterSummary, Dataset, EngineRun, RunStatus
    from projects.services import access, search_index
    from projects.services.run_outputs import store_run_outputs

    setup_test_environment()
    settings.ALLOWED_HOSTS = ["testserver"]
    call_command("migrate", verbosity=0)
    rows = []
    run_dir = workdir / "run"
    with measured(row := {"step": f"synthesise run result ({args.n:,} pairs)"}):
        manifest = synthesise_run(run_dir, args.n)
    rows.append(row)
    n_solutions = len(manifest["solutions"]) + len(manifest["modality_solutions"])

    user = get_user_model().objects.create_user(f"bench-scale-{os.getpid()}-{int(time.time())}")
    project = access.create_project(user, "bench platform scale")
    dataset = Dataset.objects.create(project=project, name="synthetic", source="folder",
                                     table_path=str(run_dir / "pairs.parquet"),
                                     images_root=str(run_dir), n_rows_read=args.n,
                                     n_pairs_valid=args.n)
    run = EngineRun.objects.create(project=project, dataset=dataset, status=RunStatus.SUCCEEDED,
                                   stage="done", progress=1.0, output_dir=str(run_dir))
    with measured(row := {"step": "import: store_run_outputs (rows + search index)"}):
        store_run_outputs(run, manifest)
    rows.append(row)
    n_clusters = ClusterSummary.objects.filter(solution__run=run).count()
    with measured(row := {"step": "search index rebuild alone"}):
        index = search_index.build_index(run)
    rows.append(row)

    solution = run.solutions.get(solution_id="vector-kmeans-k100")
    other = run.solutions.get(solution_id="label-kmeans-k100")
    hdbscan = run.solutions.get(solution_id="joint-hdbscan")
    pages = {
        "dashboard": f"/runs/{run.pk}/dashboard/",
        "run detail": f"/runs/{run.pk}/",
        "run status (JSON poll)": f"/runs/{run.pk}/status.json",
        "gallery vector-kmeans-k100 p1": f"/solutions/{solution.pk}/gallery/",
        "gallery p3": f"/solutions/{solution.pk}/gallery/?page=3",
        "gallery search common word 'the'": f"/solutions/{solution.pk}/gallery/?q=the",
        "gallery search topic word": f"/solutions/{solution.pk}/gallery/?q=t7w12",
        "gallery search rare (no match)": f"/solutions/{solution.pk}/gallery/?q=zzqx",
        "gallery hdbscan (noise)": f"/solutions/{hdbscan.pk}/gallery/",
    }
    client = Client()
    client.force_login(user)
    results = []
    for name, url in pages.items():
        with measured(row := {"step": f"page: {name} x{args.requests}"}):
            times = time_page(client, url, args.requests)
        rows.append(row)
        results.append({"page": name, "n": len(times), "median_ms": statistics.median(times) * 1000,
                        "p95_ms": percentile(times, 0.95) * 1000, "max_ms": max(times) * 1000})
    compare_url = f"/runs/{run.pk}/compare/?a={solution.pk}&b={other.pk}"
    with measured(row := {"step": "explicit action: compare two solutions x5"}):
        times = time_page(client, compare_url, 5)
    rows.append(row)
    explicit = [{"page": "compare two solutions (reads 2 label columns)", "n": len(times),
                 "median_ms": statistics.median(times) * 1000,
                 "p95_ms": percentile(times, 0.95) * 1000, "max_ms": max(times) * 1000}]
    # For comparison: the previous search, a scan of pairs.parquet's text column per request.
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    def scan(query):
        texts = pq.read_table(run_dir / "pairs.parquet", columns=["text"])["text"]
        return pc.match_substring(texts, query, ignore_case=True)

    with measured(row := {"step": "for comparison: scan pairs.parquet text (old search) x5"}):
        times = []
        for _ in range(5):
            started = time.perf_counter()
            scan("t7w12")
            times.append(time.perf_counter() - started)
    rows.append(row)
    explicit.append({"page": "old search: scan of the text column (no longer used)",
                     "n": len(times), "median_ms": statistics.median(times) * 1000,
                     "p95_ms": percentile(times, 0.95) * 1000, "max_ms": max(times) * 1000})

    print_table(rows, ["step", "seconds", "peak_rss_gib", "delta_rss_gib"],
                f"Platform at scale: {args.n:,} pairs, {n_solutions} solutions, {n_clusters:,} "
                f"clusters; database {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}; "
                f"{os.cpu_count()} CPU cores")
    print(f"labels.parquet {os.path.getsize(run_dir / 'labels.parquet') / 2**20:.1f} MiB, "
          f"pairs.parquet {os.path.getsize(run_dir / 'pairs.parquet') / 2**20:.1f} MiB, "
          f"search index {os.path.getsize(index) / 2**20:.1f} MiB")
    print_table(results, ["page", "n", "median_ms", "p95_ms", "max_ms"],
                "Page latency (server side, Django test client; target p95 < 300 ms)")
    print_table(explicit, ["page", "n", "median_ms", "p95_ms", "max_ms"],
                "Explicit actions, and the old search for comparison")
    worst = max(r["p95_ms"] for r in results)
    verdict = "OK" if worst < 300 else "ABOVE TARGET"
    print(f"\nworst page p95: {worst:.0f} ms -> {verdict} (< 300 ms)")


if __name__ == "__main__":
    main()
