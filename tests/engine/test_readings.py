"""Readings a social scientist can cite: AMI in the paper's direction and with its Eq. (1),
noise left out of AMI, S_Dbw's zero-density pairs, and steps where S_Dbw got worse."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import adjusted_mutual_info_score

from clustering_engine import metrics


# ------------------------------------------------------------------ AMI reading (paper's direction)

def test_reading_of_bu_nemo_value_follows_the_paper():
    reading = metrics.interpret_ami(0.166)
    assert "rather limited" in reading          # the paper's words for BU-NEmo at 5x5
    assert "still recommended" not in reading
    assert "0.029" in reading and "0.166" in reading   # both reference points
    assert "project's own convention" in reading       # the band is ours, and says so


def test_reading_of_casm_value_says_joint_is_essential():
    reading = metrics.interpret_ami(0.029)
    assert "essential" in reading and "CASM" in reading


def test_readings_never_say_more_for_joint_as_ami_rises():
    # Each reading ranks what joint clustering adds: a higher AMI never reads as adding more.
    values = [0.0, 0.01, 0.029, 0.05, 0.1, 0.166, 0.3, 0.5, 0.8, 1.0]
    ranks = [metrics.joint_clustering_value(v)["rank"] for v in values]
    assert ranks == sorted(ranks, reverse=True)
    assert metrics.joint_clustering_value(0.9)["rank"] < metrics.joint_clustering_value(0.02)["rank"]


def test_reading_places_the_value_against_the_permutation_null():
    inside = metrics.interpret_ami(0.004, null_band=(-0.006, 0.008), p_value=0.21)
    assert "within" in inside and "permutation null" in inside
    above = metrics.interpret_ami(0.12, null_band=(-0.006, 0.008), p_value=0.005)
    assert "above" in above and "permutation null" in above and "0.005" in above


# ------------------------------------------------------------------ AMI normalisation (Eq. 1)

def test_ami_default_is_the_papers_max_normalisation():
    rng = np.random.default_rng(4)
    text = rng.integers(0, 3, 600)                       # K_t = 3
    image = (text * 3 + rng.integers(0, 3, 600)) % 9    # K_i = 9, related to text
    paper = adjusted_mutual_info_score(text, image, average_method="max")
    arithmetic = adjusted_mutual_info_score(text, image, average_method="arithmetic")
    assert arithmetic - paper > 0.05                     # the two differ when K_t != K_i
    assert metrics.ami(text, image) == pytest.approx(paper)
    assert metrics.ami(text, image, average_method="arithmetic") == pytest.approx(arithmetic)
    test = metrics.ami_permutation_test(text, image, n_permutations=20)
    assert test["ami"] == pytest.approx(paper)
    assert test["average_method"] == "max"


# ------------------------------------------------------------------ noise left out of AMI

def _independent_with_shared_noise(n=5000, noise_share=0.6, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 5, n)
    b = rng.integers(0, 5, n)
    noise = rng.random(n) < noise_share
    a[noise] = -1
    b[noise] = -1
    return a, b


def test_shared_noise_no_longer_reads_as_agreement():
    a, b = _independent_with_shared_noise()
    assert adjusted_mutual_info_score(a, b) > 0.45       # noise as a category: 0.51
    assert abs(metrics.ami(a, b)) < 0.01
    assert metrics.ami(a, b, noise="category", average_method="arithmetic") == pytest.approx(
        adjusted_mutual_info_score(a, b))
    test = metrics.ami_permutation_test(a, b, n_permutations=20)
    assert abs(test["ami"]) < 0.01
    assert test["n_left_out"] == int(((a < 0) | (b < 0)).sum())
    assert test["share_left_out"] == pytest.approx(((a < 0) | (b < 0)).mean())
    assert test["p_value"] > 0.05


def test_noise_in_either_labelling_is_left_out():
    a = np.array([0, 0, 1, 1, -1, 2, 2, 0])
    b = np.array([5, 5, 6, 6, 7, -1, 8, 5])
    keep = (a >= 0) & (b >= 0)
    assert metrics.ami(a, b) == pytest.approx(
        adjusted_mutual_info_score(a[keep], b[keep], average_method="max"))
    assert metrics.noise_left_out(a, b) == (2, pytest.approx(0.25))


def test_ami_when_everything_is_noise_is_undefined_not_a_number_reading():
    a = np.full(10, -1)
    test = metrics.ami_permutation_test(a, np.arange(10) % 2, n_permutations=5)
    assert test["ami"] is None and test["share_left_out"] == 1.0


# ------------------------------------------------------------------ S_Dbw: both centres empty

def _empty_centres_full_midpoint(m=500):
    """Cluster A: m points at x=-1 and m at x=+1 (mean 0, empty); cluster B: m at +1 and m at
    +3 (mean 2, empty). The midpoint x=1 holds 2m points; stdev = sqrt(2)/2 < 1."""
    X = np.concatenate([np.full(m, -1.0), np.full(m, 1.0), np.full(m, 1.0), np.full(m, 3.0)])
    X = np.column_stack([X, np.zeros_like(X)])
    labels = np.repeat([0, 0, 1, 1], m)
    return X, labels


def test_pair_with_both_centre_densities_zero_adds_nothing():
    X, labels = _empty_centres_full_midpoint()
    value, diag = metrics.s_dbw(X, labels, return_diagnostics=True)
    assert diag["scat"] == pytest.approx(0.5)
    assert diag["dens_bw"] == 0.0
    assert value == pytest.approx(0.5)                   # was 1000.5, growing with n
    assert diag["n_zero_density_pairs"] == 1
    assert diag["reduced_to_scat"] is True
    small, _ = metrics.s_dbw(*_empty_centres_full_midpoint(50), return_diagnostics=True)
    assert small == pytest.approx(value)                 # no longer grows with n


def test_reduced_to_scat_only_when_most_pairs_have_zero_density():
    rng = np.random.default_rng(1)
    centres = np.array([[0, 0], [3, 0], [0, 3]], dtype=float)
    X = np.vstack([c + rng.normal(0, 0.8, (200, 2)) for c in centres])
    labels = np.repeat([0, 1, 2], 200)
    _, diag = metrics.s_dbw(X, labels, return_diagnostics=True)
    assert diag["n_zero_density_pairs"] == 0 and diag["reduced_to_scat"] is False
    assert metrics.s_dbw_reading(diag) is None
    X, labels = _empty_centres_full_midpoint(20)
    _, diag = metrics.s_dbw(X, labels, return_diagnostics=True)
    assert "reduced to Scat" in metrics.s_dbw_reading(diag)


# ------------------------------------------------------------------ marginal gain: worse steps

def test_steps_where_s_dbw_rose_are_flagged():
    ks = [9, 16, 25, 36, 49]
    scores = [1.20, 1.02, 0.881, 0.970, 0.960]          # label-level on the set kept aside
    gains = metrics.marginal_gain(ks, scores)
    assert metrics.select_k(ks, scores) == 36            # the paper's rule, kept
    assert gains[3] == pytest.approx(0.089 / 11)
    assert metrics.s_dbw_rose(ks, scores) == [None, False, False, True, False]
    # Aligned with the input order, like marginal_gain.
    assert metrics.s_dbw_rose([36, 25, 9], [0.970, 0.881, 1.2]) == [True, False, None]


def test_marginal_gain_figure_marks_steps_where_s_dbw_rose():
    from clustering_engine import figures

    fig = figures.plot_marginal_gain({"label (kmeans)": [(9, None), (16, 0.02), (25, 0.015),
                                                         (36, 0.0081)]},
                                     0.01, {"label (kmeans)": 36}, rose={"label (kmeans)": [36]})
    ax = fig.axes[0]
    crosses = [line for line in ax.lines if line.get_label() == "S_Dbw rose at this K"]
    assert len(crosses) == 1 and list(crosses[0].get_xdata()) == [36]
    assert "got worse" in ax.get_title()
