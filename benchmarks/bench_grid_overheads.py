"""Two costs of the grid at paper scale, before and after their fixes: placing new points at the
membership-weighted mean of their UMAP neighbours (umap's own ``init_graph_transform``, a Python
loop over rows, against ``reduce.weighted_mean_of_neighbours``), and grouping a space's rows by
their bytes (``distinct_rows``, which the grid now does once per space instead of per call).

    python benchmarks/bench_grid_overheads.py [--new 50000] [--rows 336921]
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from benchmarks.measure import machine_load, measured, print_table  # noqa: E402
from clustering_engine.distinct import distinct_rows  # noqa: E402
from clustering_engine.reduce import weighted_mean_of_neighbours  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--new", type=int, default=50_000, help="points to place")
    parser.add_argument("--fitted", type=int, default=20_000)
    parser.add_argument("--rows", type=int, default=336_921, help="rows to group")
    args = parser.parse_args(argv)
    import scipy.sparse
    from umap.umap_ import init_graph_transform

    rng = np.random.default_rng(0)
    neighbours = 15
    graph = scipy.sparse.csr_matrix(
        (rng.random(args.new * neighbours).astype(np.float32),
         (np.repeat(np.arange(args.new), neighbours),
          rng.integers(0, args.fitted, args.new * neighbours))), shape=(args.new, args.fitted))
    embedding = rng.standard_normal((args.fitted, 50)).astype(np.float32)
    rows = []
    with measured({"step": f"umap init_graph_transform, {args.new:,} points"}) as row:
        theirs = init_graph_transform(graph, embedding)
    rows.append(row)
    with measured({"step": f"weighted_mean_of_neighbours, {args.new:,} points"}) as row:
        ours = weighted_mean_of_neighbours(graph, embedding)
    row["max_abs_difference"] = float(np.abs(theirs - ours).max())
    rows.append(row)
    X = rng.standard_normal((args.rows, 50)).astype(np.float32)
    with measured({"step": f"distinct_rows, {args.rows:,} x 50 (once per call before)"}) as row:
        distinct_rows(X)
    rows.append(row)
    print_table(rows, ["step", "seconds", "peak_rss_gib", "max_abs_difference"],
                title=f"Grid overheads; {machine_load()} at the end")


if __name__ == "__main__":
    main()
