"""Pairwise comparisons of solutions: the observed means are the page's, the bootstrap matches a
design small enough to enumerate by hand, Holm's adjustment matches the hand computation."""
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from scoring.services import consistency
from scoring.services.solution_comparisons import (consistency_comparisons, holm,
                                                   intrusion_comparisons, ranking)


def _scores(rows):
    """rows: (solution, sample, coder, consistency) -> a cluster_scores-shaped frame."""
    return pd.DataFrame([{"solution_id": s, "solution_pk": hash(s) % 97, "run_id": 1,
                          "method": s.split("-")[0], "algorithm": "kmeans", "k": 4,
                          "round_id": 1, "sample_pk": pk, "cluster_sample": f"C{pk}",
                          "cluster_label": pk, "pass": "text", "coder": c, "consistency": v,
                          "chance_baseline": 0.3} for s, pk, c, v in rows])


def test_observed_means_are_the_pages_solution_means():
    rows = [("label-kmeans-k4", 1, "coder_1", 0.6), ("label-kmeans-k4", 1, "coder_2", 0.8),
            ("label-kmeans-k4", 2, "coder_1", 1.0), ("vector-kmeans-k4", 3, "coder_2", 0.3),
            ("vector-kmeans-k4", 4, "coder_1", 0.5), ("vector-kmeans-k4", 4, "coder_2", 0.7)]
    scores = _scores(rows)
    page = consistency.solution_scores(scores).set_index("solution_id")["mean"]
    row = consistency_comparisons(scores, replicates=200).iloc[0]
    assert row["mean_a"] == pytest.approx(page[row["solution_a"]], abs=1e-12)
    assert row["mean_b"] == pytest.approx(page[row["solution_b"]], abs=1e-12)
    assert row["difference"] == pytest.approx(0.85 - 0.45)   # (0.7 + 1.0)/2 - (0.3 + 0.6)/2


def test_one_coder_matches_the_hand_computed_two_sample_t():
    # A: clusters 0.6, 0.8, 1.0; B: 0.2, 0.4, 0.3 (one coder). The bootstrap variance of each mean
    # is the population variance / n; scaled by n/(n-1) it is s²/n, so SE = sqrt(sA²/3 + sB²/3)
    # = sqrt(0.04/3 + 0.01/3), t with 2 degrees of freedom.
    rows = [("a", 1, "coder_1", 0.6), ("a", 2, "coder_1", 0.8), ("a", 5, "coder_1", 1.0),
            ("b", 3, "coder_1", 0.2), ("b", 4, "coder_1", 0.4), ("b", 6, "coder_1", 0.3)]
    row = consistency_comparisons(_scores(rows), replicates=40000, seed=1).iloc[0]
    se = math.sqrt(0.04 / 3 + 0.01 / 3)
    t = stats.t.ppf(0.975, 2)
    assert row["difference"] == pytest.approx(0.5)
    assert (row["ci_high"] - row["ci_low"]) / 2 == pytest.approx(t * se, rel=0.02)
    assert row["p_value"] == pytest.approx(2 * stats.t.sf(0.5 / se, 2), rel=0.05)


def test_same_seed_same_numbers_and_no_difference_is_not_distinguishable():
    rng = np.random.default_rng(0)
    rows = [(s, pk, f"coder_{c}", float(rng.integers(4, 11)) / 10)
            for s, base in (("a", 0), ("b", 100), ("c", 200))
            for pk in range(base, base + 12) for c in (1, 2)]
    first = consistency_comparisons(_scores(rows), replicates=500, seed=3)
    again = consistency_comparisons(_scores(rows), replicates=500, seed=3)
    pd.testing.assert_frame_equal(first, again)
    assert len(first) == 3 and set(first["p_holm"] >= first["p_value"]) == {True}


def test_holm_matches_the_hand_computation():
    # sorted 0.01, 0.03, 0.04 -> 0.03, 0.06, max(0.06, 0.04) = 0.06
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([None, 0.02]) == [None, pytest.approx(0.02)]


def test_intrusion_difference_is_in_the_pages_precision_and_ranking_says_what_is_distinct():
    answers = pd.DataFrame(
        [{"solution_id": "a", "kind": "text", "task": f"Qa{t}", "coder": f"coder_{c}",
          "correct": t % 10 != 0} for t in range(30) for c in (1, 2)]
        + [{"solution_id": "b", "kind": "text", "task": f"Qb{t}", "coder": f"coder_{c}",
            "correct": t % 2 == 0} for t in range(30) for c in (1, 2)])
    row = intrusion_comparisons(answers, replicates=1000).iloc[0]
    assert row["mean_a"] == pytest.approx(27 / 30) and row["mean_b"] == pytest.approx(0.5)
    assert row["distinguishable"] and row["ci_low"] > 0
    ranked = ranking(intrusion_comparisons(answers, replicates=1000), "intrusion precision")
    assert ranked["solution_id"].tolist() == ["a", "b"]
    assert ranked.iloc[0]["better_than"] == "b" and ranked.iloc[1]["better_than"] == ""


def test_the_planner_follows_the_design_and_matches_its_closed_form():
    import math

    from scipy import stats

    from scoring.services.round_planning import Design, plan

    small = plan(Design(clusters_per_solution=10, coders=3))
    large = plan(Design(clusters_per_solution=40, coders=3))
    assert large["half_width"] < small["half_width"]
    more_coders = plan(Design(clusters_per_solution=10, coders=3, overlap_full=True))
    assert more_coders["half_width"] < small["half_width"]
    d = Design(clusters_per_solution=25, posts_per_cluster=10, coders=1, calibration_clusters=0)
    se = math.sqrt((0.15 ** 2 + 0.05 ** 2 + 0.6 * 0.4 / 10) / 25)
    assert plan(d)["half_width"] == pytest.approx(stats.t.ppf(0.975, 24) * se)
    assert plan(d)["detectable_difference"] == pytest.approx(
        (stats.t.ppf(0.975, 24) + stats.t.ppf(0.8, 24)) * math.sqrt(2) * se)


def test_plan_round_prints_the_figures():
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("plan_round", "--clusters-per-solution", "25", "--coders", "3", stdout=out)
    text = out.getvalue()
    assert "± 0.0" in text and "80 % power" in text and "calibration set" in text


def test_every_score_table_names_the_space_of_its_s_dbw():
    """No column says "common" (a name the design forbids): S_Dbw says which space it is in,
    the same words on the comparison and the intrusion tables."""
    from scoring.services.table_columns import COMPARISON, INTRUSION_METRICS

    for column in [*COMPARISON, *INTRUSION_METRICS]:
        assert "common" not in column.label.lower(), column.label
        if column.name.startswith("s_dbw"):
            assert "space" in column.label, column.label
    ami = next(c for c in INTRUSION_METRICS if c.name == "ami_text_image")
    assert "K_t × K_i" in ami.note and "HDBSCAN" in ami.note
