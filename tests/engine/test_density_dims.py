"""HDBSCAN on a space's first principal components (``density_dims``): the labels come from the
projection, every point keeps its row, the parameter is recorded, K-Means never sees it, and the
grid scores such a solution in the whole space like any other."""
import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.decomposition import PCA
from sklearn.metrics import adjusted_rand_score

from clustering_engine.cluster import ClusterConfig, cluster, density_space
from clustering_engine.errors import ConfigError
from clustering_engine.grid import GridConfig


@pytest.fixture(scope="module")
def blobs_in_50_dims():
    # six groups that differ in 4 directions, plus 46 directions of small noise
    centres, truth = make_blobs(n_samples=3000, centers=6, n_features=4, cluster_std=0.5,
                                random_state=5)
    noise = np.random.default_rng(5).normal(scale=0.05, size=(3000, 46))
    return np.hstack([centres, noise]).astype(np.float32), truth


def test_hdbscan_in_five_components_finds_the_groups_and_records_it(blobs_in_50_dims):
    X, truth = blobs_in_50_dims
    result = cluster(X, ClusterConfig("hdbscan", min_cluster_size=100, density_dims=5))
    assert result.labels.shape == (len(X),)
    assert result.params["density_dims"] == 5
    assert adjusted_rand_score(truth, result.labels) > 0.95
    assert "density_dims" not in cluster(X, ClusterConfig("hdbscan", min_cluster_size=100)).params


def test_the_labels_are_hdbscans_on_the_projection(blobs_in_50_dims):
    X, _ = blobs_in_50_dims
    projected = PCA(n_components=5, svd_solver="covariance_eigh").fit_transform(X)
    via_option = cluster(X, ClusterConfig("hdbscan", min_cluster_size=60, density_dims=5))
    direct = cluster(projected, ClusterConfig("hdbscan", min_cluster_size=60))
    assert np.array_equal(via_option.labels, direct.labels)
    again = cluster(X, ClusterConfig("hdbscan", min_cluster_size=60, density_dims=5))
    assert np.array_equal(via_option.labels, again.labels)


def test_flat_k_and_a_sampled_fit_use_it_too(blobs_in_50_dims):
    X, truth = blobs_in_50_dims
    flat = cluster(X, ClusterConfig("hdbscan_flat", min_cluster_size=60, density_dims=5), k=6)
    assert len(np.unique(flat.labels[flat.labels >= 0])) == 6
    sampled = cluster(X, ClusterConfig("hdbscan", min_cluster_size=100, density_dims=5,
                                       fit_sample=1000))
    assert adjusted_rand_score(truth, sampled.labels) > 0.9
    assert sampled.params["density_dims"] == 5 and sampled.params["fit_rows"] == 1000


def test_a_space_with_fewer_columns_is_left_as_it_is():
    X = np.random.default_rng(0).normal(size=(50, 3))
    assert density_space(X, 5) is X
    assert density_space(X, None) is X
    assert density_space(np.hstack([X, X]), 5).shape == (50, 5)


def test_refusal_and_the_grid_gives_it_to_hdbscan_only():
    with pytest.raises(ConfigError, match="density_dims"):
        ClusterConfig("hdbscan", density_dims=0)
    grid = GridConfig(hdbscan_density_dims=5)
    assert grid.cluster_config("hdbscan").density_dims == 5
    assert grid.cluster_config("hdbscan_flat").density_dims == 5
    assert grid.cluster_config("kmeans").density_dims is None


def test_the_command_line_option_reaches_the_grid():
    from clustering_engine.cli import build_parser, config_from_args

    args = build_parser().parse_args(["run", "--data", "pairs.csv", "--out", "out",
                                      "--hdbscan-dims", "5"])
    assert config_from_args(args).grid.hdbscan_density_dims == 5
    args = build_parser().parse_args(["run", "--data", "pairs.csv", "--out", "out"])
    assert config_from_args(args).grid.hdbscan_density_dims is None
