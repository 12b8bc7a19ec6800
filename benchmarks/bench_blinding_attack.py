"""Two attacks of a coder who holds the public data and the engine, played against the demo.

    python benchmarks/bench_blinding_attack.py [--rows 1776] [--workdir DIR] [--trials 20]

(a) Rerun the engine. The attacker runs ``python -m clustering_engine run`` on the public
    MediaEval files with the demo's options (``projects/management/commands/demo.py``) and seed 0
    (the engine's default, the demo's before this change). Each coder-visible sample (10 posts of
    one cluster of the round's solutions) is matched to the smallest of the attacker's clusters
    that holds most of it (all of it, when one does): a match in the same solution maps the
    cluster to its exact solution (method and K), a match in the same method to its method.
    "before": the server ran the demo with seed 0; "after": with a fresh secret seed (the
    platform's rule now). Samples are ``--trials`` seeded draws of 10 posts per cluster.
    Metrics that do not change labels (AMI permutations, stability reclustering) are cut.
(b) Co-appearance on intrusion tasks. A round of the demo (consistency samples and intrusion
    tasks of the text, image and joint kinds, one coder, full overlap) is made by the platform's
    own code on the "after" run. For each task the attacker picks the item that co-appears least
    with the task's other items elsewhere in their view (consistency samples, other tasks; an
    item is recognised by its normalised text where shown and by its image's bytes where shown);
    ties are broken at random. "before": the plan without the rule that intrusion items are
    posts seen nowhere else in the round (services.intrusion_seen); "after": with it. Printed:
    hit rate with its exact (Clopper-Pearson) 95 % interval against chance 1 / (k + 1).

Engine runs are kept in --workdir (reused when their manifest is there); the Django database is
a fresh SQLite file in it. A full run on 1,776 pairs takes minutes on two busy cores.
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
MEDIAEVAL = Path(os.environ.get("DIPTYCH_MEDIAEVAL",
                                REPO.parent / "shared" / "data" / "mediaeval2016_vmu"))

from benchmarks.measure import machine_load, print_table  # noqa: E402

POSTS_PER_SAMPLE = 10
ROUND_K = 9            # the round's solutions: every method at this K (5 methods x 9 clusters)


def setup(workdir: Path) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ.setdefault("DIPTYCH_VAR_DIR", str(workdir / "var"))
    os.environ.setdefault("DIPTYCH_MEDIA_ROOT", str(workdir / "media"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "diptych.settings")
    os.environ.setdefault("MPLBACKEND", "Agg")
    import django

    django.setup()
    from django.core.management import call_command

    (workdir / "bench.sqlite3").unlink(missing_ok=True)
    call_command("migrate", verbosity=0)


def subset_table(rows: int, workdir: Path) -> Path:
    """The MediaEval table, or its first ``rows`` rows (images stay in place)."""
    if rows >= 1776:
        return MEDIAEVAL / "pairs.csv"
    path = workdir / f"pairs-{rows}.csv"
    pd.read_csv(MEDIAEVAL / "pairs.csv", dtype=str, nrows=rows).to_csv(path, index=False)
    return path


def engine_run(table: Path, out: Path, seed: int) -> Path:
    """The demo's options with ``seed`` through the platform's option code; reused if done."""
    from clustering_engine.pipeline import run
    from projects.management.commands.demo import DEMO_RUN_OPTIONS
    from projects.services.run_config import engine_config, normalise_options

    manifest = out / "manifest.json"
    if manifest.is_file() and json.loads(manifest.read_text())["seed"] == seed:
        return out
    # Labels depend on the data, the grid options and the seed only: the AMI permutation null
    # and the stability reclusterings (run after the grid) are cut to save time.
    options = {**DEMO_RUN_OPTIONS, "seed": seed, "ami_permutations": 1}
    config = dataclasses.replace(engine_config(normalise_options(options)), stability_seeds=0)
    started = time.perf_counter()
    stages = []

    def progress(stage, fraction):
        if not stages or stages[-1] != stage:
            stages.append(stage)
            print(f"  [{time.perf_counter() - started:6.0f} s] {stage}", file=sys.stderr,
                  flush=True)

    run(str(table), str(MEDIAEVAL), str(out), config=config, progress=progress,
        echo=lambda message: None)
    print(f"engine run seed {seed}: {time.perf_counter() - started:.0f} s -> {out}")
    return out


def solutions_of(out: Path) -> dict[str, dict]:
    manifest = json.loads((out / "manifest.json").read_text())
    return {s["id"]: s for s in manifest["solutions"]}


def labels_of(out: Path) -> pd.DataFrame:
    return pd.read_parquet(out / "labels.parquet").set_index("pair_id")


# ------------------------------------------------------------------ (a) rerunning the engine

def attacker_clusters(labels: pd.DataFrame, solutions: dict) -> list[tuple[str, set]]:
    clusters = []
    for sid in solutions:
        for label, members in labels.groupby(sid).groups.items():
            if label >= 0:
                clusters.append((sid, set(members)))
    return clusters


def match(sample: set, clusters) -> str:
    """The solution id of the smallest attacker cluster that holds most of the sample."""
    best = max(clusters, key=lambda c: (len(sample & c[1]), -len(c[1])))
    return best[0]


def attack_rerun(server: Path, attacker: Path, trials: int) -> dict:
    solutions = solutions_of(server)
    round_solutions = [sid for sid, s in solutions.items() if s["k"] == ROUND_K]
    server_labels, attacker_labels = labels_of(server), labels_of(attacker)
    posts = pd.read_parquet(server / "pairs.parquet", columns=["pair_id", "post_id"])
    first_pair = posts.drop_duplicates("post_id").set_index("pair_id").index
    attacker_solutions = solutions_of(attacker)
    clusters = attacker_clusters(attacker_labels, attacker_solutions)
    rng = np.random.default_rng(20260)
    exact = method = total = 0
    for _ in range(trials):
        for sid in round_solutions:
            column = server_labels.loc[server_labels.index.isin(first_pair), sid]
            for label, members in column.groupby(column).groups.items():
                if label < 0:
                    continue
                members = list(members)
                sample = set(rng.choice(members, size=min(POSTS_PER_SAMPLE, len(members)),
                                        replace=False))
                found = match(sample, clusters)
                total += 1
                exact += found == sid
                method += attacker_solutions[found]["method"] == solutions[sid]["method"]
    return {"clusters": total // trials, "exact": exact / trials, "method": method / trials,
            "identical_labels": bool(server_labels.equals(attacker_labels))}


# ------------------------------------------------------------------ (b) co-appearance

def make_round(out: Path, table: Path, without_rule: bool, seed: int):
    """A demo round on the run in ``out``, made by the platform's code."""
    from django.contrib.auth import get_user_model

    from annotation.services import intrusion
    from annotation.services.intrusion import create_round_with_tasks
    from projects.models import Dataset, EngineRun, Role, RunStatus
    from projects.services import access
    from projects.services.run_outputs import store_run_outputs

    tag = f"{'before' if without_rule else 'after'}-{time.time_ns()}"
    users = get_user_model().objects
    pi, coder = users.create_user(f"pi-{tag}"), users.create_user(f"coder-{tag}")
    project = access.create_project(pi, f"bench {tag}")
    access.add_member(project, coder, Role.CODER)
    dataset = Dataset.objects.create(project=project, name="mediaeval", source="folder",
                                     table_path=str(table), images_root=str(MEDIAEVAL))
    run = EngineRun.objects.create(project=project, dataset=dataset, status=RunStatus.SUCCEEDED,
                                   output_dir=str(out))
    store_run_outputs(run)
    solutions = list(run.solutions.filter(k=ROUND_K, kind="combined").select_related("run"))
    saved = intrusion.consistency_keys, intrusion.row_keys
    if without_rule:   # the plan as it was drawn before: nothing counts as seen elsewhere
        intrusion.consistency_keys = lambda *a, **k: set()
        intrusion.row_keys = lambda *a, **k: frozenset()
    try:
        validation_round = create_round_with_tasks(
            project, solutions, name="bench", created_by=pi, posts_per_cluster=POSTS_PER_SAMPLE,
            seed=seed, calibration_clusters=0, overlap="full", coders=[coder],
            intrusion_kinds=["text", "image", "joint"])
    finally:
        intrusion.consistency_keys, intrusion.row_keys = saved
    return validation_round, coder


def _image_hash(path: str, cache: dict) -> str:
    if path not in cache:
        file = MEDIAEVAL / path
        cache[path] = hashlib.sha256(file.read_bytes()).hexdigest() if file.is_file() else path
    return cache[path]


def _recognised(text: str, image: str, kind: str, cache: dict) -> frozenset:
    """What the coder can recognise an item by (no ids: they are opaque and random)."""
    from clustering_engine.describe import normalise_for_duplicates

    keys = set()
    if kind in ("text", "joint") and text:
        keys.add(("text", normalise_for_duplicates(text)))
    if kind in ("image", "joint") and image:
        keys.add(("image", _image_hash(image, cache)))
    return frozenset(keys)


def attack_coappearance(validation_round, coder, seed: int = 0) -> dict:
    from annotation.intrusion_models import IntrusionAssignment
    from annotation.models import Assignment

    cache: dict = {}
    contexts = []      # (context id, set of keys)
    for a in Assignment.objects.filter(coder=coder, round=validation_round).select_related(
            "cluster_sample"):
        keys = set()
        for post in a.cluster_sample.posts.all():
            keys |= _recognised(post.text, post.image, "joint", cache)
        contexts.append((f"s{a.cluster_sample_id}", keys))
    tasks = []
    for a in IntrusionAssignment.objects.filter(coder=coder, task__round=validation_round
                                                ).select_related("task"):
        items = [(item.is_intruder, _recognised(item.text, item.image, a.task.kind, cache))
                 for item in a.task.items.order_by("position")]
        tasks.append((f"t{a.task_id}", items))
        contexts.append((f"t{a.task_id}", set().union(*(keys for _, keys in items))))
    where = defaultdict(set)          # key -> contexts holding it
    for cid, keys in contexts:
        for key in keys:
            where[key].add(cid)
    rng = np.random.default_rng(seed)
    hits = signal = 0
    for tid, items in tasks:
        seen_in = [set().union(*(where[k] for k in keys)) - {tid} for _, keys in items]
        scores = [sum(len(seen_in[i] & seen_in[j]) for j in range(len(items)) if j != i)
                  for i in range(len(items))]
        lowest = [i for i, s in enumerate(scores) if s == min(scores)]
        signal += len(lowest) < len(items)          # the scores tell the items apart at all
        hits += items[int(rng.choice(lowest))][0]
    k_plus_1 = len(tasks[0][1]) if tasks else 0
    return {"tasks": len(tasks), "hits": hits, "signal": signal,
            "chance": 1 / k_plus_1 if k_plus_1 else None}


def clopper_pearson(hits: int, n: int) -> tuple[float, float]:
    from scipy.stats import beta

    low = beta.ppf(0.025, hits, n - hits + 1) if hits else 0.0
    high = beta.ppf(0.975, hits + 1, n - hits) if hits < n else 1.0
    return float(low), float(high)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1776, help="first N MediaEval rows")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/diptych-bench-blinding"))
    parser.add_argument("--trials", type=int, default=20, help="sample draws per cluster, (a)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds played in (b)")
    parser.add_argument("--rerun-before", action="store_true",
                        help="run the seed-0 server run separately instead of reusing the "
                             "attacker's")
    parser.add_argument("--secret-seed", type=int, default=None,
                        help="the 'after' server's seed (default: a fresh one, as the platform)")
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    setup(args.workdir)
    from projects.services.run_config import fresh_seed

    table = subset_table(args.rows, args.workdir)
    print(f"data: {table} ({args.rows} rows); {machine_load()}")
    attacker = engine_run(table, args.workdir / f"attacker-{args.rows}", 0)
    # The server's run before: the demo's options with seed 0, i.e. the attacker's own run (the
    # engine is deterministic: `python -m clustering_engine verify` checks it); --rerun-before
    # runs it again to show the labels are identical.
    before = (engine_run(table, args.workdir / f"server-before-{args.rows}", 0)
              if args.rerun_before else attacker)
    secret = args.secret_seed if args.secret_seed is not None else fresh_seed()
    after = engine_run(table, args.workdir / f"server-after-{args.rows}", secret)

    rows = []
    for name, server in (("before (server seed 0)", before), ("after (fresh secret seed)", after)):
        result = attack_rerun(server, attacker, args.trials)
        rows.append({"server run": name, "clusters": result["clusters"],
                     "mapped to solution": f"{result['exact']:.1f}",
                     "mapped to method": f"{result['method']:.1f}",
                     "labels identical to attacker's": result["identical_labels"]})
    print_table(rows, list(rows[0]), f"(a) rerunning the engine: round = every method at "
                                     f"K={ROUND_K}, {POSTS_PER_SAMPLE} posts per sample, mean "
                                     f"of {args.trials} draws")

    rows = []
    for name, without_rule in (("before (items may repeat)", True),
                               ("after (items seen nowhere else)", False)):
        total = {"tasks": 0, "hits": 0, "signal": 0, "clusters": 0}
        for seed in range(args.rounds):
            validation_round, coder = make_round(after, table, without_rule, seed)
            result = attack_coappearance(validation_round, coder, seed)
            for key in ("tasks", "hits", "signal"):
                total[key] += result[key]
            total["clusters"] += validation_round.samples.count()
        low, high = clopper_pearson(total["hits"], total["tasks"])
        rows.append({"plan": name, "tasks": total["tasks"],
                     "tasks with a signal": total["signal"], "found": total["hits"],
                     "hit rate": f"{total['hits'] / total['tasks']:.3f}",
                     "95 % CI": f"[{low:.3f}, {high:.3f}]", "chance": f"{result['chance']:.3f}",
                     "consistency clusters": total["clusters"]})
    print_table(rows, list(rows[0]), f"(b) co-appearance attack on intrusion tasks (text, image, "
                                     f"joint; k = 5 + 1), {args.rounds} rounds (seeds 0..)")


if __name__ == "__main__":
    main()
