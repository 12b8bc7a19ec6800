"""Tests of clustering_engine.metrics: known answers, naive references, external packages."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from sklearn.metrics import adjusted_mutual_info_score

from clustering_engine import metrics
from clustering_engine.errors import ConfigError
from clustering_engine.metrics import (ami, ami_permutation_test, cooccurrence, data_loss_at,
                                       data_loss_curve, interpret_ami, marginal_gain, s_dbw,
                                       select_k, within_cluster_consistency)


# --------------------------------------------------------------------------------------------
# S_Dbw: naive reference, a direct transcription of DESIGN "Definitions" with plain loops
# --------------------------------------------------------------------------------------------

def naive_s_dbw(X, labels):
    X = np.asarray(X, dtype=np.float64)
    labels = np.asarray(labels)
    clusters = sorted(set(labels.tolist()) - {-1})
    c = len(clusters)
    members = {k: X[labels == k] for k in clusters}
    centre = {k: members[k].mean(axis=0) for k in clusters}
    var_norm = {k: np.linalg.norm(members[k].var(axis=0)) for k in clusters}
    S = X[labels != -1]
    scat = sum(var_norm.values()) / c / np.linalg.norm(S.var(axis=0))
    stdev = math.sqrt(sum(var_norm.values())) / c

    def density(i, j, p):
        count = 0
        for x in np.vstack([members[i], members[j]]):
            if np.linalg.norm(x - p) <= stdev:
                count += 1
        return count

    total = 0.0
    zero_pairs = 0
    for i in clusters:
        for j in clusters:
            if i == j:
                continue
            u = (centre[i] + centre[j]) / 2
            denominator = max(density(i, j, centre[i]), density(i, j, centre[j]))
            if denominator == 0:   # DESIGN: both centres empty -> the pair adds 0
                zero_pairs += 1
                continue
            total += density(i, j, u) / denominator
    dens_bw = total / (c * (c - 1))
    return scat + dens_bw, scat, dens_bw, stdev, zero_pairs // 2


def blobs(seed, n=240, d=3, k=4, noise_share=0.0, spread=2.0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=spread, size=(k, d))
    labels = rng.integers(0, k, n)
    X = centres[labels] + rng.normal(size=(n, d))
    if noise_share:
        labels[rng.random(n) < noise_share] = -1
    return X, labels


@pytest.mark.parametrize("seed,d,k,noise", [(0, 2, 3, 0.0), (1, 3, 4, 0.0), (2, 3, 5, 0.15),
                                            (3, 5, 6, 0.3), (4, 1, 2, 0.1), (5, 8, 4, 0.0)])
def test_s_dbw_equals_naive_loop(seed, d, k, noise):
    X, labels = blobs(seed, d=d, k=k, noise_share=noise, spread=1.5)
    value, diag = s_dbw(X, labels, return_diagnostics=True)
    ref, scat, dens_bw, stdev, zero_pairs = naive_s_dbw(X, labels)
    assert value == pytest.approx(ref, abs=1e-9, rel=0)
    assert diag["scat"] == pytest.approx(scat, abs=1e-9, rel=0)
    assert diag["dens_bw"] == pytest.approx(dens_bw, abs=1e-9, rel=0)
    assert diag["stdev"] == pytest.approx(stdev, abs=1e-12, rel=0)
    assert diag["n_zero_density_pairs"] == zero_pairs
    assert diag["n_clusters"] == k
    assert diag["n_noise_excluded"] == int((labels == -1).sum())
    assert diag["variant"] == "paper"


def test_s_dbw_nonzero_densities_are_exercised():
    # Guard against a vacuous comparison: the random cases above must include pairs whose
    # midpoint and centre densities are positive.
    X, labels = blobs(0, d=2, k=3, spread=1.5)
    _, _, dens_bw, _, _ = naive_s_dbw(X, labels)
    assert dens_bw > 0.1


def test_s_dbw_float32_input_and_large_offset_match_naive():
    X, labels = blobs(7, d=4, k=4, noise_share=0.1)
    X32 = X.astype(np.float32)
    assert s_dbw(X32, labels) == pytest.approx(naive_s_dbw(X32, labels)[0], abs=1e-9)
    # Far from the origin the |x|^2 - 2x.p + |p|^2 expansion cancels badly; the exact
    # re-check of near-boundary entries must keep the counts right.
    shifted = X + 1e4
    assert s_dbw(shifted, labels) == pytest.approx(naive_s_dbw(shifted, labels)[0], abs=1e-9)


def test_s_dbw_threads_do_not_change_the_result():
    X, labels = blobs(9, n=600, d=4, k=7, noise_share=0.1, spread=1.0)
    for variant in metrics.S_DBW_VARIANTS:
        one = s_dbw(X, labels, variant=variant, return_diagnostics=True, n_jobs=1)
        two = s_dbw(X, labels, variant=variant, return_diagnostics=True, n_jobs=2)
        assert one == two


def test_s_dbw_label_values_and_order_do_not_matter():
    X, labels = blobs(8, d=3, k=4, noise_share=0.1)
    relabelled = np.where(labels == -1, -1, labels * 7 + 100)
    perm = np.random.default_rng(0).permutation(len(X))
    assert s_dbw(X[perm], relabelled[perm]) == pytest.approx(s_dbw(X, labels), abs=1e-12)


def test_s_dbw_hand_computed_midpoint_density():
    # A = {0, 1, 2}, B = {3, 4, 5}: var 2/3 each, stdev = sqrt(4/3)/2 = 0.577.
    # density(v_A = 1) = 1, density(v_B = 4) = 1, density(u = 2.5) = 2 -> each ratio 2.
    # sigma(S) over 0..5 = 35/12 -> Scat = (2/3) / (35/12) = 8/35.
    X = np.arange(6, dtype=float)[:, None]
    value, diag = s_dbw(X, [0, 0, 0, 1, 1, 1], return_diagnostics=True)
    assert diag["stdev"] == pytest.approx(math.sqrt(4 / 3) / 2)
    assert diag["scat"] == pytest.approx(8 / 35)
    assert diag["dens_bw"] == pytest.approx(2.0)
    assert value == pytest.approx(8 / 35 + 2.0)
    assert diag["n_zero_density_pairs"] == 0


def test_s_dbw_hand_computed_separated_clusters():
    # A = {0, 1, 2}, B = {4, 5, 6}: the midpoint 3 is empty -> Dens_bw = 0;
    # sigma(S) = 14/3 -> Scat = (2/3) / (14/3) = 1/7.
    X = np.array([0, 1, 2, 4, 5, 6], dtype=float)[:, None]
    value = s_dbw(X, [0, 0, 0, 1, 1, 1])
    assert value == pytest.approx(1 / 7)


def test_s_dbw_zero_density_conventions():
    # A = {0, 2}, B = {10, 12}: stdev = sqrt(2)/2, nothing near either centre or the midpoint.
    value, diag = s_dbw(np.array([[0.], [2.], [10.], [12.]]), [0, 0, 1, 1],
                        return_diagnostics=True)
    assert diag["n_zero_density_pairs"] == 1
    assert diag["dens_bw"] == 0.0
    assert value == pytest.approx(1 / 26)   # sigma(S) = 26
    # A = {0, 2}, B = {3, 5}: empty centres but two points at the midpoint 2.5: the ratio is
    # undefined (2/0) and the pair adds 0, so S_Dbw is Scat alone.
    value, diag = s_dbw(np.array([[0.], [2.], [3.], [5.]]), [0, 0, 1, 1],
                        return_diagnostics=True)
    assert diag["n_zero_density_pairs"] == 1 and diag["reduced_to_scat"] is True
    assert diag["dens_bw"] == 0.0
    assert value == pytest.approx(1 / 3.25)
    assert not math.isnan(value)


def test_s_dbw_singletons_and_identical_points():
    # Singletons: variance 0 -> Scat 0, stdev 0; each point is on its own centre.
    value, diag = s_dbw(np.array([[0.], [10.]]), [0, 1], return_diagnostics=True)
    assert (value, diag["scat"], diag["dens_bw"], diag["stdev"]) == (0.0, 0.0, 0.0, 0.0)
    # All points identical: documented S_Dbw = 1 (Scat 0, every ratio 1), never NaN.
    value, diag = s_dbw(np.full((6, 3), 0.1), [0, 0, 1, 1, 2, 2], return_diagnostics=True)
    assert (value, diag["scat"], diag["dens_bw"]) == (1.0, 0.0, 1.0)


@pytest.mark.parametrize("labels", [[0, 0, 0, 0], [-1, -1, -1, -1], [5, 5, -1, -1]])
def test_s_dbw_needs_two_clusters(labels):
    with pytest.raises(ValueError, match="at least 2 clusters"):
        s_dbw(np.arange(8.).reshape(4, 2), labels)
    with pytest.raises(ConfigError):
        s_dbw(np.arange(8.).reshape(4, 2), labels)


def test_s_dbw_rejects_bad_input():
    with pytest.raises(ValueError):
        s_dbw(np.zeros((4, 2)), [0, 1, 0])
    with pytest.raises(ValueError):
        s_dbw(np.array([[0., np.nan], [1., 1.], [2., 2.]]), [0, 1, 1])
    with pytest.raises(ValueError, match="variant"):
        s_dbw(np.zeros((4, 2)), [0, 1, 0, 1], variant="tong")


@pytest.mark.parametrize("seed,d,k,noise", [(10, 2, 3, 0.0), (11, 3, 4, 0.2), (12, 5, 5, 0.1),
                                            (13, 2, 2, 0.0), (14, 3, 6, 0.3)])
def test_halkidi_package_variant_equals_s_dbw_package(seed, d, k, noise):
    from s_dbw import S_Dbw

    X, labels = blobs(seed, n=200, d=d, k=k, noise_share=noise, spread=1.5)
    ours = s_dbw(X, labels, variant="halkidi_package")
    theirs = S_Dbw(X, labels, centers_id=None, method="Halkidi", alg_noise="filter",
                   centr="mean", nearest_centr=True, metric="euclidean")
    assert ours == pytest.approx(theirs, abs=1e-9, rel=0)
    assert ours != pytest.approx(s_dbw(X, labels), abs=1e-6)   # the variants really differ


# --------------------------------------------------------------------------------------------
# AMI
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(4))
def test_ami_equals_sklearn(seed):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 5, 300)
    b = np.where(rng.random(300) < 0.4, a, rng.integers(0, 7, 300))
    assert ami(a, b) == pytest.approx(adjusted_mutual_info_score(a, b, average_method="max"),
                                      abs=1e-12)


def test_ami_known_answers():
    assert ami([0, 0, 1, 1], [5, 5, 9, 9]) == pytest.approx(1.0)
    # Table [[2, 0], [0, 2]] is perfect; a checkerboard table [[1, 1], [1, 1]] gives MI = 0,
    # below its expectation -> negative AMI.
    assert ami([0, 0, 1, 1], [0, 1, 0, 1]) < 0


def test_ami_permutation_test_matches_sklearn_null():
    rng = np.random.default_rng(3)
    a = rng.integers(0, 4, 150)
    b = np.where(rng.random(150) < 0.3, a, rng.integers(0, 5, 150))
    out = ami_permutation_test(a, b, n_permutations=60, seed=11)
    # Same permutations, scored by scikit-learn one by one.
    replay = np.random.default_rng(11)
    null = np.array([adjusted_mutual_info_score(a, b[replay.permutation(150)],
                                                average_method="max") for _ in range(60)])
    assert out["ami"] == pytest.approx(adjusted_mutual_info_score(a, b, average_method="max"),
                                       abs=1e-12)
    assert out["null_band"][0] == pytest.approx(np.percentile(null, 2.5), abs=1e-10)
    assert out["null_band"][1] == pytest.approx(np.percentile(null, 97.5), abs=1e-10)
    assert out["null_mean"] == pytest.approx(null.mean(), abs=1e-10)
    assert out["p_value"] == pytest.approx((1 + np.sum(null >= out["ami"])) / 61)
    assert (out["n_permutations"], out["seed"]) == (60, 11)


def test_ami_permutation_test_detects_dependence_and_independence():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 3, 200)
    strong = ami_permutation_test(a, a.copy(), n_permutations=99, seed=0)
    assert strong["p_value"] == pytest.approx(1 / 100)
    assert strong["null_band"][1] < 0.05 < strong["ami"]
    b = rng.integers(0, 3, 200)
    independent = ami_permutation_test(a, b, n_permutations=99, seed=0)
    assert independent["p_value"] > 0.05
    assert independent["null_band"][0] <= independent["ami"] <= independent["null_band"][1]
    assert independent == ami_permutation_test(a, b, n_permutations=99, seed=0)   # seeded


def test_ami_permutation_test_single_label_falls_back():
    out = ami_permutation_test([0, 0, 0, 0], [0, 1, 0, 1], n_permutations=5, seed=0)
    assert out["ami"] == 0.0 and out["null_band"] == (0.0, 0.0)


def test_interpret_ami_paper_examples():
    assert metrics.ami_category(0.029) == "near_zero"
    assert "joint clustering (vector-level or joint embedding) is essential" in interpret_ami(0.029)
    assert metrics.ami_category(0.166) == "moderate"
    assert "rather limited" in interpret_ami(0.166)
    assert metrics.ami_category(0.8) == "high"
    assert "label-level" in interpret_ami(0.8)
    assert metrics.ami_category(-0.01) == "near_zero"
    assert metrics.ami_category(0.05) == "moderate" and metrics.ami_category(0.5) == "high"
    with pytest.raises(ValueError):
        interpret_ami(float("nan"))


# --------------------------------------------------------------------------------------------
# Marginal gain, K selection
# --------------------------------------------------------------------------------------------

def test_marginal_gain_known_answer():
    gains = marginal_gain([9, 16, 25], [1.0, 0.3, 0.25])
    assert gains[0] is None
    assert gains[1] == pytest.approx(0.7 / 7)
    assert gains[2] == pytest.approx(0.05 / 9)


def test_marginal_gain_aligned_with_unsorted_input():
    gains = marginal_gain([25, 9, 16], [0.25, 1.0, 0.3])
    assert gains[1] is None
    assert gains[2] == pytest.approx(0.1)
    assert gains[0] == pytest.approx(0.05 / 9)


def test_select_k():
    ks = [9, 16, 25, 36]
    assert select_k(ks, [1.0, 0.3, 0.25, 0.24]) == 25           # 0.0056 < 0.01
    assert select_k(ks, [1.0, 0.3, 0.25, 0.24], threshold=0.005) == 36   # 0.0009 < 0.005
    assert select_k(ks, [1.0, 0.5, 0.0, 1.0], threshold=0.01) == 36     # none: last K
    assert select_k([36, 9, 25, 16], [0.24, 1.0, 0.25, 0.3]) == 25      # unsorted grid
    assert select_k([16], [0.3]) == 16
    # Strictly below: a gain equal to the threshold does not count (0.07/7 == 0.01).
    assert select_k([9, 16, 25], [1.0, 0.93, 0.0], threshold=0.01 + 1e-15) == 16
    assert select_k([10, 20], [1.0, 0.9], threshold=0.01) == 20


@pytest.mark.parametrize("ks,scores", [([9, 9], [1.0, 2.0]), ([9, 16], [1.0]),
                                       ([9, 16], [1.0, float("nan")]), ([9, 16], [1.0, None]),
                                       ([], []), ([9.5, 16], [1.0, 2.0])])
def test_marginal_gain_validation(ks, scores):
    with pytest.raises(ValueError):
        marginal_gain(ks, scores)
    with pytest.raises(ValueError):
        select_k(ks, scores)


# --------------------------------------------------------------------------------------------
# Data loss
# --------------------------------------------------------------------------------------------

def test_data_loss_known_answer():
    labels = [0, 0, 0, 1, 1, 2, -1, -1]   # sizes 3, 2, 1 and two noise pairs
    np.testing.assert_allclose(data_loss_curve(labels), [5 / 8, 3 / 8, 2 / 8])
    assert data_loss_at(labels, 1) == pytest.approx(5 / 8)
    assert data_loss_at(labels, 3) == pytest.approx(2 / 8)
    assert data_loss_at(labels, 25) == pytest.approx(2 / 8)   # beyond: all clusters kept
    assert data_loss_at(labels, 0) == 1.0
    np.testing.assert_array_equal(data_loss_curve([4, 4, 7]), [1 / 3, 0.0])
    np.testing.assert_array_equal(data_loss_curve([-1, -1]), [1.0])
    with pytest.raises(ValueError):
        data_loss_at(labels, -1)
    with pytest.raises(ValueError):
        data_loss_curve([])


# --------------------------------------------------------------------------------------------
# Co-occurrence
# --------------------------------------------------------------------------------------------

def test_cooccurrence_known_answer():
    text = [0, 0, 1, 1, 2, 2, 2]
    image = [1, 1, 0, 0, 0, 2, 2]
    co = cooccurrence(text, image)
    np.testing.assert_array_equal(co.counts, [[0, 2, 0], [2, 0, 0], [1, 0, 2]])
    np.testing.assert_allclose(co.proportions, co.counts / 7)
    np.testing.assert_array_equal(co.column_order, [1, 0, 2])
    np.testing.assert_allclose(np.diag(co.permuted), [2 / 7, 2 / 7, 2 / 7])
    assert co.permuted_col_labels.tolist() == [1, 0, 2]
    assert co.to_dict()["column_order"] == [1, 0, 2]


def brute_force_best(P):
    rows, cols = P.shape
    if rows <= cols:
        return max(sum(P[r, perm[r]] for r in range(rows))
                   for perm in itertools.permutations(range(cols), rows))
    return max(sum(P[perm[c], c] for c in range(cols))
               for perm in itertools.permutations(range(rows), cols))


@pytest.mark.parametrize("shape", [(3, 5), (4, 4), (2, 6), (5, 3), (6, 2)])
def test_cooccurrence_hungarian_is_optimal(shape):
    rng = np.random.default_rng(sum(shape))
    for trial in range(5):
        t = rng.integers(0, shape[0], 400)
        i = rng.integers(0, shape[1], 400)
        t[:shape[0]] = np.arange(shape[0])   # every label present
        i[:shape[1]] = np.arange(shape[1])
        co = cooccurrence(t, i)
        best = brute_force_best(co.proportions)
        assert co.matched_total == pytest.approx(best, abs=1e-12)
        assert sorted(co.column_order.tolist()) == list(range(shape[1]))
        np.testing.assert_array_equal(co.permuted, co.proportions[:, co.column_order])
        if shape[0] <= shape[1]:
            # Wide: the permuted diagonal is the matching, so its trace is maximal.
            assert np.trace(co.permuted) == pytest.approx(best, abs=1e-12)
            # Unmatched columns come last, in label order.
            tail = co.column_order[shape[0]:].tolist()
            assert tail == sorted(tail)
        else:
            # Tall: matched columns are ordered by the row they match.
            assert co.matched_rows.tolist() == sorted(co.matched_rows.tolist())


# --------------------------------------------------------------------------------------------
# Within-cluster consistency
# --------------------------------------------------------------------------------------------

def test_within_cluster_consistency():
    assert within_cluster_consistency(["a", "a", "b", None, "", " a ", float("nan")]) == 0.75
    assert within_cluster_consistency(["x", "y"]) == 0.5            # tie: same share
    assert within_cluster_consistency(["x"] * 10) == 1.0
    assert within_cluster_consistency(["A", "a"]) == 0.5            # case-sensitive
    with pytest.raises(ValueError):
        within_cluster_consistency([None, " "])


def test_boundary_decisions_equal_the_direct_difference():
    # Lattice points at distance ~0.5 from the centre ((0.3, 0.4), (0.5, 0), ...) sit on the
    # boundary. Far from the origin the expansion |x|^2 - 2x.p + |p|^2 decides some of them
    # differently from sum((x - p)^2) (checked below); the re-check must restore the latter.
    grid = np.array([(x, y) for x in range(-6, 7) for y in range(-6, 7)], dtype=float) * 0.1
    fast_path_disagreed = False
    for offset in (0.0, 1234.5678, 3e6 + 0.7):
        pts = grid + offset
        centre = np.array([[offset, offset]])
        centre_sq = np.einsum("ij,ij->i", centre, centre)
        direct = int(np.sum(np.sum((pts - centre) ** 2, axis=1) <= 0.25))
        # Unshifted (huge norms: every entry unsure), shifted, and with many centres so
        # that the float64 tier settles the block before the direct re-check.
        assert metrics._count_within(pts, centre, 0.25).tolist() == [direct]
        assert metrics._count_within(pts, centre, 0.25, centre[0]).tolist() == [direct]
        many = np.repeat(centre, 12, axis=0)
        assert metrics._count_within(pts, many, 0.25).tolist() == [direct] * 12
        expansion = int(np.sum(np.einsum("ij,ij->i", pts, pts) - 2 * pts @ centre[0]
                               + centre_sq[0] <= 0.25))
        fast_path_disagreed |= expansion != direct
    assert fast_path_disagreed


def test_select_k_says_when_the_threshold_was_never_met():
    from clustering_engine.metrics import select_k, select_k_detail
    from clustering_engine.spec import K_THRESHOLD_NEVER_MET, k_choice_flag

    assert select_k_detail([9, 16, 25], [1.0, 0.8, 0.6]) == (25, False)
    assert select_k([9, 16, 25], [1.0, 0.8, 0.6]) == 25
    assert not select_k_detail([9, 16, 25], [1.0, 0.8, 0.6])[1]
    assert select_k_detail([9, 16, 25], [1.0, 0.99, 0.6]) == (16, True)
    assert k_choice_flag({"chosen_k": 25, "threshold_met": False}) == K_THRESHOLD_NEVER_MET
    assert k_choice_flag({"chosen_k": 16, "threshold_met": True}) == ""
