"""UMAP fitted on a sample places the other points either by its own transform or by that
transform's first step alone (interpolate): both keep the fitted points where the fit put them,
keep well-separated groups apart, give the same bits on every run, and are named in the key."""
import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from clustering_engine.errors import ConfigError
from clustering_engine.reduce import ReductionConfig, reduce


@pytest.fixture(scope="module")
def blobs():
    X, truth = make_blobs(n_samples=900, centers=4, n_features=20, cluster_std=1.0,
                          random_state=5)
    return X.astype(np.float32), truth


def config(out_of_sample):
    return ReductionConfig(method="umap", n_components=5, fit_sample=300, metric="euclidean",
                           out_of_sample=out_of_sample)


def test_interpolated_points_keep_the_groups_and_the_fitted_points(blobs):
    X, truth = blobs
    placed = {mode: reduce(X, config(mode)) for mode in ("transform", "interpolate")}
    fitted_rows = np.sort(np.random.default_rng(0).choice(len(X), size=300, replace=False))
    for mode, reduction in placed.items():
        out = reduction.vectors
        assert out.shape == (len(X), 5) and out.dtype == np.float32 and np.isfinite(out).all()
        labels = KMeans(4, n_init=3, random_state=0).fit_predict(out)
        assert adjusted_rand_score(truth, labels) > 0.95, mode
        assert reduction.effective["out_of_sample"] == mode
    # the fit is the same, only the other points move
    assert np.array_equal(placed["transform"].vectors[fitted_rows],
                          placed["interpolate"].vectors[fitted_rows])
    assert not np.array_equal(placed["transform"].vectors, placed["interpolate"].vectors)


def test_interpolation_is_reproducible(blobs):
    X, _ = blobs
    first = reduce(X, config("interpolate")).vectors
    assert np.array_equal(first, reduce(X, config("interpolate")).vectors)


def test_the_key_names_interpolation_and_bad_values_are_refused():
    assert "interpolate" in config("interpolate").key()
    assert "interpolate" not in config("transform").key()
    with pytest.raises(ConfigError, match="out_of_sample"):
        ReductionConfig(method="umap", fit_sample=100, out_of_sample="nearest")


def test_weighted_mean_matches_umaps_own_initialisation():
    import scipy.sparse
    from umap.umap_ import init_graph_transform

    from clustering_engine.reduce import weighted_mean_of_neighbours

    rng = np.random.default_rng(1)
    embedding = rng.standard_normal((40, 3)).astype(np.float32)
    graph = scipy.sparse.random(25, 40, density=0.2, random_state=2, format="lil",
                                dtype=np.float32)
    graph[3, 7] = 1.0                      # the same point as fitted point 7
    graph[5, :] = 0                        # no neighbour: NaN, as UMAP leaves it
    graph = graph.tocsr()
    graph.eliminate_zeros()
    ours = weighted_mean_of_neighbours(graph, embedding)
    theirs = init_graph_transform(graph, embedding)
    assert np.array_equal(np.isnan(ours), np.isnan(theirs)) and np.isnan(ours[5]).all()
    assert np.allclose(ours[~np.isnan(ours).any(axis=1)],
                       theirs[~np.isnan(theirs).any(axis=1)], atol=1e-5)
    assert np.array_equal(ours[3], embedding[7])
