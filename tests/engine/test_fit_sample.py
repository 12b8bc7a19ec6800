"""HDBSCAN and K-Means fitted on a sample, the rest assigned (HDBSCAN: the library's
approximate_predict; K-Means: the nearest centre): the same clusters as a full fit on
well-separated data, the sampled points keep their fitted labels, the same labels on every run,
and clear refusals."""
import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from clustering_engine.cluster import ClusterConfig, cluster
from clustering_engine.distinct import cluster_distinct
from clustering_engine.errors import ConfigError
from clustering_engine.grid import GridConfig


@pytest.fixture(scope="module")
def blobs():
    X, truth = make_blobs(n_samples=6000, centers=6, n_features=5, cluster_std=0.6,
                          random_state=3)
    return X.astype(np.float32), truth


def test_sampled_fit_finds_the_full_fits_clusters_for_every_point(blobs):
    X, truth = blobs
    full = cluster(X, ClusterConfig("hdbscan", min_cluster_size=200))
    sampled = cluster(X, ClusterConfig("hdbscan", min_cluster_size=200, fit_sample=1000))
    assert sampled.labels.shape == (len(X),)
    assert len(np.unique(sampled.labels[sampled.labels >= 0])) == 6
    assert adjusted_rand_score(full.labels, sampled.labels) > 0.95
    assert adjusted_rand_score(truth, sampled.labels) > 0.95
    # the explicit size counts points of the whole input: scaled to the 1000 fitted points
    assert sampled.params["min_cluster_size"] == round(200 * 1000 / 6000)
    assert sampled.params["fit_rows"] == 1000 and sampled.params["fit_sample"] == 1000
    assert "fit_rows" not in full.params


def test_default_min_cluster_size_is_taken_over_the_sample(blobs):
    X, _ = blobs
    assert cluster(X, ClusterConfig("hdbscan", fit_sample=1000)).params["min_cluster_size"] == 5
    assert cluster(X, ClusterConfig("hdbscan")).params["min_cluster_size"] == 6000 // 200


def test_sampled_fit_is_reproducible_and_follows_the_seed(blobs):
    X, _ = blobs
    config = ClusterConfig("hdbscan", min_cluster_size=200, fit_sample=800)
    first = cluster(X, config).labels
    assert np.array_equal(first, cluster(X, config).labels)
    rows = np.sort(np.random.default_rng(0).choice(len(X), size=800, replace=False))
    fitted_alone = cluster(X[rows], ClusterConfig("hdbscan", min_cluster_size=27)).labels
    assert np.array_equal(first[rows], fitted_alone)   # the sample keeps the fit's own labels


def test_flat_k_on_a_sample_gives_k_clusters(blobs):
    X, truth = blobs
    sampled = cluster(X, ClusterConfig("hdbscan_flat", min_cluster_size=100, fit_sample=1500),
                      k=6)
    assert len(np.unique(sampled.labels[sampled.labels >= 0])) == 6
    assert adjusted_rand_score(truth, sampled.labels) > 0.95


def test_a_sample_larger_than_the_data_fits_everything(blobs):
    X, _ = blobs
    config = ClusterConfig("hdbscan", min_cluster_size=200, fit_sample=10_000)
    result = cluster(X, config)
    assert "fit_rows" not in result.params
    assert np.array_equal(result.labels,
                          cluster(X, ClusterConfig("hdbscan", min_cluster_size=200)).labels)


def test_duplicates_share_a_label_under_a_sampled_fit(blobs):
    X, _ = blobs
    repeated = np.vstack([X, X[:500]])
    labels = cluster_distinct(repeated, ClusterConfig("hdbscan", min_cluster_size=200,
                                                      fit_sample=1000)).labels
    assert np.array_equal(labels[:500], labels[len(X):])


def test_refusals_and_the_grid_passes_it_to_hdbscan_only():
    with pytest.raises(ConfigError, match="at least 2"):
        ClusterConfig("hdbscan", fit_sample=1)
    with pytest.raises(ConfigError, match="reference library"):
        ClusterConfig("hdbscan", fit_sample=1000, hdbscan_backend="fast_hdbscan")
    grid = GridConfig(hdbscan_fit_sample=20_000)
    assert grid.cluster_config("hdbscan").fit_sample == 20_000
    assert grid.cluster_config("hdbscan_flat").fit_sample == 20_000
    assert grid.cluster_config("kmeans").fit_sample is None


def test_kmeans_on_a_sample_finds_the_full_fits_clusters(blobs):
    X, truth = blobs
    full = cluster(X, ClusterConfig("kmeans", n_init=1), k=6)
    sampled = cluster(X, ClusterConfig("kmeans", n_init=1, fit_sample=600), k=6)
    assert sampled.params["fit_rows"] == 600 and sampled.params["fit_sample"] == 600
    assert adjusted_rand_score(full.labels, sampled.labels) > 0.95
    assert adjusted_rand_score(truth, sampled.labels) > 0.95
    config = ClusterConfig("kmeans", n_init=1, fit_sample=600)
    assert np.array_equal(sampled.labels, cluster(X, config, k=6).labels)
    other_seed = cluster(X, ClusterConfig("kmeans", n_init=1, fit_sample=600, seed=1), k=6)
    assert "fit_rows" not in full.params
    assert adjusted_rand_score(sampled.labels, other_seed.labels) > 0.95


def test_kmeans_on_a_sample_gives_every_point_its_nearest_centre(blobs):
    X, _ = blobs
    labels = cluster(X, ClusterConfig("kmeans", n_init=1, fit_sample=300), k=8).labels
    centres = np.stack([X[labels == c].mean(axis=0) for c in range(8)])
    # each point's centre is nearer than the other clusters' means, up to the centres moving
    # from the sample's means to the full means: a loose but failing-if-broken check
    nearest = np.argmin(((X[:, None, :] - centres[None]) ** 2).sum(-1), axis=1)
    assert (nearest == labels).mean() > 0.97


def test_grid_passes_each_algorithm_its_own_sample():
    grid = GridConfig(kmeans_fit_sample=50_000, hdbscan_fit_sample=20_000)
    assert grid.cluster_config("kmeans").fit_sample == 50_000
    assert grid.cluster_config("hdbscan").fit_sample == 20_000
