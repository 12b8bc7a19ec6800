"""Dimension reduction before clustering: UMAP (the paper's default, to 50 dims), PCA, or none.

UMAP on hundreds of thousands of points is the slow step on a small machine. ``fit_sample``
fits the reducer on a seeded random sample and transforms the remaining points with the
fitted model (UMAP's out-of-sample ``transform``), which keeps the learned manifold and
costs a fraction of a full fit. The default (``fit_sample=None``) fits on every point.

``out_of_sample="interpolate"`` (ours) places those points by the first step of UMAP's own
transform only: the fuzzy membership-weighted mean of their fitted neighbours' positions,
skipping the transform's refinement epochs (about 3x faster; quality in docs/performance.md).
"""
from __future__ import annotations

import dataclasses
import time
import warnings

import numpy as np

from .errors import ConfigError
from .vectors import l2_normalise
from .spec import (DEFAULT_N_COMPONENTS, DEFAULT_REDUCER, DEFAULT_UMAP_OUT_OF_SAMPLE, REDUCERS,
                   UMAP_OUT_OF_SAMPLE)


@dataclasses.dataclass(frozen=True)
class ReductionConfig:
    method: str = DEFAULT_REDUCER
    n_components: int = DEFAULT_N_COMPONENTS
    n_neighbors: int = 15
    min_dist: float = 0.0
    metric: str = "cosine"
    fit_sample: int | None = None
    pca_first: int | None = None   # UMAP only: PCA to this many dims first (faster kNN)
    seed: int = 0
    out_of_sample: str = DEFAULT_UMAP_OUT_OF_SAMPLE   # UMAP with fit_sample: transform|interpolate

    def __post_init__(self):
        if self.method not in REDUCERS:
            raise ConfigError(f"reduction must be one of {REDUCERS}, got {self.method!r}")
        if self.method != "none" and self.n_components < 2:
            raise ConfigError(f"reduction n_components must be >= 2, got {self.n_components}")
        if self.out_of_sample not in UMAP_OUT_OF_SAMPLE:
            raise ConfigError(f"out_of_sample must be one of {UMAP_OUT_OF_SAMPLE}, "
                              f"got {self.out_of_sample!r}")
        if self.pca_first is not None and self.pca_first <= self.n_components:
            raise ConfigError(f"pca_first ({self.pca_first}) must exceed n_components "
                              f"({self.n_components})")

    def key(self) -> str:
        """A short string naming these parameters, for file names and manifests."""
        if self.method == "none":
            return "none"
        parts = [self.method, str(self.n_components)]
        if self.method == "umap":
            parts += [f"nn{self.n_neighbors}", f"md{self.min_dist:g}", self.metric]
        if self.method == "umap" and self.pca_first:
            parts.append(f"pca{self.pca_first}")
        if self.fit_sample:
            parts.append(f"fit{self.fit_sample}")
            if self.method == "umap" and self.out_of_sample != DEFAULT_UMAP_OUT_OF_SAMPLE:
                parts.append(self.out_of_sample)
        parts.append(f"s{self.seed}")
        return "-".join(parts)


@dataclasses.dataclass
class Reduction:
    vectors: np.ndarray
    config: ReductionConfig
    seconds: float
    effective: dict  # parameters actually used (they can shrink on tiny data sets)


def reduce(X: np.ndarray, config: ReductionConfig, *, overwrite_input: bool = False) -> Reduction:
    """Reduce ``X`` (n, d) to ``config.n_components`` dims; returns float32 vectors.
    ``overwrite_input``: the caller hands over ``X`` (a private float32 copy), so the cosine
    normalisation and the PCA before UMAP may work in it instead of in copies of their own
    (two fewer copies of the input at the peak; the same numbers)."""
    owned = overwrite_input and X.dtype == np.float32 and X.flags.c_contiguous
    X = np.ascontiguousarray(X, dtype=np.float32)
    n, d = X.shape
    started = time.perf_counter()
    effective: dict = {"method": config.method}
    if config.method == "none" or d <= config.n_components:
        # Nothing to gain from a reducer that would not reduce.
        out = X
        effective["method"] = "none" if config.method == "none" else f"{config.method} skipped (d={d})"
    elif config.method == "pca":
        out, effective = _pca(X, config)
    else:
        out, effective = _umap(X, config, owned)
    return Reduction(np.ascontiguousarray(out, dtype=np.float32), config,
                     time.perf_counter() - started, effective)


def _fit_rows(n: int, config: ReductionConfig) -> np.ndarray | None:
    if not config.fit_sample or config.fit_sample >= n:
        return None
    rng = np.random.default_rng(config.seed)
    return np.sort(rng.choice(n, size=config.fit_sample, replace=False))


def _pca(X: np.ndarray, config: ReductionConfig, owned: bool = False):
    from sklearn.decomposition import PCA

    k = min(config.n_components, X.shape[0], X.shape[1])
    pca = PCA(n_components=k, random_state=config.seed, svd_solver="auto", copy=not owned)
    rows = _fit_rows(len(X), config)
    if rows is None:
        out = pca.fit_transform(X)
    else:
        pca.fit(X[rows])
        out = pca.transform(X)
    # Identical rows (e.g. every text the same) have zero total variance: the ratio is 0/0.
    explained = float(np.nansum(pca.explained_variance_ratio_)) if np.isfinite(
        pca.explained_variance_ratio_).all() else None
    return out, {"method": "pca", "n_components": k,
                 "explained_variance": explained,
                 "fit_rows": len(X) if rows is None else len(rows)}


def _umap(X: np.ndarray, config: ReductionConfig, owned: bool = False):
    import umap

    n = len(X)
    pre, metric = None, config.metric
    if config.pca_first and config.pca_first < X.shape[1]:
        # kNN search dominates UMAP's cost and grows with the input dimension; a PCA to a
        # few dozen dims keeps the neighbourhoods (most variance) at a fraction of the cost.
        # For the cosine metric rows are L2-normalised first, so Euclidean distance after the
        # (distance-preserving on its subspace) projection ranks neighbours as cosine would.
        if metric == "cosine":
            X = l2_normalise(X, out=X if owned else None)
            metric, owned = "euclidean", True   # X is now a private copy either way
        X, pre = _pca(X, dataclasses.replace(config, method="pca", n_components=config.pca_first,
                                               pca_first=None), owned)
        X = np.ascontiguousarray(X, dtype=np.float32)
    # UMAP's spectral initialisation needs n_components < n - 1, and neighbours < n.
    n_neighbors = max(2, min(config.n_neighbors, n - 1))
    k = min(config.n_components, max(2, n - 2))
    reducer = umap.UMAP(n_components=k, n_neighbors=n_neighbors, min_dist=config.min_dist,
                        metric=metric, random_state=config.seed,
                        init="spectral" if n > k + 2 else "random", low_memory=True)
    rows = _fit_rows(n, config)
    with warnings.catch_warnings():
        # A seed makes UMAP single-threaded and it says so on every call; determinism is the point.
        warnings.filterwarnings("ignore", message="n_jobs value .* overridden")
        if rows is None:
            out = reducer.fit_transform(X)
        else:
            fitted = reducer.fit_transform(X[rows])
            rest = np.setdiff1d(np.arange(n), rows, assume_unique=True)
            out = np.empty((n, k), dtype=np.float32)
            out[rows] = fitted
            place = (reducer.transform if config.out_of_sample == "transform"
                     else lambda points: _interpolate(reducer, points))
            out[rest] = _chunked(place, X[rest], chunk=50_000)
    effective = {"method": "umap", "n_components": k, "n_neighbors": n_neighbors,
                 "min_dist": config.min_dist, "metric": metric,
                 "fit_rows": n if rows is None else len(rows), "pca_first": pre}
    if rows is not None:
        effective["out_of_sample"] = config.out_of_sample
    return out, effective


def _interpolate(reducer, points: np.ndarray) -> np.ndarray:
    """UMAP's transform up to its initialisation: the membership graph to the fitted points
    (``transform_mode="graph"``), then each point at the weighted mean of its neighbours."""
    reducer.transform_mode = "graph"
    try:
        graph = reducer.transform(points)
    finally:
        reducer.transform_mode = "embedding"
    return weighted_mean_of_neighbours(graph, reducer.embedding_)


def weighted_mean_of_neighbours(graph, embedding: np.ndarray) -> np.ndarray:
    """``umap.umap_.init_graph_transform`` as sparse algebra (that one loops in Python, row by
    row): each row of ``graph`` (new points x fitted points, membership strengths) at the
    strength-weighted mean of its neighbours' positions; a neighbour at strength 1 is the same
    point, whose position is taken as it is; a row without neighbours is NaN, as there."""
    import scipy.sparse

    graph = scipy.sparse.csr_matrix(graph)
    graph.eliminate_zeros()
    sums = np.asarray(graph.sum(axis=1)).ravel()
    scale = scipy.sparse.diags(np.divide(1.0, sums, out=np.zeros_like(sums), where=sums > 0))
    out = np.asarray(scale @ graph @ embedding.astype(np.float64), dtype=np.float32)
    rows = np.repeat(np.arange(graph.shape[0]), np.diff(graph.indptr))
    same = np.flatnonzero(graph.data == 1)
    if len(same):
        first_rows, first = np.unique(rows[same], return_index=True)
        out[first_rows] = embedding[graph.indices[same[first]]]
    out[sums == 0] = np.nan
    return out


def _chunked(fn, X: np.ndarray, chunk: int) -> np.ndarray:
    return np.concatenate([fn(X[i:i + chunk]) for i in range(0, len(X), chunk)])
