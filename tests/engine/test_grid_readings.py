"""The grid's readings: AMI options and noise, the S_Dbw matrix over every method's space, K
chosen in each method's own space, text and image as methods, known groupings, the cca
method (small synthetic data, PCA, tiny K grid: fast)."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import adjusted_mutual_info_score, adjusted_rand_score

from clustering_engine import metrics, spec
from clustering_engine.errors import ConfigError
from clustering_engine.grid import GridConfig, run_grid
from clustering_engine.reduce import ReductionConfig

N = 160
PCA = ReductionConfig(method="pca", n_components=5)


def _data(seed=0):
    """Text carries the event (4 groups); images carry an unrelated theme (3 groups)."""
    rng = np.random.default_rng(seed)
    event = rng.integers(0, 4, N)
    theme = rng.integers(0, 3, N)
    text = rng.normal(size=(N, 16)) + 3.0 * np.eye(16)[event]
    image = rng.normal(size=(N, 12)) + 3.0 * np.eye(12)[theme]
    return text, image, event


def _config(**kw):
    base = dict(methods=("text", "image", "label", "vector"), ks=(4, 9, 16),
                algorithms=("kmeans",), reduction=PCA, ami_permutations=9)
    return GridConfig(**{**base, **kw})


@pytest.fixture(scope="module")
def grid():
    text, image, event = _data()
    return run_grid(text, image, None, _config(), truth=[f"event {e}" for e in event])


def test_text_and_image_are_methods_with_their_own_solutions(grid):
    ids = {s.id for s in grid.solutions}
    assert {"text-kmeans-k4", "text-kmeans-k16", "image-kmeans-k9", "label-kmeans-k16"} <= ids
    by_id = {s.id: s for s in grid.solutions}
    assert by_id["text-kmeans-k9"].method == "text" and by_id["text-kmeans-k9"].space == "text"
    # label 16 = 4 x 4 reuses the grid's text and image K=4 solutions (same labels).
    label = by_id["label-kmeans-k16"]
    assert label.parts == ("text-kmeans-k4", "image-kmeans-k4")
    assert not {s.id for s in grid.modality_solutions} & ids
    selected = {v["method"] for v in grid.k_selection.values() if v["selects_k"]}
    assert {"text", "image"} <= selected


def test_every_solution_is_scored_in_every_methods_space(grid):
    assert grid.score_spaces == ("text", "image", "label", "vector")
    X = {name: grid.spaces[name] for name in grid.score_spaces}
    assert X["label"].shape[1] == X["text"].shape[1] + X["image"].shape[1]
    for s in grid.solutions:
        row = s.metrics["s_dbw_by_space"]
        assert set(row) == set(grid.score_spaces)
        assert s.metrics["own_space"] == s.space and s.metrics["s_dbw_own"] == row[s.space]
        assert row["image"] == pytest.approx(metrics.s_dbw(X["image"], s.labels))
    # Text-only clusters recover the text structure: they score best in the text space and
    # worse than image-only clusters in the image space.
    by_id = {s.id: s for s in grid.solutions}
    text4, image4 = by_id["text-kmeans-k4"].metrics, by_id["image-kmeans-k4"].metrics
    assert text4["s_dbw_by_space"]["text"] < image4["s_dbw_by_space"]["text"]
    assert image4["s_dbw_by_space"]["image"] < text4["s_dbw_by_space"]["image"]


def test_k_is_chosen_in_each_methods_own_space(grid):
    for method in ("text", "image", "label", "vector"):
        entries = [v for v in grid.k_selection.values()
                   if v["method"] == method and v["selects_k"]]
        assert len(entries) == 1 and entries[0]["space"] == method and entries[0]["own"]
        assert entries[0]["chosen_k"] == metrics.select_k(entries[0]["ks"], entries[0]["s_dbw"])
    chosen = spec.chosen_solutions(grid.k_selection)
    assert set(chosen) == {"text", "image", "label", "vector"}
    entry = grid.k_selection["label-kmeans-label"]
    assert entry["s_dbw_rose"] == metrics.s_dbw_rose(entry["ks"], entry["s_dbw"])
    assert len(entry["reduced_to_scat"]) == len(entry["ks"])


def test_ami_diagnostic_uses_the_papers_formula_and_records_it(grid):
    by_id = {s.id: s for s in grid.solutions + grid.modality_solutions}
    row = next(r for r in grid.ami_diagnostic if (r["k_text"], r["k_image"]) == (3, 3))
    text, image = by_id[row["text_solution"]].labels, by_id[row["image_solution"]].labels
    assert row["average_method"] == "max" and row["noise"] == "exclude"
    assert row["ami"] == pytest.approx(adjusted_mutual_info_score(text, image,
                                                                  average_method="max"))
    assert row["share_left_out"] == 0.0
    assert "project's own convention" in row["reading"] and "permutation null" in row["reading"]
    text_, image_, _ = _data()
    arithmetic = run_grid(text_, image_, None, _config(ami_normalisation="arithmetic",
                                                       methods=("label",), ks=(9,)))
    assert arithmetic.ami_diagnostic[0]["average_method"] == "arithmetic"
    assert arithmetic.ami_diagnostic[0]["ami"] == pytest.approx(
        adjusted_mutual_info_score(text, image, average_method="arithmetic"))
    with pytest.raises(ConfigError, match="AMI normalisation"):
        _config(ami_normalisation="mean")


def test_ami_text_image_leaves_hdbscan_noise_out():
    text, image, _ = _data(1)
    result = run_grid(text, image, None, _config(methods=("label",), ks=(4,),
                                                 algorithms=("hdbscan",)))
    row = result.ami_diagnostic[0]
    by_id = {s.id: s for s in result.solutions + result.modality_solutions}
    t, i = by_id[row["text_solution"]].labels, by_id[row["image_solution"]].labels
    noise = (t < 0) | (i < 0)
    assert noise.any()                                    # the test needs some noise
    assert row["share_left_out"] == pytest.approx(noise.mean(), abs=1e-6)
    if (~noise).sum():
        assert row["ami"] == pytest.approx(adjusted_mutual_info_score(
            t[~noise], i[~noise], average_method="max"))
    label = result.solutions[0].metrics
    assert label["ami_text_image_share_left_out"] == pytest.approx(noise.mean(), abs=1e-6)


def test_known_groupings_are_scored_and_never_clustered_on(grid):
    text, image, event = _data()
    without = run_grid(text, image, None, _config())
    for a, b in zip(grid.solutions, without.solutions):
        assert a.id == b.id and np.array_equal(a.labels, b.labels)
        assert "truth" not in b.metrics
        truth = a.metrics["truth"]
        assert truth["ari"] == pytest.approx(adjusted_rand_score(event, a.labels))
        assert truth["ami"] == pytest.approx(adjusted_mutual_info_score(
            event, a.labels, average_method="max"))
        assert 0 <= truth["homogeneity"] <= 1 and 0 <= truth["completeness"] <= 1
    by_id = {s.id: s.metrics["truth"]["ami"] for s in grid.solutions}
    assert by_id["text-kmeans-k4"] > 0.8 > 0.2 > by_id["image-kmeans-k4"]   # text has the events


def test_known_groupings_leave_noise_and_missing_values_out():
    truth = ["a", "a", "b", "b", None, "  ", "b", float("nan")]
    labels = np.array([0, 0, 1, 1, 1, 0, -1, 1])
    out = metrics.agreement_with_truth(truth, labels)
    assert (out["n_used"], out["n_left_out"]) == (4, 4) and out["share_left_out"] == 0.5
    assert out["ami"] == pytest.approx(1.0) and out["ari"] == pytest.approx(1.0)


def test_label_level_on_raw_vectors_as_the_paper():
    text, image, _ = _data()
    result = run_grid(text, image, None, _config(methods=("label",), ks=(9,),
                                                 label_space="raw"))
    label = result.solutions[0]
    assert label.parts == ("text_raw-kmeans-k3", "image_raw-kmeans-k3")
    assert result.spaces["label"].shape[1] == text.shape[1] + image.shape[1]
    assert label.metrics["own_space"] == "label"


def test_cca_is_its_own_method_and_joint_needs_a_multimodal_model():
    text, image, _ = _data()
    with pytest.raises(ConfigError, match="pretrained multimodal model.*`cca`"):
        run_grid(text, image, None, _config(methods=("joint",)))
    cca = np.hstack([text[:, :4], image[:, :4]])
    result = run_grid(text, image, None, _config(methods=("cca",), ks=(4,)), cca=cca)
    assert [s.id for s in result.solutions] == ["cca-kmeans-k4"]
    assert result.solutions[0].space == "cca"
    assert spec.runnable_methods(("label", "joint"), "rcca") == (
        ("label", "cca"), ["`joint` with the offline rcca space is now the `cca` method."])
