"""Known answers: within-cluster consistency (ties, uncoded posts), Wilson intervals, the chance
baseline and the per-solution mean with its interval."""
import numpy as np
import pytest

from scoring.services.consistency import (cluster_means, cluster_scores, expected_modal_share,
                                          mean_interval, solution_scores, wilson_interval)

from .frames import codes_frame


@pytest.mark.parametrize("k, n, low, high", [
    (7, 10, 0.3968, 0.8922),    # the paper's example: 7 of 10 posts share the modal theme
    (10, 10, 0.7225, 1.0),
    (0, 10, 0.0, 0.2775),
    (5, 10, 0.2366, 0.7634),
])
def test_wilson_interval_known_values(k, n, low, high):
    got_low, got_high = wilson_interval(k, n)
    assert got_low == pytest.approx(low, abs=5e-5) and got_high == pytest.approx(high, abs=5e-5)


def test_wilson_interval_empty():
    assert wilson_interval(0, 0) == (None, None)


def test_consistency_known_answers_with_ties_and_uncoded_posts():
    codes = codes_frame({
        (0, 1): [1, 1, 1, 1, 1, 1, 1, 2, 3, 2],             # 7/10
        (1, 1): [1, 1, 1, 1, 2, 2, 2, 2, 3, 3],             # tie 4-4: 0.4, two modal themes
        (2, 1): [5, 5, 6, None, None, 5, 6, 6, 5, None],    # 4/7: uncoded posts excluded
        (3, 1): [9] * 10,                                   # 1.0
    })
    scores = cluster_scores(codes).set_index("cluster_label")
    assert scores["consistency"].tolist() == pytest.approx([0.7, 0.4, 4 / 7, 1.0])
    assert scores["n_coded"].tolist() == [10, 10, 7, 10]
    assert scores["n_modal"].tolist() == [7, 4, 4, 10]
    assert scores.loc[1, "n_modal_themes"] == 2
    assert scores.loc[1, "modal_theme"] == "theme 1 | theme 2"
    assert scores.loc[0, "modal_theme"] == "theme 1" and scores.loc[0, "n_modal_themes"] == 1
    assert scores.loc[0, "wilson_low"] == pytest.approx(0.3968, abs=5e-5)
    assert scores.loc[2, "posts_in_sample"] == 10     # sampled; n_coded says what counted


def test_chance_baseline_closed_form():
    rng = np.random.default_rng(0)
    # pool A,A,B,B and n = 2: P(same pair) = 2/6 -> E[modal share] = (2 * 1 + 4 * 0.5) / 6
    assert expected_modal_share(np.array([1, 1, 2, 2]), 2, rng) == pytest.approx(4 / 6, abs=0.03)
    assert expected_modal_share(np.array([4] * 8), 5, rng) == 1.0
    assert expected_modal_share(np.array([1, 2, 3, 4]), 4, rng) == 0.25


def test_chance_baseline_is_seeded_and_below_a_coherent_clustering():
    codes = codes_frame({(c, 1): [c] * 10 for c in range(5)})      # perfectly coherent
    first, second = cluster_scores(codes), cluster_scores(codes)
    assert first["chance_baseline"].tolist() == second["chance_baseline"].tolist()
    assert (first["consistency"] == 1.0).all()
    assert (first["chance_baseline"] < 0.5).all()


def test_mean_interval_known_values():
    mean, low, high = mean_interval([0.7, 0.9, 0.5])
    # t(0.975, 2) = 4.302653; sd = 0.2
    assert mean == pytest.approx(0.7)
    assert low == pytest.approx(0.7 - 4.302653 * 0.2 / np.sqrt(3), abs=1e-6)
    assert high == 1.0                                                # clipped
    assert mean_interval([0.5]) == (0.5, None, None)
    assert mean_interval([]) == (None, None, None)


def test_solution_mean_averages_coders_within_a_cluster_first():
    codes = codes_frame({
        (0, 1): [1] * 10,                       # coder 1: 1.0
        (0, 2): [1] * 5 + [2] * 3 + [3] * 2,    # coder 2 on the same cluster: 0.5
        (1, 1): [1] * 6 + [2] * 4,              # 0.6
    })
    per_cluster = cluster_means(cluster_scores(codes)).set_index("cluster_label")
    assert per_cluster.loc[0, "consistency"] == pytest.approx(0.75)
    assert per_cluster.loc[0, "n_coders"] == 2
    solution = solution_scores(cluster_scores(codes)).iloc[0]
    assert solution["mean"] == pytest.approx((0.75 + 0.6) / 2)
    assert solution["n_clusters"] == 2


def test_no_codes_give_empty_tables():
    codes = codes_frame({(0, 1): [None, None]})
    assert cluster_scores(codes).empty and solution_scores(cluster_scores(codes)).empty


def test_solutions_without_k_are_scored():
    """Plain HDBSCAN picks its own K: k is None and must not drop the rows."""
    codes = codes_frame({(0, 1): [1, 1, 2], (1, 1): [3, 3, 3]}, solution="joint-hdbscan")
    codes["k"] = None
    solution = solution_scores(cluster_scores(codes))
    assert len(solution) == 1 and solution.iloc[0]["mean"] == pytest.approx((2 / 3 + 1) / 2)
