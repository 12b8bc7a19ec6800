"""Identical inputs, identical treatment: every space is reduced and clustered over its distinct
vectors, and the result is mapped back to the rows.

Social media data repeat themselves: retweets share a text, many posts share one image, and some
pairs occur many times. Fed row by row, identical vectors become separate UMAP points whose
layout depends on their order and count, so rows with the same image could end in different
image clusters. Here a space's distinct vectors (exact bytes: same text vector, same image
vector, same pair) are reduced once and clustered once; every row takes its vector's label.

Multiplicity:
- K-Means minimises the within-cluster sum of squares over rows, so each distinct point gets
  `sample_weight` = its number of rows: the same objective as clustering every row.
- HDBSCAN (our decision) clusters the distinct points, each counted once: density then means
  distinct posts, not repeats, so a single image shared by 500 retweets does not make a dense
  cluster on its own and `min_cluster_size` (default max(5, distinct points / 200)) counts
  distinct points. Its labels are mapped back to every row like K-Means'.
- Metrics (S_Dbw, AMI, data loss) are computed over rows, as before.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from .cluster import ClusterConfig, Clustering, cluster
from .reduce import Reduction, ReductionConfig, reduce

# Fewer distinct points than this cannot be laid out by UMAP or PCA: they are kept as they are.
MIN_POINTS_TO_REDUCE = 4
HDBSCAN_MULTIPLICITY = ("distinct points, each counted once (density ignores repeats); "
                        "labels mapped back to every row")
KMEANS_MULTIPLICITY = "distinct points weighted by their number of rows (sample_weight)"


@dataclasses.dataclass(frozen=True)
class DistinctRows:
    """Rows grouped by identical vectors, numbered by first appearance."""
    index: np.ndarray    # (n_rows,) row -> its distinct vector
    first: np.ndarray    # (n_distinct,) first row holding each distinct vector, ascending
    counts: np.ndarray   # (n_distinct,) rows per distinct vector

    @property
    def n_rows(self) -> int:
        return int(len(self.index))

    @property
    def n_distinct(self) -> int:
        return int(len(self.first))


# Rows wider than this are grouped by a digest of their bytes first: sorting the rows
# themselves copies the whole array (plus a merge buffer of half of it), which at paper scale
# was the grid's memory peak.
DIGEST_ABOVE_BYTES = 64
CHECK_CHUNK_ROWS = 16_384


def distinct_rows(X: np.ndarray) -> DistinctRows:
    """Group the rows of ``X`` (n, d) by exact equality of their bytes."""
    X = np.ascontiguousarray(X)
    if X.ndim != 2 or len(X) == 0:
        n = len(X)
        return DistinctRows(np.arange(n), np.arange(n), np.ones(n, dtype=np.int64))
    width = X.dtype.itemsize * X.shape[1]
    if width > DIGEST_ABOVE_BYTES:
        grouped = _group_by_digest(X)
        if grouped is not None:
            return grouped
    keys = X.view(np.dtype((np.void, width))).ravel()
    return _numbered_by_first_row(*np.unique(keys, return_index=True, return_inverse=True,
                                             return_counts=True)[1:])


def _numbered_by_first_row(first, inverse, counts) -> DistinctRows:
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return DistinctRows(rank[np.ravel(inverse)], first[order], counts[order])


def _group_by_digest(X: np.ndarray) -> DistinctRows | None:
    """Groups by a 128-bit BLAKE2 digest of each row, then checks every row's bytes against its
    group's first row; None if two different rows ever shared a digest (the caller then sorts
    the rows themselves), so the grouping is exact either way."""
    import hashlib

    rows = X.view(np.uint8).reshape(len(X), -1)
    digests = np.frombuffer(b"".join(hashlib.blake2b(row, digest_size=16).digest()
                                     for row in rows), dtype=np.dtype((np.void, 16)))
    _, first, inverse, counts = np.unique(digests, return_index=True, return_inverse=True,
                                          return_counts=True)
    inverse = np.ravel(inverse)
    for start in range(0, len(X), CHECK_CHUNK_ROWS):
        part = slice(start, start + CHECK_CHUNK_ROWS)
        if not np.array_equal(rows[part], rows[first[inverse[part]]]):
            return None
    return _numbered_by_first_row(first, inverse, counts)


class DistinctBySpace(dict):
    """``distinct_rows`` of each named space, computed once on first use: a grid clusters one
    space dozens of times (K values, stability seeds), and grouping 300,000 rows by their bytes
    costs about a second each time."""

    def __init__(self, spaces: dict[str, np.ndarray]):
        super().__init__()
        self._spaces = spaces

    def __missing__(self, name: str) -> DistinctRows:
        self[name] = distinct_rows(self._spaces[name])
        return self[name]


def cluster_distinct(X: np.ndarray, config: ClusterConfig, k: int | None = None,
                     rows: DistinctRows | None = None) -> Clustering:
    """`cluster.cluster` over the distinct points of ``X`` (K-Means weighted by multiplicity);
    every row gets its point's label, so identical rows always share a label. ``rows``: the
    grouping of ``X``'s rows when already known."""
    rows = distinct_rows(X) if rows is None else rows
    n = rows.n_distinct
    note = ""
    if k is not None and k > n:
        note = f"only {n} distinct point(s) for K={k}: clustered with K={n}"
        k = n
    if (k is not None and k < 2) or n < 2:
        return Clustering(np.zeros(rows.n_rows, dtype=np.int32), 0.0, dict(config.params()),
                          note or f"{n} distinct point(s): one cluster")
    weight = rows.counts.astype(np.float64) if config.algorithm == "kmeans" else None
    try:
        result = cluster(np.ascontiguousarray(X[rows.first]), config, k, sample_weight=weight)
    except IndexError:
        if config.algorithm != "hdbscan_flat":
            raise
        # hdbscan.flat fails when the tree of a few distinct points never splits
        return Clustering(np.zeros(rows.n_rows, dtype=np.int32), 0.0, dict(config.params()),
                          f"HDBSCAN found no split among {n} distinct points: one cluster")
    result.labels = result.labels[rows.index]
    result.params["multiplicity"] = (KMEANS_MULTIPLICITY if weight is not None
                                     else HDBSCAN_MULTIPLICITY)
    result.params["n_distinct"] = n
    result.note = "; ".join(x for x in (note, result.note) if x)
    return result


def reduce_distinct(X: np.ndarray, config: ReductionConfig) -> Reduction:
    """`reduce.reduce` applied to each distinct row of ``X`` once; the result has one row per
    row of ``X`` (identical rows share one point) and records the distinct count."""
    X = np.ascontiguousarray(X, dtype=np.float32)
    rows = distinct_rows(X)
    points = np.ascontiguousarray(X[rows.first])
    if rows.n_distinct < MIN_POINTS_TO_REDUCE and config.method != "none":
        reduction = reduce(points, dataclasses.replace(config, method="none", pca_first=None))
        reduction.effective["method"] = f"none ({rows.n_distinct} distinct points)"
    else:
        reduction = reduce(points, config, overwrite_input=True)   # points: our own copy
    reduction.vectors = np.ascontiguousarray(reduction.vectors[rows.index])
    reduction.effective.update(n_rows=rows.n_rows, n_distinct=rows.n_distinct)
    return reduction


def distinct_counts(text: np.ndarray, image: np.ndarray, joint: np.ndarray | None = None) -> dict:
    """Rows and distinct vectors per modality (a pair = its text and image vectors together)."""
    text_rows, image_rows = distinct_rows(text), distinct_rows(image)
    pair_rows = distinct_rows(np.stack([text_rows.index, image_rows.index], axis=1))
    out = {"rows": text_rows.n_rows, "text": text_rows.n_distinct,
           "image": image_rows.n_distinct, "pair": pair_rows.n_distinct}
    if joint is not None:
        out["joint"] = distinct_rows(joint).n_distinct
    return out
