"""Label combination, K splitting, vector-level space, the rcca joint space, reduce, cluster."""
import numpy as np
import pytest

from clustering_engine.cluster import ClusterConfig, cluster
from clustering_engine.errors import ConfigError
from clustering_engine.joint_space import RegularizedCCA
from clustering_engine.methods import combine_labels, split_k, vector_level_space
from clustering_engine.reduce import ReductionConfig, reduce


def blobs(n_per=60, centers=4, dim=8, seed=0, spread=0.05):
    rng = np.random.default_rng(seed)
    means = rng.normal(size=(centers, dim)) * 3
    X = np.vstack([m + spread * rng.normal(size=(n_per, dim)) for m in means])
    truth = np.repeat(np.arange(centers), n_per)
    return X.astype(np.float32), truth


@pytest.mark.parametrize("k,expected", [(9, (3, 3)), (25, (5, 5)), (100, (10, 10)),
                                        (12, (3, 4)), (6, (2, 3)), (7, (1, 7))])
def test_split_k_is_the_most_balanced_factorisation(k, expected):
    assert split_k(k) == expected


def test_combine_labels_numbers_pairs_by_first_appearance_and_keeps_noise():
    text = np.array([0, 0, 1, 1, 0, -1, 2])
    image = np.array([1, 1, 0, 1, 0, 0, -1])
    assert combine_labels(text, image).tolist() == [0, 0, 1, 2, 3, -1, -1]


def test_vector_level_space_normalises_each_modality_then_weights():
    text = np.array([[3.0, 4.0], [0.0, 2.0]])
    image = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 5.0]])
    X = vector_level_space(text, image, weights=(2.0, 1.0))
    np.testing.assert_allclose(X[0], [1.2, 1.6, 1.0, 0.0, 0.0])
    np.testing.assert_allclose(np.linalg.norm(X[:, 2:], axis=1), [1.0, 1.0])


def test_rcca_finds_the_shared_signal_and_halves_are_unit_norm():
    rng = np.random.default_rng(0)
    shared = rng.normal(size=(300, 2))
    text = np.hstack([shared @ rng.normal(size=(2, 6)), rng.normal(size=(300, 20))])
    image = np.hstack([shared @ rng.normal(size=(2, 5)), rng.normal(size=(300, 40))])
    cca = RegularizedCCA(n_components=10, reg=0.1).fit(text, image)
    # Two shared directions: two canonical correlations near 1, the rest far lower.
    assert cca.correlations_[1] > 0.9 and cca.correlations_[2] < 0.6
    joint = cca.transform(text, image)
    assert joint.shape == (300, 20)
    np.testing.assert_allclose(np.linalg.norm(joint[:, :10], axis=1), 1.0, rtol=1e-5)


def test_rcca_stays_finite_when_dimensions_exceed_pairs():
    rng = np.random.default_rng(1)
    joint = RegularizedCCA(n_components=16, reg=0.2).fit_transform(
        rng.normal(size=(30, 200)), rng.normal(size=(30, 300)))
    assert np.isfinite(joint).all()


@pytest.mark.parametrize("method", ["pca", "umap", "none"])
def test_reduce_is_seeded_and_shapes_are_right(method):
    X, _ = blobs(n_per=40, dim=12)
    cfg = ReductionConfig(method=method, n_components=5, seed=3)
    a, b = reduce(X, cfg).vectors, reduce(X, cfg).vectors
    assert a.shape == ((160, 5) if method != "none" else (160, 12))
    np.testing.assert_array_equal(a, b)


def test_reduce_with_fit_sample_transforms_every_row():
    X, truth = blobs(n_per=100, dim=12)
    out = reduce(X, ReductionConfig(method="umap", n_components=3, fit_sample=150, seed=0))
    assert out.vectors.shape == (400, 3) and np.isfinite(out.vectors).all()
    assert out.effective["fit_rows"] == 150
    # The blobs stay separated after out-of-sample transform.
    labels = cluster(out.vectors, ClusterConfig("kmeans"), 4).labels
    from sklearn.metrics import adjusted_rand_score
    assert adjusted_rand_score(truth, labels) > 0.95


@pytest.mark.parametrize("algorithm", ["kmeans", "hdbscan_flat"])
def test_fixed_k_algorithms_recover_blobs(algorithm):
    X, truth = blobs()
    labels = cluster(X, ClusterConfig(algorithm, min_cluster_size=10), 4).labels
    from sklearn.metrics import adjusted_rand_score
    assert adjusted_rand_score(truth, labels) > 0.95


def test_hdbscan_finds_blobs_and_reports_all_noise_clearly():
    X, truth = blobs()
    found = cluster(X, ClusterConfig("hdbscan", min_cluster_size=10))
    assert len(set(found.labels) - {-1}) == 4
    # 50 points cannot hold two clusters of 40, and a single cluster is not allowed: all noise.
    rng = np.random.default_rng(0)
    uniform = rng.uniform(size=(50, 2)).astype(np.float32)
    none = cluster(uniform, ClusterConfig("hdbscan", min_cluster_size=40))
    assert (none.labels == -1).all()
    assert "every pair as noise" in none.note and "min_cluster_size" in none.note


@pytest.mark.parametrize("k", [1, 0, 500])
def test_bad_k_is_a_clear_config_error(k):
    X, _ = blobs()
    with pytest.raises(ConfigError, match="K"):
        cluster(X, ClusterConfig("kmeans"), k)


def test_umap_after_pca_first_keeps_the_blobs_apart():
    X, truth = blobs(n_per=100, dim=40)
    out = reduce(X, ReductionConfig(method="umap", n_components=3, pca_first=10, fit_sample=200))
    assert out.vectors.shape == (400, 3)
    assert out.effective["pca_first"]["n_components"] == 10
    assert out.effective["metric"] == "euclidean"   # cosine on L2-normalised rows
    labels = cluster(out.vectors, ClusterConfig("kmeans"), 4).labels
    from sklearn.metrics import adjusted_rand_score
    assert adjusted_rand_score(truth, labels) > 0.95


def test_pca_first_must_exceed_the_target_dimension():
    with pytest.raises(ConfigError, match="pca_first"):
        ReductionConfig(method="umap", n_components=50, pca_first=50)


def test_grid_config_refuses_zero_ami_permutations():
    from clustering_engine.grid import GridConfig
    with pytest.raises(ConfigError, match="ami_permutations"):
        GridConfig(ami_permutations=0)
