"""Does the fast reduction path keep quality? UMAP fitted on every point vs fitted on a sample
(with and without a PCA first), at a size where the full fit is still affordable.

Quality is measured two ways on synthetic pairs with known topics (benchmarks/bench_grid.py):
the adjusted Rand index of K-Means (K = number of joint topics present) against the true
(text topic, image topic) pairs, and the agreement (ARI) of each fast path with the full fit.

    python benchmarks/bench_reduction_quality.py [--n 30000] [--fit-sample 10000]
"""
from __future__ import annotations

import argparse
import os
import sys

from sklearn.metrics import adjusted_rand_score

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from benchmarks.bench_grid import synthetic_pairs  # noqa: E402
from benchmarks.measure import measured, print_table  # noqa: E402
from clustering_engine.cluster import ClusterConfig, cluster  # noqa: E402
from clustering_engine.methods import vector_level_space  # noqa: E402
from clustering_engine.reduce import ReductionConfig, reduce  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=30_000)
    parser.add_argument("--fit-sample", type=int, default=10_000)
    parser.add_argument("--k", type=int, default=25)
    args = parser.parse_args(argv)
    text, image, _, truth = synthetic_pairs(args.n, text_topics=5, image_topics=5)
    X = vector_level_space(text, image)

    paths = {"full UMAP fit": ReductionConfig(),
             f"UMAP fit on {args.fit_sample}": ReductionConfig(fit_sample=args.fit_sample),
             f"PCA 64 + UMAP fit on {args.fit_sample}": ReductionConfig(fit_sample=args.fit_sample,
                                                                        pca_first=64),
             "PCA only": ReductionConfig(method="pca")}
    rows, labels = [], {}
    for name, config in paths.items():
        with measured({"path": name}) as row:
            reduced = reduce(X, config).vectors
        labels[name] = cluster(reduced, ClusterConfig("kmeans", n_init=3), args.k).labels
        row["ari_vs_truth"] = adjusted_rand_score(truth, labels[name])
        rows.append(row)
    for row in rows:
        row["ari_vs_full_fit"] = adjusted_rand_score(labels["full UMAP fit"], labels[row["path"]])
    print_table(rows, ["path", "seconds", "peak_rss_gib", "ari_vs_truth", "ari_vs_full_fit"],
                title=f"Reduction paths at {args.n} pairs x 1,024 dims, K-Means K={args.k}")


if __name__ == "__main__":
    main()
