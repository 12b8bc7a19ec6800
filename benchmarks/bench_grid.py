"""Reduction + clustering grid + metrics at the paper's scale on synthetic embeddings.

336,921 pairs x (512 text + 512 image) dims, plus a 1,024-dim joint vector. By default the
hard generator (benchmarks/hard_data.py: nearly independent modalities, a long tail, 30% exact
duplicates, near-duplicates, noise); ``--data easy`` is the older, well-separated one. Runs the
grid (methods x 8 K x K-Means, plus plain HDBSCAN per method unless ``--algorithms kmeans``)
through the engine's own ``run_grid``, then HDBSCAN flat-K at each method's chosen K and the
stability diagnostic (``--stability-seeds``, the engine's default 5), and prints one table with
time and peak memory per step.

    python benchmarks/bench_grid.py --pca-first 64 --hdbscan-fit-sample 20000 \
        --kmeans-fit-sample 50000 --umap-out-of-sample interpolate   # paper scale, levers
    python benchmarks/bench_grid.py --pca-first 64 --hdbscan-fit-sample 20000 --hdbscan-dims 5 \
        --kmeans-fit-sample 50000 --umap-out-of-sample interpolate --reduce-workers 2
    python benchmarks/bench_grid.py --pca-first 64 --hdbscan-fit-sample 20000   # full K-Means
    python benchmarks/bench_grid.py --pca-first 64                 # HDBSCAN fitted on every point
    python benchmarks/bench_grid.py --pca-first 64 --hdbscan-backend fast_hdbscan
    python benchmarks/bench_grid.py --n 50000 --reduction pca --algorithms kmeans
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from benchmarks.hard_data import hard_pairs  # noqa: E402
from benchmarks.measure import StagePeaks, machine_load, measured, print_table  # noqa: E402
from clustering_engine import metrics  # noqa: E402
from clustering_engine.distinct import cluster_distinct  # noqa: E402
from clustering_engine.grid import GridConfig, run_grid  # noqa: E402
from clustering_engine.stability import DEFAULT_STABILITY_SEEDS, stability_diagnostic  # noqa: E402
from clustering_engine.methods import split_k, vector_level_space  # noqa: E402
from clustering_engine.reduce import ReductionConfig, reduce  # noqa: E402
from clustering_engine.spec import chosen_solutions  # noqa: E402

PAPER_PAIRS = 336_921


def synthetic_pairs(n: int, dim: int = 512, text_topics: int = 30, image_topics: int = 20,
                    seed: int = 0):
    """Text and image vectors around topic centres; a pair's image topic follows its text
    topic only 40% of the time (complementary modalities). Joint = a noisy mix of both.
    Returns text, image, joint and each pair's true joint topic."""
    rng = np.random.default_rng(seed)
    t_topic = rng.integers(0, text_topics, n)
    aligned = rng.random(n) < 0.4
    i_topic = np.where(aligned, t_topic % image_topics, rng.integers(0, image_topics, n))
    t_centres = rng.standard_normal((text_topics, dim), dtype=np.float32)
    i_centres = rng.standard_normal((image_topics, dim), dtype=np.float32)
    # float32 noise, added in place: the synthesis itself should not dominate peak memory.
    text = rng.standard_normal((n, dim), dtype=np.float32)
    text *= 0.8
    text += t_centres[t_topic]
    image = rng.standard_normal((n, dim), dtype=np.float32)
    image *= 0.8
    image += i_centres[i_topic]
    mix = rng.standard_normal((2 * dim, 2 * dim), dtype=np.float32) / np.float32(np.sqrt(2 * dim))
    joint = vector_level_space(text, image) @ mix
    return text, image, joint, t_topic * image_topics + i_topic


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=PAPER_PAIRS)
    parser.add_argument("--reduction", default="umap", choices=("umap", "pca", "none"))
    parser.add_argument("--fit-sample", type=int, default=20_000)
    parser.add_argument("--pca-first", type=int, default=None)
    parser.add_argument("--umap-out-of-sample", default="transform",
                        choices=("transform", "interpolate"))
    parser.add_argument("--ks", default="9,16,25,36,49,64,81,100")
    parser.add_argument("--data", choices=("hard", "easy"), default="hard")
    parser.add_argument("--algorithms", default="kmeans,hdbscan")
    parser.add_argument("--hdbscan-backend", default="hdbscan", choices=("hdbscan", "fast_hdbscan"))
    parser.add_argument("--min-cluster-size", type=int, default=None,
                        help="HDBSCAN (default: the engine's, max(5, n // 200))")
    parser.add_argument("--hdbscan-fit-sample", type=int, default=None,
                        help="fit HDBSCAN on this many sampled points, assign the rest")
    parser.add_argument("--hdbscan-dims", type=int, default=None,
                        help="HDBSCAN on each space's first N principal components")
    parser.add_argument("--kmeans-fit-sample", type=int, default=None,
                        help="fit K-Means on this many sampled points, nearest centre for the rest")
    parser.add_argument("--stability-seeds", type=int, default=DEFAULT_STABILITY_SEEDS)
    parser.add_argument("--skip-one-space", action="store_true",
                        help="skip the separate one-space reduction row")
    args = parser.parse_args()
    ks = tuple(int(k) for k in args.ks.split(","))
    rows = []

    def add(row):   # printed as it comes: a long run stopped early still says where time went
        rows.append(row)
        print(f"  {row['step']}: {row.get('seconds', 0):.1f} s"
              + (f", peak {row['peak_rss_gib']:.2f} GiB" if row.get("peak_rss_gib") else ""),
              flush=True)

    with measured({"step": f"synthesise {args.n} pairs"}) as row:
        if args.data == "hard":
            data = hard_pairs(n=args.n)
            text, image, joint = data.text, data.image, data.joint
            del data
        else:
            text, image, joint, _ = synthetic_pairs(args.n)
    add(row)

    reduction = ReductionConfig(method=args.reduction, n_components=50,
                                fit_sample=args.fit_sample if args.reduction == "umap" else None,
                                pca_first=args.pca_first if args.reduction == "umap" else None,
                                out_of_sample=args.umap_out_of_sample)
    if args.reduction == "umap":
        # numba compiles UMAP's and pynndescent's functions on their first call in a process
        # (a long-lived worker pays it once): timed apart, so the first space's row is its own
        with measured({"step": "numba compilation: a tiny UMAP fit and placement"}) as row:
            reduce(np.random.default_rng(0).standard_normal((3000, 64)).astype(np.float32),
                   dataclasses.replace(reduction, fit_sample=1500, pca_first=None))
        add(row)
    if not args.skip_one_space:   # one space reduced on its own, to show the per-space cost
        with measured({"step": f"reduce one space (vector, {reduction.key()})"}) as row:
            reduce(vector_level_space(text, image), reduction)
        add(row)

    stages = {}

    started = time.perf_counter()

    stage_peaks = StagePeaks()

    def progress(stage, fraction):   # each reduction, each method's first clustering, metrics
        key = stage.split()[0] + (stage.split()[1].split("-")[0] if " " in stage else "")
        stage_peaks.stage = key
        if key not in stages:
            stages[key] = fraction
            print(f"  [{time.perf_counter() - started:7.1f} s] {stage}", flush=True)

    algorithms = tuple(args.algorithms.split(","))
    # label, vector and joint (the synthetic joint vector); the cca method needs its own space
    config = GridConfig(methods=("label", "vector", "joint"), ks=ks, algorithms=algorithms,
                        reduction=reduction,
                        ami_permutations=20, kmeans_n_init=1,
                        hdbscan_backend=args.hdbscan_backend,
                        hdbscan_min_cluster_size=args.min_cluster_size,
                        hdbscan_fit_sample=args.hdbscan_fit_sample,
                        hdbscan_density_dims=args.hdbscan_dims,
                        kmeans_fit_sample=args.kmeans_fit_sample)
    with measured({"step": f"full grid: {len(ks)} K x {'+'.join(algorithms)} + metrics"}) as row:
        result = run_grid(text, image, joint, config, progress)
    add(row)
    for name, seconds in result.timings.items():
        add({"step": f"  of which {name}", "seconds": seconds})
    for stage, peak in stage_peaks.close().items():
        add({"step": f"  peak during {stage}", "peak_rss_gib": peak})
    if "hdbscan" in algorithms:
        flat = config.cluster_config("hdbscan_flat")
        with measured({"step": "HDBSCAN flat-K at each method's chosen K"}) as row:
            for method, sid in chosen_solutions(result.k_selection).items():
                k = next(s.k for s in result.solutions if s.id == sid)
                # label-level: flat-K on text at K_t and on image at K_i, as its K-Means parts
                jobs = (zip(("text", "image"), split_k(k)) if method == "label"
                        else [(method, k)])
                for space, kk in jobs:
                    if kk >= 2:
                        cluster_distinct(result.spaces[space], flat, kk)
        add(row)
    if args.stability_seeds:
        with measured({"step": f"stability: {args.stability_seeds} further K-Means seeds"}) as row:
            stability_diagnostic(result, config, args.stability_seeds)
        add(row)

    X = result.spaces["vector"]
    labels = next(s.labels for s in result.solutions if s.method == "vector" and s.k == max(ks))
    with measured({"step": f"s_dbw once ({args.n} x 50, K={max(ks)})"}) as row:
        metrics.s_dbw(X, labels)
    add(row)

    print_table(rows, ["step", "seconds", "peak_rss_gib", "delta_rss_gib"],
                title=f"Grid at {args.n} pairs ({args.data} data); reduction {reduction.key()}; "
                      f"HDBSCAN backend {args.hdbscan_backend}; {machine_load()} at the end")
    print("chosen K:", {k: v.get("chosen_k") for k, v in result.k_selection.items()})


if __name__ == "__main__":
    main()
