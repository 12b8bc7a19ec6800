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

    def params(self) -> dict:
        if self.algorithm == "kmeans":
            return {"n_init": self.n_init, "minibatch": self.minibatch, "seed": self.seed}
        params = {"min_cluster_size": self.min_cluster_size, "min_samples": self.min_samples,
                  "alpha": self.alpha, "seed": self.seed}
        if self.algorithm == "hdbscan" and self.hdbscan_backend != "hdbscan":
            params["backend"] = self.hdbscan_backend
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
        labels = _kmeans(X, k, config, sample_weight)
        params["k"] = k
        found = len(np.unique(labels))
        if found < k:  # identical points (e.g. every text the same): fewer distinct clusters
            note = (f"K-means found only {found} distinct cluster(s) for K={k}: "
                    "the points are (nearly) identical")
    else:
        mcs = config.min_cluster_size or max(5, len(X) // 200)
        params["min_cluster_size"] = mcs
        if config.algorithm == "hdbscan":
            labels = _hdbscan(X, mcs, config)
        else:
            check_k(k, len(X))
            labels, note = _hdbscan_flat(X, k, mcs, config)
            params["k"] = k
        if (labels >= 0).sum() == 0:
            note = (note + " " if note else "") + (
                "HDBSCAN labelled every pair as noise: lower min_cluster_size "
                f"(now {mcs}) or raise alpha")
    return Clustering(labels.astype(np.int32), time.perf_counter() - started, params, note)


def _kmeans(X, k, config, sample_weight=None):
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
        return model.fit_predict(X, sample_weight=sample_weight)


def _hdbscan(X, min_cluster_size, config):
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
                            alpha=config.alpha, core_dist_n_jobs=1)
    return model.fit_predict(X.astype(np.float64))


def _hdbscan_flat(X, k, min_cluster_size, config):
    from hdbscan import flat

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = flat.HDBSCAN_flat(X.astype(np.float64), n_clusters=k,
                                  min_cluster_size=min_cluster_size,
                                  min_samples=config.min_samples, alpha=config.alpha,
                                  core_dist_n_jobs=1)
    note = "; ".join(str(w.message) for w in caught if "cluster" in str(w.message).lower())
    return np.asarray(model.labels_), note
