"""Plain HDBSCAN through fast_hdbscan or cuML (a flag; the reference library stays the
default): the same clusters on well-separated data, the same labels on every run, and clear
refusals."""
import importlib.util

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from clustering_engine.cluster import ClusterConfig, cluster
from clustering_engine.errors import ConfigError
from clustering_engine.grid import GridConfig


@pytest.fixture(scope="module")
def blobs():
    X, truth = make_blobs(n_samples=1500, centers=6, n_features=5, cluster_std=0.6,
                          random_state=2)
    return X.astype(np.float32), truth


def test_fast_backend_finds_the_reference_clusters(blobs):
    X, truth = blobs
    reference = cluster(X, ClusterConfig("hdbscan", min_cluster_size=40)).labels
    fast = cluster(X, ClusterConfig("hdbscan", min_cluster_size=40,
                                    hdbscan_backend="fast_hdbscan"))
    assert fast.labels.dtype == np.int32
    assert len(np.unique(fast.labels[fast.labels >= 0])) == 6
    assert adjusted_rand_score(reference, fast.labels) > 0.95
    assert adjusted_rand_score(truth, fast.labels) > 0.95
    assert fast.params["backend"] == "fast_hdbscan"
    assert "backend" not in cluster(X, ClusterConfig("hdbscan", min_cluster_size=40)).params


def test_fast_backend_is_reproducible(blobs):
    X, _ = blobs
    config = ClusterConfig("hdbscan", min_cluster_size=40, hdbscan_backend="fast_hdbscan")
    assert np.array_equal(cluster(X, config).labels, cluster(X, config).labels)


def test_refusals():
    with pytest.raises(ConfigError, match="hdbscan_backend"):
        ClusterConfig("hdbscan", hdbscan_backend="gpu")
    with pytest.raises(ConfigError, match="no alpha"):
        ClusterConfig("hdbscan", alpha=0.6, hdbscan_backend="fast_hdbscan")


@pytest.mark.skipif(importlib.util.find_spec("cuml") is not None, reason="cuML is installed")
def test_gpu_backend_without_cuml_is_refused_clearly():
    with pytest.raises(ConfigError, match="needs RAPIDS cuML"):
        ClusterConfig("hdbscan", hdbscan_backend="cuml")


def test_grid_passes_the_backend_on():
    config = GridConfig(hdbscan_backend="fast_hdbscan").cluster_config("hdbscan")
    assert config.hdbscan_backend == "fast_hdbscan"
