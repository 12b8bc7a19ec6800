"""``simulate_study`` at scale: seeded coders (100 by default) code a round through the API,
then the scores and the export are read back (scoring/services/simulated_study.py). Prints the
wall time of each phase, requests per second, and the planted-vs-recovered summary.

The run: ``--run ID`` on the database ``DATABASE_URL`` names (e.g. the demo's), or by default a
finished run made here on the first 300 MediaEval pairs (two solutions: 24 clusters by row,
7 by image; c-TF-IDF terms and a seeded common space, as in tests/intrusion) in its own
PostgreSQL database.

    python benchmarks/bench_simulate_study.py [--coders 100] [--clusters-per-solution 4]
        [--calibration-clusters 2] [--database postgres://postgres@127.0.0.1:5432/diptych_bench_simulate]
    DATABASE_URL=sqlite:////path/to/var/diptych.sqlite3 python benchmarks/bench_simulate_study.py --run 1
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.databases import ensure_database, setup_django  # noqa: E402

DATA = REPO.parent / "shared" / "data" / "mediaeval2016_vmu"
N_PAIRS = 300


def synthetic_run(workdir: Path):
    """A finished run on real pairs, made directly (no engine), with a PI."""
    from django.contrib.auth import get_user_model

    from clustering_engine.describe import ctfidf_terms
    from clustering_engine.run_arrays import write_array
    from projects.models import Dataset, EngineRun, RunStatus, Solution
    from projects.services import access

    frame = pd.read_csv(DATA / "pairs.csv", dtype=str, nrows=N_PAIRS)
    pairs = pd.DataFrame({"pair_id": frame["id"], "post_id": frame["id"], "text": frame["text"],
                          "image": frame["image"], "lang": frame["lang"]})
    out = workdir / "run"
    (out / "spaces").mkdir(parents=True)
    pairs.to_parquet(out / "pairs.parquet", index=False)
    by_row = np.arange(len(pairs)) % 24
    codes = pd.factorize(pairs["image"])[0]
    by_image = np.where(codes == 0, 6, codes % 6)
    labels = {"vector-kmeans-k24": by_row, "label-kmeans-k9": by_image}
    pd.DataFrame({"pair_id": pairs["pair_id"], **{k: pd.array(v, dtype="int32")
                                                   for k, v in labels.items()}}
                 ).to_parquet(out / "labels.parquet", index=False)
    rng = np.random.default_rng(11)
    centres = rng.normal(scale=5.0, size=(24, 8))
    write_array(out / "spaces", "vector",
                (centres[by_row] + rng.normal(scale=0.2, size=(len(pairs), 8))).astype("float32"))
    clusters = {}
    for sid, values in labels.items():
        terms = ctfidf_terms(pairs["text"].tolist(), values, top_n=10, language="en")
        clusters[sid] = [{"cluster": int(c), "size": int((values == c).sum()),
                          "top_terms": [[t, w] for t, w in terms[int(c)]]}
                         for c in sorted(set(values.tolist()))]
    (out / "clusters.json").write_text(json.dumps(clusters), encoding="utf-8")
    tag = f"{os.getpid()}-{int(time.time())}"
    pi = get_user_model().objects.create_user(f"bench-sim-pi-{tag}")
    project = access.create_project(pi, f"simulated study {tag}")
    dataset = Dataset.objects.create(project=project, name="mediaeval 300", source="folder",
                                     table_path=str(DATA / "pairs.csv"), images_root=str(DATA),
                                     n_rows_read=N_PAIRS, n_pairs_valid=N_PAIRS)
    run = EngineRun.objects.create(project=project, dataset=dataset, status=RunStatus.SUCCEEDED,
                                   stage="done", progress=1.0, output_dir=str(out))
    for sid, method, space, k, n in (("vector-kmeans-k24", "vector", "vector", 24, 24),
                                     ("label-kmeans-k9", "label", "", 9, 7)):
        Solution.objects.create(run=run, solution_id=sid, method=method, algorithm="kmeans", k=k,
                                n_clusters=n, space=space)
    return run


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=int, default=None, help="an existing finished run")
    parser.add_argument("--database",
                        default="postgres://postgres@127.0.0.1:5432/diptych_bench_simulate")
    parser.add_argument("--coders", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--consistency", default="label=0.8,vector=0.6")
    parser.add_argument("--intrusion", type=float, default=0.7)
    parser.add_argument("--clusters-per-solution", type=int, default=4)
    parser.add_argument("--calibration-clusters", type=int, default=2)
    args = parser.parse_args()
    if args.run is None:
        ensure_database(args.database)
        workdir = setup_django(args.database, "bench-simulate-")
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
    else:
        workdir = setup_django(os.environ.get("DATABASE_URL", args.database), "bench-simulate-")
    os.environ.setdefault("DIPTYCH_MEDIA_ROOT", str(workdir / "media"))

    from django.db import connection

    from annotation.models import PostCode
    from projects.models import EngineRun
    from scoring.services.simulated_study import SimulatedStudy
    from scoring.services.simulation import CoderModel, parse_rates

    run = EngineRun.objects.get(pk=args.run) if args.run else synthetic_run(workdir)
    model = CoderModel(consistency=parse_rates(args.consistency), intrusion=args.intrusion)
    study = SimulatedStudy(run, model, coders=args.coders, seed=args.seed,
                           clusters_per_solution=args.clusters_per_solution,
                           calibration_clusters=args.calibration_clusters)
    result = study.run_all()
    n_codes = PostCode.objects.filter(cluster_sample__round_id=result.round_id).count()
    print(f"simulate_study: {args.coders} coders, {args.clusters_per_solution} clusters per "
          f"solution ({args.calibration_clusters} calibration clusters coded by everyone), "
          f"{connection.vendor}, run {run.pk}; {n_codes} post codes")
    print(f"{'phase':26} {'seconds':>8}")
    for phase, seconds in result.seconds.items():
        print(f"{phase:26} {seconds:>8.1f}")
    coding = result.seconds.get("code_consistency", 0.0)
    if coding:
        print(f"{'post-code PUTs per second':26} {n_codes / coding:>8.1f}")
    print()
    for step in result.steps:
        print(f"· {step}")
    c = result.consistency
    print(f"\n{'solution':22} {'pass':6} {'planted':>8} {'recovered':>9} {'95% CI':>15} covers")
    for r in c.to_dict("records"):
        low = "—" if r["ci_low"] is None else f"{r['ci_low']:.3f}"
        high = "—" if r["ci_high"] is None else f"{r['ci_high']:.3f}"
        print(f"{r['solution_id']:22} {r['pass']:6} {r['planted']:>8.3f} {r['recovered']:>9.3f} "
              f"{low:>7}–{high:<7} {r['covers']}")
    clusters = result.clusters
    if not clusters.empty:
        print(f"cluster Wilson intervals covering: {clusters['covers'].mean():.1%} of "
              f"{clusters['covers'].notna().sum()}")
    i = result.intrusion
    if not i.empty:
        print(f"intrusion per solution × kind covering: {int(i['covers'].sum())} of {len(i)}; "
              f"pooled precision {i['n_correct'].sum() / i['n_answers'].sum():.3f} "
              f"(planted {model.intrusion})")
    for what, equal, worst in result.export_checks:
        print(f"export {'equal' if equal else 'DIFFERENT'}: {what} (largest difference {worst:.1e})")


if __name__ == "__main__":
    main()
