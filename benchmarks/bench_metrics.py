"""Speed and memory of clustering_engine.metrics.s_dbw; speed-up over the `s_dbw` package.

Usage: python benchmarks/bench_metrics.py [--n 336921] [--dim 50] [--k 100] [--repeats 3]
                                          [--package-sizes 2000 5000 10000] [--package-k 10 25]
                                          [--json PATH]

Prints a table: median wall and CPU time (all threads) of ``--repeats`` runs, peak traced
memory (tracemalloc, a separate run, numpy buffers included) and the process's peak RSS.
The load average is printed too: on a shared machine wall time depends on it. The package comparison
uses the ``halkidi_package`` variant, which returns the package's exact number.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from clustering_engine.metrics import s_dbw  # noqa: E402


def synthetic(n: int, dim: int, k: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian blobs in float32 (like UMAP output): centres N(0, 4^2), unit noise."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=4.0, size=(k, dim)).astype(np.float32)
    labels = rng.integers(0, k, n)
    X = centres[labels] + rng.normal(size=(n, dim)).astype(np.float32)
    return X, labels


def timed(fn, repeats: int, with_cpu: bool = False):
    """Median wall seconds (and median process CPU seconds, all threads) and the result."""
    walls, cpus, result = [], [], None
    for _ in range(repeats):
        cpu, wall = time.process_time(), time.perf_counter()
        result = fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    if with_cpu:
        return statistics.median(walls), statistics.median(cpus), result
    return statistics.median(walls), result


def peak_traced_mib(fn) -> float:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=336_921)
    parser.add_argument("--dim", type=int, default=50)
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--package-sizes", type=int, nargs="*", default=[2000, 5000, 10000])
    parser.add_argument("--package-k", type=int, nargs="*", default=[10, 25])
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)

    rows = []
    X, labels = synthetic(args.n, args.dim, args.k)
    data_mib = X.nbytes / 2**20
    for variant in ("paper", "halkidi_package"):
        seconds, cpu_seconds, (value, diag) = timed(
            lambda: s_dbw(X, labels, variant=variant, return_diagnostics=True), args.repeats,
            with_cpu=True)
        peak = peak_traced_mib(lambda: s_dbw(X, labels, variant=variant))
        rows.append({"case": f"s_dbw {variant}", "n": args.n, "dim": args.dim, "k": args.k,
                     "seconds": seconds, "cpu_seconds": cpu_seconds,
                     "peak_traced_mib": peak, "value": value,
                     "zero_density_pairs": diag["n_zero_density_pairs"]})

    comparisons = []
    try:
        from s_dbw import S_Dbw
    except ImportError:
        S_Dbw = None
    cases = [(size, k) for k in args.package_k for size in args.package_sizes]
    for size, k in cases if S_Dbw else []:
        Xs, ls = synthetic(size, args.dim, k, seed=1)
        Xs = Xs.astype(np.float64)   # the package computes in the input dtype
        ours, value = timed(lambda: s_dbw(Xs, ls, variant="halkidi_package"), args.repeats)
        theirs, reference = timed(lambda: S_Dbw(Xs, ls, method="Halkidi", alg_noise="filter",
                                                centr="mean", nearest_centr=True,
                                                metric="euclidean"), 1)
        paper, _ = timed(lambda: s_dbw(Xs, ls), args.repeats)
        comparisons.append({"n": size, "dim": args.dim, "k": k,
                            "package_seconds": theirs, "ours_seconds": ours,
                            "paper_seconds": paper, "speedup": theirs / ours,
                            "abs_difference": abs(value - reference)})

    threads = os.environ.get("OMP_NUM_THREADS") or os.environ.get("OPENBLAS_NUM_THREADS")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"s_dbw on synthetic blobs (float32 input {data_mib:.0f} MiB), median of "
          f"{args.repeats}; cores: {os.cpu_count()}, load average at the end: {load:.1f}, "
          f"BLAS threads env: {threads or 'default'}")
    print(f"{'case':<24}{'n':>9}{'dim':>5}{'K':>5}{'wall s':>9}{'CPU s':>8}{'peak MiB':>10}"
          f"{'S_Dbw':>10}{'zero-dens pairs':>17}")
    for r in rows:
        print(f"{r['case']:<24}{r['n']:>9,}{r['dim']:>5}{r['k']:>5}{r['seconds']:>9.3f}"
              f"{r['cpu_seconds']:>8.3f}{r['peak_traced_mib']:>10.1f}{r['value']:>10.4f}"
              f"{r['zero_density_pairs']:>17}")
    if comparisons:
        print("\nspeed-up over the s_dbw package (method='Halkidi', alg_noise='filter'; "
              "package run once)")
        print(f"{'n':>7}{'dim':>5}{'K':>4}{'package s':>11}{'ours s':>9}{'speed-up':>10}"
              f"{'|diff|':>10}{'paper variant s':>17}")
        for c in comparisons:
            print(f"{c['n']:>7,}{c['dim']:>5}{c['k']:>4}{c['package_seconds']:>11.2f}"
                  f"{c['ours_seconds']:>9.4f}{c['speedup']:>9.0f}x{c['abs_difference']:>10.1e}"
                  f"{c['paper_seconds']:>17.4f}")
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nprocess peak RSS: {peak_rss:.0f} MiB (includes the data and the package runs)")
    result = {"s_dbw": rows, "package_comparison": comparisons, "peak_rss_mib": peak_rss}
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
