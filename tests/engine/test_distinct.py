"""Identical inputs get identical treatment: distinct vectors are reduced and clustered once and
every row takes its vector's label; K-Means counts each distinct point by its multiplicity."""

import dataclasses

import numpy as np
import pytest
from sklearn.cluster import KMeans

from clustering_engine.cluster import ClusterConfig
from clustering_engine.distinct import (cluster_distinct, distinct_counts, distinct_rows,
                                        reduce_distinct)
from clustering_engine.grid import GridConfig, run_grid
from clustering_engine.reduce import ReductionConfig


def test_distinct_rows_numbers_vectors_by_first_appearance():
    X = np.array([[1, 2], [3, 4], [1, 2], [5, 6], [3, 4], [1, 2]], np.float32)
    rows = distinct_rows(X)
    assert rows.index.tolist() == [0, 1, 0, 2, 1, 0]
    assert rows.first.tolist() == [0, 1, 3] and rows.counts.tolist() == [3, 2, 1]
    counts = distinct_counts(X, np.array([[0], [0], [1], [1], [0], [0]], np.float32))
    assert counts == {"rows": 6, "text": 3, "image": 2, "pair": 4}


def test_kmeans_weights_each_distinct_point_by_its_rows():
    rng = np.random.default_rng(0)
    points = rng.normal(size=(12, 3)).astype(np.float32)
    repeats = np.array([1, 1, 40, 1, 1, 1, 1, 30, 1, 1, 1, 1])
    X = np.repeat(points, repeats, axis=0)[rng.permutation(repeats.sum())]
    config = ClusterConfig(algorithm="kmeans", n_init=3, seed=0)
    result = cluster_distinct(X, config, 3)
    rows = distinct_rows(X)
    expected = KMeans(n_clusters=3, n_init=3, random_state=0).fit_predict(
        X[rows.first], sample_weight=rows.counts.astype(float))[rows.index]
    np.testing.assert_array_equal(result.labels, expected)
    assert "sample_weight" in result.params["multiplicity"] and result.params["n_distinct"] == 12
    # more clusters asked than distinct points: capped, and said so
    capped = cluster_distinct(X, config, 20)
    assert len(np.unique(capped.labels)) == 12 and "only 12 distinct" in capped.note


def test_hdbscan_clusters_distinct_points_and_maps_labels_back():
    rng = np.random.default_rng(1)
    centres = np.array([[0, 0], [10, 10]], np.float32)
    points = np.concatenate([c + rng.normal(scale=0.3, size=(20, 2)) for c in centres]).astype(np.float32)
    X = np.concatenate([points, np.repeat(points[:1], 50, axis=0)])   # one point repeated 50x
    result = cluster_distinct(X, ClusterConfig(algorithm="hdbscan", min_cluster_size=5), None)
    assert len(set(result.labels[40:].tolist() + [result.labels[0]])) == 1
    assert "each counted once" in result.params["multiplicity"]


def test_reduction_sees_each_distinct_vector_once():
    rng = np.random.default_rng(2)
    X = np.repeat(rng.normal(size=(30, 20)).astype(np.float32), 4, axis=0)
    reduced = reduce_distinct(X, ReductionConfig(method="pca", n_components=5))
    assert reduced.effective["n_distinct"] == 30 and reduced.vectors.shape == (120, 5)
    assert reduced.effective["fit_rows"] == 30
    np.testing.assert_array_equal(reduced.vectors[0], reduced.vectors[3])


@pytest.fixture(scope="module")
def shared_image_grid():
    """120 posts over 30 images, 10 texts retweeted several times, some identical pairs."""
    rng = np.random.default_rng(3)
    images = rng.normal(size=(30, 24)).astype(np.float32)
    texts = rng.normal(size=(90, 16)).astype(np.float32)
    image_of = np.arange(120) % 30
    text_of = np.concatenate([np.arange(90), rng.integers(0, 10, size=30)])
    text_of[100:110] = text_of[70:80]
    image_of[100:110] = image_of[70:80]      # ten identical pairs
    # label-level on the reduced spaces: UMAP is where repeated vectors used to drift apart
    extra = ({"label_space": "reduced"}
             if "label_space" in {f.name for f in dataclasses.fields(GridConfig)} else {})
    config = GridConfig(methods=("label", "vector"), ks=(4, 9), algorithms=("kmeans", "hdbscan"),
                        reduction=ReductionConfig(n_components=5, n_neighbors=10), seed=0,
                        ami_permutations=5, **extra)
    result = run_grid(texts[text_of], images[image_of], None, config)
    return result, text_of, image_of


def _constant_within(labels, groups):
    return all(len(set(labels[groups == g].tolist())) == 1 for g in np.unique(groups))


def test_rows_sharing_an_image_share_every_image_only_label(shared_image_grid):
    result, _, image_of = shared_image_grid
    image_only = [s for s in result.modality_solutions if s.method == "image"]
    assert image_only
    for s in image_only:
        assert _constant_within(s.labels, image_of), s.id


def test_rows_with_the_same_pair_share_every_label(shared_image_grid):
    result, text_of, image_of = shared_image_grid
    pair_of = text_of * 1000 + image_of
    n_pairs = len(np.unique(pair_of))
    assert n_pairs <= 110      # ten rows repeat a pair (more may repeat by chance)
    for s in result.solutions + result.modality_solutions:
        assert _constant_within(s.labels, pair_of), s.id
    assert result.reductions["vector"]["n_distinct"] == n_pairs
    assert result.reductions["image"]["n_distinct"] == 30


def test_the_grid_groups_each_space_once_however_often_it_clusters_it(monkeypatch):
    """Grouping rows by their bytes costs about a second at 300,000 rows; the grid and its
    stability reseeds cluster one space dozens of times and must group it once."""
    import clustering_engine.distinct as distinct_module
    from clustering_engine.stability import stability_diagnostic

    rng = np.random.default_rng(4)
    text = rng.normal(size=(60, 8)).astype(np.float32)[np.arange(120) % 60]
    image = rng.normal(size=(40, 8)).astype(np.float32)[np.arange(120) % 40]
    calls = []
    original = distinct_module.distinct_rows
    monkeypatch.setattr(distinct_module, "distinct_rows",
                        lambda X: calls.append(X.shape) or original(X))
    config = GridConfig(methods=("label", "vector"), ks=(4, 9, 16), algorithms=("kmeans",),
                        reduction=ReductionConfig(method="pca", n_components=4),
                        ami_permutations=2)
    result = run_grid(text, image, None, config)
    stability_diagnostic(result, config, seeds=2)
    reductions = 3                                   # text, image, vector: once each
    # label-level combines its text and image parts: its own space is never clustered
    clustered = {s.space for s in result.solutions + result.modality_solutions} - {"label"}
    assert clustered == {"text", "image", "vector"}
    assert len(calls) == reductions + len(clustered)


def test_reducing_in_the_inputs_own_memory_gives_the_same_bits_and_spares_the_callers():
    from clustering_engine.reduce import ReductionConfig, reduce

    X = np.random.default_rng(4).normal(size=(400, 40)).astype(np.float32)
    before = X.copy()
    config = ReductionConfig(method="umap", n_components=3, pca_first=10, fit_sample=250,
                             out_of_sample="interpolate", seed=0)
    copied = reduce(X, config)
    assert np.array_equal(X, before)   # the caller's array is left alone by default
    private = X.copy()
    in_place = reduce(private, config, overwrite_input=True)
    assert copied.vectors.tobytes() == in_place.vectors.tobytes()
    assert copied.effective == in_place.effective


def test_wide_rows_are_grouped_by_digest_exactly_as_by_sorting_their_bytes(monkeypatch):
    import hashlib

    from clustering_engine import distinct as module

    rng = np.random.default_rng(8)
    base = rng.normal(size=(300, 40)).astype(np.float32)     # 160 bytes a row: digest path
    X = base[rng.integers(0, 300, 2000)]
    X[7] = np.nextafter(X[7], np.inf)                         # one bit from its twins
    by_digest = module.distinct_rows(X)
    monkeypatch.setattr(module, "DIGEST_ABOVE_BYTES", 10**9)
    by_sorting = module.distinct_rows(X)
    for field in ("index", "first", "counts"):
        assert np.array_equal(getattr(by_digest, field), getattr(by_sorting, field))
    twins = np.flatnonzero((X == X[7]).all(1))
    assert list(twins) == [7]                                  # the changed row stands alone
    assert len(np.unique(by_digest.index)) == by_digest.n_distinct

    # a digest shared by different rows (never seen in practice) is caught: exact grouping anyway
    monkeypatch.setattr(module, "DIGEST_ABOVE_BYTES", 64)

    class Constant:
        def __init__(self, *args, **kwargs):
            pass

        def digest(self):
            return bytes(16)

    monkeypatch.setattr(hashlib, "blake2b", Constant)
    assert module._group_by_digest(X) is None
    collided = module.distinct_rows(X)
    for field in ("index", "first", "counts"):
        assert np.array_equal(getattr(collided, field), getattr(by_sorting, field))
