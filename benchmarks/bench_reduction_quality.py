"""Does the fast reduction path keep quality? UMAP fitted on every point vs fitted on a sample
(with and without a PCA first), and PCA alone, at a size where the full fit is still affordable.

Data: the hard generator (benchmarks/hard_data.py: text and image topics nearly independent,
long-tailed topic sizes, 30% exact duplicates, near-duplicates, 5% noise) by default, or the
older, easily separated one (``--data easy``, benchmarks/bench_grid.py). The space is the
vector-level one (L2-normalised text+image concatenation), reduced to 50 dims.

Quality, two ways: the adjusted Rand index of K-Means (K = number of joint topics present)
against the true (text topic, image topic) pairs, noise rows left out; and the agreement (ARI)
of each path's clustering with the full fit's. The last column is the path's agreement with the
truth as a share of the full fit's: the README documents a fast path as a default only where
that share is at least 0.9.

    python benchmarks/bench_reduction_quality.py [--n 30000] [--fit-sample 10000] [--data hard]
    python benchmarks/bench_reduction_quality.py --paths pca-sample,pca-sample-interpolate
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np
from sklearn.metrics import adjusted_rand_score

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from benchmarks.bench_grid import synthetic_pairs  # noqa: E402
from benchmarks.hard_data import describe, hard_pairs  # noqa: E402
from benchmarks.measure import machine_load, measured, print_table  # noqa: E402
from clustering_engine.cluster import ClusterConfig, cluster  # noqa: E402
from clustering_engine.methods import vector_level_space  # noqa: E402
from clustering_engine.reduce import ReductionConfig, reduce  # noqa: E402

FULL = "full UMAP fit"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=30_000)
    parser.add_argument("--fit-sample", type=int, default=10_000)
    parser.add_argument("--data", choices=("hard", "easy"), default="hard")
    parser.add_argument("--paths", default="full,sample,pca-sample,pca-sample-interpolate,pca",
                        help="which paths to run (the ratio columns need `full`)")
    parser.add_argument("--k", type=int, default=None,
                        help="K-Means K (default: the number of joint topics present)")
    args = parser.parse_args(argv)
    if args.data == "hard":
        data = hard_pairs(n=args.n)
        text, image, truth = data.text, data.image, data.truth
        print("hard data:", {k: round(v, 3) if isinstance(v, float) else v
                             for k, v in describe(data).items()})
    else:
        text, image, _, truth = synthetic_pairs(args.n, text_topics=5, image_topics=5)
    topical = truth >= 0
    k = args.k or len(np.unique(truth[topical]))
    X = vector_level_space(text, image)

    sample = args.fit_sample
    known = {"full": (FULL, ReductionConfig()),
             "sample": (f"UMAP fit on {sample}", ReductionConfig(fit_sample=sample)),
             "pca-sample": (f"PCA 64 + UMAP fit on {sample}",
                            ReductionConfig(fit_sample=sample, pca_first=64)),
             "pca-sample-interpolate": (f"PCA 64 + UMAP fit on {sample}, rest interpolated",
                                        ReductionConfig(fit_sample=sample, pca_first=64,
                                                        out_of_sample="interpolate")),
             "pca": ("PCA only", ReductionConfig(method="pca"))}
    paths = dict(known[name] for name in args.paths.split(","))
    rows, labels = [], {}
    for name, config in paths.items():
        with measured({"path": name}) as row:
            reduced = reduce(X, config).vectors
        labels[name] = cluster(reduced, ClusterConfig("kmeans", n_init=3), k).labels
        row["ari_vs_truth"] = adjusted_rand_score(truth[topical], labels[name][topical])
        rows.append(row)
        print(f"  {name}: {row['seconds']:.0f} s, ARI vs truth {row['ari_vs_truth']:.3f}",
              flush=True)
    for row in rows:
        if FULL in labels:
            row["ari_vs_full_fit"] = adjusted_rand_score(labels[FULL], labels[row["path"]])
            full_ari = next(r["ari_vs_truth"] for r in rows if r["path"] == FULL)
            row["share_of_full_fit_truth_ari"] = row["ari_vs_truth"] / full_ari
    print_table(rows, ["path", "seconds", "peak_rss_gib", "ari_vs_truth", "ari_vs_full_fit",
                       "share_of_full_fit_truth_ari"],
                title=f"Reduction paths at {args.n:,} pairs x 1,024 dims ({args.data} data), "
                      f"K-Means K={k}; {machine_load()} at the end")


if __name__ == "__main__":
    main()
