"""Same input table + config + seed + machine -> same labels and numbers.

What could make two runs differ, and what pins it:
- embeddings: fixed-shape model calls (embed.py), so the cache's history does not matter;
- repeated vectors: reduced and clustered once (distinct.py);
- thread counts: BLAS and OpenMP (scikit-learn's K-Means) may sum in a different order with a
  different number of threads, so the grid runs under a fixed count (threadpoolctl; numba too);
- UMAP: `random_state` = the seed, which makes UMAP (and its nearest-neighbour search)
  single-threaded and seeded; K-Means: `random_state` = the seed; HDBSCAN: no randomness,
  core distances computed in one job.
`pinned_threads` returns what it set, for the manifest.
"""
from __future__ import annotations

import contextlib
import os

DEFAULT_MAX_THREADS = 4
LIBRARY_SEEDS = {
    "umap": "random_state = seed (UMAP then runs single-threaded and seeded)",
    "kmeans": "random_state = seed, n_init as configured",
    "hdbscan": "deterministic algorithm; core distances in one job",
    "representatives": "seeded sampling",
}


def default_threads() -> int:
    """A fixed thread count per machine: min(4, CPUs), so the CLI and the platform agree."""
    return max(1, min(DEFAULT_MAX_THREADS, os.cpu_count() or 1))


@contextlib.contextmanager
def pinned_threads(threads: int | None = None):
    """Run the block with BLAS, OpenMP and numba limited to ``threads`` (None: the default)."""
    from threadpoolctl import threadpool_limits

    n = int(threads or default_threads())
    record = {"threads": n, "pinned": ["blas", "openmp"], "seeds": LIBRARY_SEEDS}
    numba_before = None
    try:
        import numba

        numba_before = numba.get_num_threads()
        numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
        record["pinned"].append("numba")
    except ImportError:
        pass
    try:
        with threadpool_limits(limits=n, user_api="blas"), \
                threadpool_limits(limits=n, user_api="openmp"):
            yield record
    finally:
        if numba_before is not None:
            import numba

            numba.set_num_threads(numba_before)


def determinism_record(threads: int | None = None) -> dict:
    """What `pinned_threads` pins, for the manifest (without entering it)."""
    return {"threads": int(threads or default_threads()), "pinned": ["blas", "openmp", "numba"],
            "seeds": LIBRARY_SEEDS,
            "embeddings": "fixed-shape model calls: see models.*.precision"}


def pinned_call(threads: int | None, fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` under `pinned_threads(threads)`."""
    with pinned_threads(threads):
        return fn(*args, **kwargs)
