"""Plain HDBSCAN, and the levers that make it affordable at scale, with quality beside speed.

On the hard generator (benchmarks/hard_data.py), the vector-level space (L2-normalised
text+image) is reduced once to 50 dims and once to 5 dims (BERTopic clusters in a 5-dim UMAP
space), by ``--reduction`` (PCA by default: the reduction's own cost is measured by
bench_grid.py and bench_reduction_quality.py; ``umap`` fits on ``--fit-sample`` pairs). Then
HDBSCAN runs through the engine (``clustering_engine.cluster``) with each backend: the reference
``hdbscan`` library and ``fast_hdbscan`` (numba). min_cluster_size is the engine's default,
max(5, n // 200).

``--fit-samples`` adds the reference library fitted on a sample of that many points, the rest
assigned by ``approximate_predict`` (the engine's ``--hdbscan-fit-sample``). ``--density-dims D``
adds the 50-dim space seen by HDBSCAN through its first D principal components (the engine's
``--hdbscan-dims``: the space stays the 50-dim one for every metric).

Quality columns: ARI against the true joint topics (topic rows only; HDBSCAN's noise counts as
one more group), ARI against the reference (hdbscan library, 50 dims), ARI against the full fit
of the reference library in the same space, clusters found and the share of pairs left as noise.

    python benchmarks/bench_hdbscan_levers.py [--n 50000] [--reduction pca|umap]
    python benchmarks/bench_hdbscan_levers.py --n 30000 --backends hdbscan --fit-samples 5000,10000
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np
from sklearn.metrics import adjusted_rand_score

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from benchmarks.hard_data import hard_pairs  # noqa: E402
from benchmarks.measure import machine_load, measured, print_table  # noqa: E402
from clustering_engine.cluster import ClusterConfig, cluster  # noqa: E402
from clustering_engine.methods import vector_level_space  # noqa: E402
from clustering_engine.reduce import ReductionConfig, reduce  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--reduction", choices=("pca", "umap"), default="pca")
    parser.add_argument("--fit-sample", type=int, default=10_000)
    parser.add_argument("--backends", default="hdbscan,fast_hdbscan")
    parser.add_argument("--fit-samples", default="",
                        help="comma-separated HDBSCAN fit samples to measure (reference library)")
    parser.add_argument("--density-dims", type=int, default=None,
                        help="also HDBSCAN on the 50-dim space's first D principal components")
    args = parser.parse_args(argv)
    data = hard_pairs(n=args.n)
    topical = data.truth >= 0
    X = vector_level_space(data.text, data.image)
    spaces, rows = {}, []
    for dims in (50, 5):
        config = ReductionConfig(method=args.reduction, n_components=dims,
                                 fit_sample=args.fit_sample if args.reduction == "umap" else None)
        with measured({"step": f"reduce to {dims} dims ({config.key()})"}) as row:
            spaces[dims] = reduce(X, config).vectors
        rows.append(row)
    del X
    if "fast_hdbscan" in args.backends:
        # numba compiles on the first call in a process: timed once, apart from the runs
        with measured({"step": "fast_hdbscan: numba compilation (once per process)"}) as row:
            cluster(np.random.default_rng(0).standard_normal((500, 5)).astype(np.float32),
                    ClusterConfig("hdbscan", min_cluster_size=10, hdbscan_backend="fast_hdbscan"))
        rows.append(row)
    reference, full_fit = None, {}
    samples = [int(x) for x in args.fit_samples.split(",") if x]
    mcs = max(5, args.n // 200)   # the full fit's default, so every row uses the same density
    views = [(50, None, "50 dims"), (5, None, "5 dims")]
    if args.density_dims:
        views.append((50, args.density_dims, f"50 dims seen through {args.density_dims} PCs"))
    for dims, density_dims, view in views:
        runs = [(backend, None) for backend in args.backends.split(",")]
        runs += [("hdbscan", size) for size in samples]
        for backend, size in runs:
            if density_dims and backend != "hdbscan":
                continue
            name = f"HDBSCAN {backend}, {view}" + (f", fit on {size:,}" if size else "")
            with measured({"step": name}) as row:
                labels = cluster(spaces[dims], ClusterConfig(
                    "hdbscan", hdbscan_backend=backend, min_cluster_size=mcs,
                    fit_sample=size, density_dims=density_dims)).labels
            if reference is None:
                reference = labels
            if backend == "hdbscan" and size is None:
                full_fit[view] = labels
            same_space = full_fit.get(view)
            row.update(ari_vs_truth=adjusted_rand_score(data.truth[topical], labels[topical]),
                       ari_vs_reference=adjusted_rand_score(reference, labels),
                       ari_vs_full_fit=(adjusted_rand_score(same_space, labels)
                                        if same_space is not None else None),
                       clusters=int(len(np.unique(labels[labels >= 0]))),
                       noise_share=float((labels < 0).mean()))
            rows.append(row)
            print(f"  {row['step']}: {row['seconds']:.0f} s, ARI vs truth {row['ari_vs_truth']:.3f}",
                  flush=True)
    print_table(rows, ["step", "seconds", "peak_rss_gib", "ari_vs_truth", "ari_vs_reference",
                       "ari_vs_full_fit", "clusters", "noise_share"],
                title=f"HDBSCAN levers at {args.n:,} pairs (hard data, vector-level space, "
                      f"{len(np.unique(data.truth[topical]))} true joint topics); "
                      f"{machine_load()} at the end")


if __name__ == "__main__":
    main()
