"""Load test of label saving: N concurrent coders each save M labels through the real HTTP API
(``PUT /api/annotation/posts/<post>/<pass>/``, token auth) served by gunicorn on 127.0.0.1,
against PostgreSQL; then checks that no label was lost or duplicated and prints latencies.

    python benchmarks/bench_load.py [--coders 50] [--labels 100] [--gunicorn-workers 3]
                                    [--threads 4] [--database postgres:///diptych_bench_load]

The database (created if missing, emptied by migrate + flush) gets one project, a finished run
made directly (synthetic labels.parquet/pairs.parquet: 14 clusters x 10 posts), one validation
round where every coder codes every cluster, and one API token per coder. Each coder is a thread
with its own keep-alive connection; it saves M distinct first-pass labels with base_version 0,
retrying (idempotent PUT) on a connection error. Bounded: every request has a timeout and the
whole load a deadline. ``tests/scale/test_load.py`` runs a small version of the same code.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from benchmarks.databases import ensure_database  # noqa: E402
from annotation.passes import PASS_VALUES as PASSES  # noqa: E402
from benchmarks.measure import percentile  # noqa: E402

N_CLUSTERS, POSTS_PER_CLUSTER = 14, 10
FIRST_PASS = PASSES[0]
THEMES_PER_PASS = 6


# ----------------------------------------------------------------- fixtures in the database

def make_round(n_coders: int, workdir: Path):
    """Project, finished run, round (full overlap) and coders with tokens; returns
    (round, [(coder, token key)], {pass: [theme public ids]})."""
    import pandas as pd
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from annotation.models import ValidationRound
    from annotation.services.coding import get_or_create_theme
    from annotation.services.sampling import create_round
    from projects.models import Dataset, EngineRun, Role, RunStatus, Solution
    from projects.services import access

    users = get_user_model().objects
    tag = f"{os.getpid()}-{int(time.time() * 1000) % 10**8}"
    pi = users.create_user(f"load-pi-{tag}")
    project = access.create_project(pi, f"load test {tag}")
    coders = []
    for i in range(n_coders):
        coder = users.create_user(f"load-coder-{tag}-{i:03d}")
        access.add_member(project, coder, Role.CODER)
        coders.append((coder, Token.objects.create(user=coder).key))
    out = workdir / f"run-{tag}"
    out.mkdir(parents=True)
    n = N_CLUSTERS * POSTS_PER_CLUSTER
    ids = [f"p{i:05d}" for i in range(n)]
    pd.DataFrame({"pair_id": ids, "post_id": ids, "text": [f"post {i}" for i in range(n)],
                  "image": [f"images/{i}.jpg" for i in range(n)], "lang": ["en"] * n}
                 ).to_parquet(out / "pairs.parquet", index=False)
    pd.DataFrame({"pair_id": ids, "vector-kmeans-k16": pd.array(
        [i % N_CLUSTERS for i in range(n)], dtype="int32")}).to_parquet(out / "labels.parquet",
                                                                           index=False)
    dataset = Dataset.objects.create(project=project, name="synthetic", source="folder",
                                     table_path=str(out / "pairs.csv"), images_root=str(out),
                                     n_rows_read=n, n_pairs_valid=n)
    run = EngineRun.objects.create(project=project, dataset=dataset, status=RunStatus.SUCCEEDED,
                                   stage="done", progress=1.0, output_dir=str(out))
    solution = Solution.objects.create(run=run, solution_id="vector-kmeans-k16", method="vector",
                                       algorithm="kmeans", k=16, n_clusters=N_CLUSTERS)
    validation_round = create_round(project, [solution], name="load", created_by=pi,
                                    posts_per_cluster=POSTS_PER_CLUSTER, seed=1,
                                    calibration_clusters=0,
                                    overlap=ValidationRound.Overlap.FULL,
                                    coders=[c for c, _ in coders])
    # Coders code independently (each sees only their own themes), so each gets a codebook.
    themes = {coder.pk: [get_or_create_theme(project, FIRST_PASS, f"{coder.username} theme {j}",
                                             coder).public_id
                         for j in range(THEMES_PER_PASS)] for coder, _ in coders}
    return validation_round, coders, themes


def post_ids(validation_round) -> list[str]:
    from annotation.models import SampledPost

    return list(SampledPost.objects.filter(cluster_sample__round=validation_round)
                .order_by("pk").values_list("public_id", flat=True))


# ----------------------------------------------------------------- the load

@dataclass
class CoderResult:
    sent: dict = field(default_factory=dict)          # (post, pass) -> theme id acknowledged
    latencies: list = field(default_factory=list)
    statuses: dict = field(default_factory=dict)
    retries: int = 0
    errors: list = field(default_factory=list)


def coder_session(port: int, token: str, labels: list[tuple[str, str, int]], result: CoderResult,
                  start: threading.Barrier, deadline: float, timeout: float = 30.0) -> None:
    conn = None
    try:
        start.wait(timeout=60)
    except threading.BrokenBarrierError:
        result.errors.append("start barrier broken")
        return
    for post, pass_name, theme in labels:
        body = json.dumps({"theme_id": theme, "base_version": 0})
        for attempt in range(4):
            if time.monotonic() > deadline:
                result.errors.append("deadline passed")
                return
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
                started = time.perf_counter()
                conn.request("PUT", f"/api/annotation/posts/{post}/{pass_name}/", body=body,
                             headers={"Authorization": f"Token {token}",
                                      "Content-Type": "application/json",
                                      "Host": "127.0.0.1"})
                response = conn.getresponse()
                payload = response.read()
                elapsed = time.perf_counter() - started
            except (OSError, http.client.HTTPException) as exc:
                result.retries += 1
                if conn is not None:
                    conn.close()
                conn = None
                if attempt == 3:
                    result.errors.append(f"{post}/{pass_name}: {exc!r}")
                time.sleep(0.05 * (attempt + 1))
                continue
            result.latencies.append(elapsed)
            result.statuses[response.status] = result.statuses.get(response.status, 0) + 1
            if response.status in (200, 201):
                result.sent[(post, pass_name)] = theme
                break
            if response.status == 503 and attempt < 3:   # database hiccup: retry (idempotent)
                result.retries += 1
                time.sleep(0.1)
                continue
            result.errors.append(f"{post}/{pass_name}: HTTP {response.status} {payload[:200]!r}")
            break
    if conn is not None:
        conn.close()


def run_load(port: int, coders, posts: list[str], themes: dict, labels_per_coder: int,
             max_seconds: float, seed: int = 0) -> tuple[list[CoderResult], float]:
    """Every coder saves ``labels_per_coder`` distinct first-pass labels, all at once.

    Only the first pass: the server refuses a later pass of a cluster before its earlier
    passes are complete, and concurrency is the same in every pass.
    """
    items = [(post, FIRST_PASS) for post in posts]
    if labels_per_coder > len(items):
        raise ValueError(f"only {len(items)} (post, pass) items per coder")
    rng = random.Random(seed)
    results = [CoderResult() for _ in coders]
    start = threading.Barrier(len(coders) + 1)
    deadline = time.monotonic() + max_seconds
    threads = []
    for (coder, token), result in zip(coders, results):
        chosen = rng.sample(items, labels_per_coder)
        labels = [(post, p, rng.choice(themes[coder.pk])) for post, p in chosen]
        thread = threading.Thread(target=coder_session, daemon=True,
                                  args=(port, token, labels, result, start, deadline))
        thread.start()
        threads.append(thread)
    start.wait(timeout=60)
    started = time.perf_counter()
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()) + 5)
    wall = time.perf_counter() - started
    if any(t.is_alive() for t in threads):
        raise RuntimeError(f"the load did not finish within {max_seconds:.0f}s")
    return results, wall


def check_consistency(validation_round, coders, results: list[CoderResult]) -> dict:
    """Zero lost, zero duplicated: the database holds exactly the acknowledged labels."""
    from django.db.models import Count

    from annotation.models import CodeHistory, PostCode

    codes = PostCode.objects.filter(cluster_sample__round=validation_round)
    expected = {(coder.pk, post, p): theme for (coder, _), r in zip(coders, results)
                for (post, p), theme in r.sent.items()}
    stored = {(c["coder_id"], c["sampled_post__public_id"], c["pass_name"]): c["theme__public_id"]
              for c in codes.values("coder_id", "sampled_post__public_id", "pass_name",
                                    "theme__public_id")}
    duplicates = (codes.values("sampled_post", "coder", "pass_name").annotate(n=Count("id"))
                  .filter(n__gt=1).count())
    history = CodeHistory.objects.filter(post_code__in=codes)
    return {
        "acknowledged": len(expected),
        "rows": codes.count(),
        "lost": sum(1 for k in expected if k not in stored),
        "wrong_theme": sum(1 for k, t in expected.items() if stored.get(k) not in (None, t)),
        "unexpected": sum(1 for k in stored if k not in expected),
        "duplicated": duplicates,
        "history_rows": history.count(),
        "history_created": history.filter(outcome="created").count(),
        "versions_not_1": codes.exclude(version=1).count(),
        "errors": sum(len(r.errors) for r in results),
        "retries": sum(r.retries for r in results),
    }


# ----------------------------------------------------------------- the server

def start_gunicorn(port: int, env: dict, workers: int, threads: int, log_path: Path):
    args = [sys.executable, "-m", "gunicorn", "-c", str(REPO / "deploy" / "gunicorn.conf.py"),
            "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--threads", str(threads),
            "--access-logfile", "/dev/null", "diptych.wsgi:application"]
    with open(log_path, "ab") as log:
        return subprocess.Popen(args, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)


def server_env(database_url: str, **extra) -> dict:
    """Production-like settings (DEBUG off) for plain HTTP on loopback."""
    return {**os.environ, "DATABASE_URL": database_url,
            "DJANGO_SETTINGS_MODULE": "diptych.settings",
            "DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": "load-test-only-not-secret",
            "DJANGO_SECURE_SSL_REDIRECT": "0", "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "PYTHONPATH": str(REPO), **{k: str(v) for k, v in extra.items()}}


def wait_listening(port: int, process, timeout: float = 60) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("gunicorn exited")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn not listening on {port} after {timeout}s")


def summary(results: list[CoderResult], wall: float) -> dict:
    latencies = [x for r in results for x in r.latencies]
    return {"requests": len(latencies), "wall_s": wall,
            "throughput_rps": len(latencies) / wall if wall else None,
            "median_ms": statistics.median(latencies) * 1000 if latencies else None,
            "p95_ms": percentile(latencies, 0.95) * 1000 if latencies else None,
            "max_ms": max(latencies) * 1000 if latencies else None}


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--coders", type=int, default=50)
    parser.add_argument("--labels", type=int, default=100)
    parser.add_argument("--gunicorn-workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--max-seconds", type=float, default=600)
    parser.add_argument("--database", default=os.environ.get(
        "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/diptych_bench_load"))
    args = parser.parse_args()
    if not args.database.startswith("postgres"):
        sys.exit("the load test needs PostgreSQL (--database postgres://...)")

    ensure_database(args.database)
    os.environ["DATABASE_URL"] = args.database
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "diptych.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from benchmarks.measure import print_table

    call_command("migrate", verbosity=0)
    workdir = Path(tempfile.mkdtemp(prefix="diptych-bench-load-"))
    validation_round, coders, themes = make_round(args.coders, workdir)
    posts = post_ids(validation_round)
    port = free_port()
    log_path = workdir / "gunicorn.log"
    server = start_gunicorn(port, server_env(args.database), args.gunicorn_workers, args.threads,
                            log_path)
    try:
        wait_listening(port, server)
        results, wall = run_load(port, coders, posts, themes, args.labels, args.max_seconds)
    finally:
        server.terminate()
        server.wait(30)
    row = summary(results, wall)
    check = check_consistency(validation_round, coders, results)
    print_table([{"coders": args.coders, "labels_each": args.labels,
                  "gunicorn": f"{args.gunicorn_workers}x{args.threads} gthread", **row}],
                ["coders", "labels_each", "gunicorn", "requests", "wall_s", "throughput_rps",
                 "median_ms", "p95_ms", "max_ms"],
                f"Label saving through HTTP (PostgreSQL, {os.cpu_count()} CPU cores, client and "
                f"server on one machine)")
    print_table([check], list(check), "Consistency (expected: lost = duplicated = "
                                      "wrong_theme = unexpected = errors = 0; rows = acknowledged)")
    want = args.coders * args.labels
    ok = (check["rows"] == check["acknowledged"] == want and check["history_rows"] == want
          and not any(check[k] for k in ("lost", "duplicated", "wrong_theme", "unexpected",
                                          "errors", "versions_not_1")))
    print("\nOK: no label lost or duplicated" if ok else "\nFAILED: see the consistency table")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
