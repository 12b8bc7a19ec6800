"""Clustering algorithms over a (reduced) space. Labels are int32, noise = -1.

- ``kmeans``: scikit-learn K-Means (k-means++, seeded). Large inputs use MiniBatchKMeans
  only when asked (``minibatch=True``); full K-Means on 337k x 50 is fast enough on 2 cores.
- ``hdbscan``: density clustering with ``min_cluster_size`` and ``alpha`` (paper: 1000, 0.6
  on CASM); K is whatever HDBSCAN finds.
- ``hdbscan_flat``: HDBSCAN forced to K clusters (hdbscan.flat), the paper's fixed-K
  HDBSCAN comparisons (appendix D).

Plain HDBSCAN has three implementations (``hdbscan_backend``): ``hdbscan`` (default, the
reference library, supports ``alpha``), ``fast_hdbscan`` (numba, parallel Boruvka MST: its
speed needs idle cores, it measured slower on 2 busy ones, docs/performance.md; run with
``reproducible=True``; no ``alpha``) and ``cuml``
(RAPIDS cuML on a CUDA GPU, where installed; refused with a clear error otherwise). Flat-K
always uses the reference library.

Fitting on a sample (``fit_sample``, ours, off by default) for hundreds of thousands of posts:
- HDBSCAN's cost grows much faster than linearly with the number of points in 50 dims: it is
  fitted on a seeded sample of the points and the rest are assigned with the library's own
  out-of-sample rule (``hdbscan.approximate_predict``, ``flat.approximate_predict_flat``): a
  point joins the cluster its mutual-reachability neighbours in the sample belong to, or noise.
  An explicit ``min_cluster_size`` counts points of the whole input and is scaled by the
  sampled share, so the density threshold means the same; the default, max(5, n // 200), is
  taken over the sample. Reference library only.
- K-Means is fitted on the sampled points (with their multiplicity weights) and every point
  takes its nearest centre; the grid and the stability reseeds then cost a sample's worth each.
  The sample follows the seed, so stability reseeds measure the sampling too.
Their agreement with a full fit is measured in docs/performance.md.

HDBSCAN in fewer dimensions (``density_dims``, ours, off by default): density estimates in 50
dimensions are slow (no tree prunes well) and flat (every distance alike), so BERTopic runs
HDBSCAN in 5. Here the space stays the method's own: HDBSCAN sees only its first
``density_dims`` principal components (PCA fitted on the rows HDBSCAN is fitted on, exact
eigendecomposition, so no seed is involved), and every metric still scores the labels in the
whole space. Recorded in the solution's parameters.
"""
from __future__ import annotations

import dataclasses
import importlib.util
import time
import warnings

import numpy as np

from .errors import ConfigError
from .spec import ALGORITHMS, HDBSCAN_BACKENDS


@dataclasses.dataclass(frozen=True)
class ClusterConfig:
    algorithm: str = "kmeans"
    n_init: int = 3
    minibatch: bool = False
    min_cluster_size: int | None = None   # HDBSCAN; None -> max(5, n // 200)
    min_samples: int | None = None
    alpha: float = 1.0
    seed: int = 0
    hdbscan_backend: str = "hdbscan"
    fit_sample: int | None = None   # fit on this many sampled points, assign the rest
    density_dims: int | None = None   # HDBSCAN on the space's first principal components

    def __post_init__(self):
        if self.algorithm not in ALGORITHMS:
            raise ConfigError(f"algorithm must be one of {ALGORITHMS}, got {self.algorithm!r}")
        if self.hdbscan_backend not in HDBSCAN_BACKENDS:
            raise ConfigError(f"hdbscan_backend must be one of {HDBSCAN_BACKENDS}, "
                              f"got {self.hdbscan_backend!r}")
        if self.hdbscan_backend == "cuml" and importlib.util.find_spec("cuml") is None:
            raise ConfigError("hdbscan_backend 'cuml' needs RAPIDS cuML and a CUDA GPU "
                              "(pip install cuml-cu12); it is not installed here")
        if self.hdbscan_backend == "fast_hdbscan" and self.alpha != 1.0:
            raise ConfigError("fast_hdbscan has no alpha: use hdbscan_backend='hdbscan' "
                              f"for alpha={self.alpha}")
        if self.fit_sample is not None:
            if self.fit_sample < 2:
                raise ConfigError(f"fit_sample must be at least 2, got {self.fit_sample}")
            if self.algorithm == "hdbscan" and self.hdbscan_backend != "hdbscan":
                raise ConfigError("HDBSCAN fit_sample assigns the unsampled points with the "
                                  "reference library's approximate_predict: use "
                                  "hdbscan_backend='hdbscan'")
        if self.density_dims is not None and self.density_dims < 1:
            raise ConfigError(f"density_dims must be at least 1, got {self.density_dims}")

    def params(self) -> dict:
        if self.algorithm == "kmeans":
            params = {"n_init": self.n_init, "minibatch": self.minibatch, "seed": self.seed}
            if self.fit_sample is not None:
                params["fit_sample"] = self.fit_sample
            return params
        params = {"min_cluster_size": self.min_cluster_size, "min_samples": self.min_samples,
                  "alpha": self.alpha, "seed": self.seed}
        if self.algorithm == "hdbscan" and self.hdbscan_backend != "hdbscan":
            params["backend"] = self.hdbscan_backend
        if self.fit_sample is not None:
            params["fit_sample"] = self.fit_sample
        if self.density_dims is not None:
            params["density_dims"] = self.density_dims
        return params


@dataclasses.dataclass
class Clustering:
    labels: np.ndarray
    seconds: float
    params: dict
    note: str = ""


def check_k(k: int, n_points: int) -> None:
    """K must be at least 2 and at most the number of points."""
    if k < 2:
        raise ConfigError(f"K must be at least 2, got K={k}")
    if k > n_points:
        raise ConfigError(f"K={k} is larger than the number of pairs ({n_points})")


def cluster(X: np.ndarray, config: ClusterConfig, k: int | None = None,
            sample_weight: np.ndarray | None = None) -> Clustering:
    """Cluster ``X``; ``k`` is required for kmeans and hdbscan_flat, ignored by hdbscan.
    ``sample_weight`` (K-Means only) counts each point that many times."""
    started = time.perf_counter()
    note = ""
    params = dict(config.params())
    if config.algorithm == "kmeans":
        check_k(k, len(X))
        rows = _sample_rows(len(X), config)
        labels = _kmeans(X, k, config, sample_weight, rows)
        params["k"] = k
        if rows is not None:
            params["fit_rows"] = len(rows)
        found = len(np.unique(labels))
        if found < k:  # identical points (e.g. every text the same): fewer distinct clusters
            note = (f"K-means found only {found} distinct cluster(s) for K={k}: "
                    "the points are (nearly) identical")
    else:
        rows = _sample_rows(len(X), config)
        X = density_space(X, config.density_dims, rows)
        fitted = X if rows is None else X[rows]
        mcs = _min_cluster_size(len(X), len(fitted), config)
        params["min_cluster_size"] = mcs
        if rows is not None:
            params["fit_rows"] = len(rows)
        if config.algorithm == "hdbscan":
            labels = _hdbscan(X, mcs, config, rows)
        else:
            check_k(k, len(fitted))
            labels, note = _hdbscan_flat(X, k, mcs, config, rows)
            params["k"] = k
        if (labels >= 0).sum() == 0:
            note = (note + " " if note else "") + (
                "HDBSCAN labelled every pair as noise: lower min_cluster_size "
                f"(now {mcs}) or raise alpha")
    return Clustering(labels.astype(np.int32), time.perf_counter() - started, params, note)


def density_space(X: np.ndarray, dims: int | None, rows: np.ndarray | None = None) -> np.ndarray:
    """The first ``dims`` principal components of ``X`` (fitted on ``rows`` when given), or
    ``X`` itself when it has no more columns than that."""
    if not dims or X.shape[1] <= dims:
        return X
    from sklearn.decomposition import PCA

    pca = PCA(n_components=dims, svd_solver="covariance_eigh")
    pca.fit(X if rows is None else X[rows])
    return pca.transform(X)


def _kmeans(X, k, config, sample_weight=None, rows=None):
    from sklearn.cluster import KMeans, MiniBatchKMeans

    if config.minibatch:
        model = MiniBatchKMeans(n_clusters=k, random_state=config.seed, n_init=config.n_init,
                                batch_size=4096)
    else:
        model = KMeans(n_clusters=k, random_state=config.seed, n_init=config.n_init)
    with warnings.catch_warnings():
        # Duplicate points (e.g. many posts sharing one image) make sklearn warn that it
        # found fewer distinct clusters than K; the labels are still valid.
        warnings.simplefilter("ignore")
        if rows is None:
            return model.fit_predict(X, sample_weight=sample_weight)
        model.fit(X[rows], sample_weight=None if sample_weight is None else sample_weight[rows])
        return model.predict(X)


def _sample_rows(n: int, config: ClusterConfig) -> np.ndarray | None:
    if not config.fit_sample or config.fit_sample >= n:
        return None
    rng = np.random.default_rng(config.seed)
    return np.sort(rng.choice(n, size=config.fit_sample, replace=False))


def _min_cluster_size(n: int, n_fitted: int, config: ClusterConfig) -> int:
    if config.min_cluster_size is None:
        return max(5, n_fitted // 200)
    if n_fitted == n:
        return config.min_cluster_size
    return max(5, round(config.min_cluster_size * n_fitted / n))


def _assign_rest(X, rows, fitted_labels, predict, chunk: int = 50_000) -> np.ndarray:
    """Labels for every row of ``X``: the fit's own for the sampled rows, ``predict`` for the
    rest (in chunks, to bound the neighbour-query memory)."""
    labels = np.empty(len(X), dtype=np.int64)
    labels[rows] = fitted_labels
    rest = np.setdiff1d(np.arange(len(X)), rows, assume_unique=True)
    for i in range(0, len(rest), chunk):
        part = rest[i:i + chunk]
        labels[part] = predict(np.ascontiguousarray(X[part], dtype=np.float64))
    return labels


def _hdbscan(X, min_cluster_size, config, rows=None):
    if config.hdbscan_backend == "cuml":
        from cuml.cluster import HDBSCAN as GpuHDBSCAN

        model = GpuHDBSCAN(min_cluster_size=min_cluster_size, min_samples=config.min_samples,
                           alpha=config.alpha)
        return np.asarray(model.fit_predict(np.ascontiguousarray(X, dtype=np.float32)))
    if config.hdbscan_backend == "fast_hdbscan":
        import fast_hdbscan

        model = fast_hdbscan.HDBSCAN(min_cluster_size=min_cluster_size,
                                     min_samples=config.min_samples, reproducible=True)
        return model.fit_predict(np.ascontiguousarray(X, dtype=np.float32))
    import hdbscan

    model = hdbscan.HDBSCAN(min_cluster_size=min_cluster_size, min_samples=config.min_samples,
                            alpha=config.alpha, core_dist_n_jobs=1,
                            prediction_data=rows is not None)
    if rows is None:
        return model.fit_predict(X.astype(np.float64))
    model.fit(X[rows].astype(np.float64))
    return _assign_rest(X, rows, model.labels_,
                        lambda points: hdbscan.approximate_predict(model, points)[0])


def _hdbscan_flat(X, k, min_cluster_size, config, rows=None):
    from hdbscan import flat

    fitted = X if rows is None else X[rows]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = flat.HDBSCAN_flat(fitted.astype(np.float64), n_clusters=k,
                                  min_cluster_size=min_cluster_size,
                                  min_samples=config.min_samples, alpha=config.alpha,
                                  core_dist_n_jobs=1, prediction_data=rows is not None)
        labels = np.asarray(model.labels_)
        if rows is not None:
            labels = _assign_rest(X, rows, labels, lambda points: flat.approximate_predict_flat(
                model, points, n_clusters=k)[0])
    note = "; ".join(str(w.message) for w in caught if "cluster" in str(w.message).lower())
    return labels, note
