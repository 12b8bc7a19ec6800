"""K-Means fitted on a sample (the engine's ``--kmeans-fit-sample``) against a full fit, on the
hard generator: time, agreement with the full fit (ARI), with the true joint topics, and the
within-cluster sum of squares over every point relative to the full fit's (1.000 = as good).
A second full fit with another seed is the yardstick: K-Means on overlapping topics moves
with its seed, so a sampled fit is as good as a full one when it agrees with the full fit
about as well as another seed does.

The vector-level space (L2-normalised text+image) is reduced once to 50 dims with PCA (the
clustering is what is measured here; bench_reduction_quality.py measures the reductions), its
distinct points clustered with their multiplicity weights as the engine does.

    python benchmarks/bench_kmeans_sample.py [--n 100000] [--samples 10000,20000,50000]
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
from clustering_engine.cluster import ClusterConfig  # noqa: E402
from clustering_engine.distinct import cluster_distinct  # noqa: E402
from clustering_engine.methods import vector_level_space  # noqa: E402
from clustering_engine.reduce import ReductionConfig, reduce  # noqa: E402


def within_ss(X: np.ndarray, labels: np.ndarray) -> float:
    total = 0.0
    for c in np.unique(labels):
        members = X[labels == c]
        total += float(((members - members.mean(axis=0)) ** 2).sum())
    return total


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--ks", default="16,49,100")
    parser.add_argument("--samples", default="10000,20000,50000")
    parser.add_argument("--n-init", type=int, default=1)
    args = parser.parse_args(argv)
    data = hard_pairs(n=args.n)
    topical = data.truth >= 0
    X = reduce(vector_level_space(data.text, data.image),
               ReductionConfig(method="pca", n_components=50)).vectors
    del data.text, data.image
    rows = []
    for k in (int(x) for x in args.ks.split(",")):
        full, full_ss = None, None
        runs = [(None, 0), (None, 1)] + [(int(x), 0) for x in args.samples.split(",") if x]
        for size, seed in runs:
            config = ClusterConfig("kmeans", n_init=args.n_init, fit_sample=size, seed=seed)
            step = (f"K={k}, " + ("full fit" if size is None else f"fit on {size:,}")
                    + (f", seed {seed}" if seed else ""))
            with measured({"step": step}) as row:
                labels = cluster_distinct(X, config, k).labels
            ss = within_ss(X, labels)
            if full is None:
                full, full_ss = labels, ss
            row.update(ari_vs_full_fit=adjusted_rand_score(full, labels),
                       ari_vs_truth=adjusted_rand_score(data.truth[topical], labels[topical]),
                       within_ss_vs_full=ss / full_ss)
            rows.append(row)
            print(f"  {step}: {row['seconds']:.1f} s", flush=True)
    print_table(rows, ["step", "seconds", "peak_rss_gib", "ari_vs_full_fit", "ari_vs_truth",
                       "within_ss_vs_full"],
                title=f"K-Means on a sample at {args.n:,} pairs (hard data, vector-level space, "
                      f"PCA 50, n_init={args.n_init}); {machine_load()} at the end")


if __name__ == "__main__":
    main()
