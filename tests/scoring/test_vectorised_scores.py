"""The vectorised scores (all groups at once, for rounds of 100 coders) equal their one-group
definitions: consistency = within_cluster_consistency of the coder's themes, ties listed by
modal_themes, Wilson interval per group; percent agreement = share of agreeing coder pairs."""
from itertools import combinations

import numpy as np
import pandas as pd
import pytest

from clustering_engine.metrics import within_cluster_consistency
from scoring.services.consistency import cluster_scores, modal_themes, wilson_interval
from scoring.services.reliability import percent_agreement

from .frames import codes_frame


@pytest.fixture
def random_codes():
    rng = np.random.default_rng(5)
    frames = []
    for solution_pk, k in ((1, 25), (2, None)):     # plain HDBSCAN: no K (NaN key)
        clusters = {(label, coder): [None if rng.random() < 0.1 else int(rng.integers(1, 4))
                                     for _ in range(int(rng.integers(3, 9)))]
                    for label in range(12) for coder in rng.choice(8, 3, replace=False)}
        frame = codes_frame(clusters, solution=f"vector-x-{solution_pk}", solution_pk=solution_pk,
                            pass_name=("text", "joint")[solution_pk - 1])
        frame["k"] = k
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def test_cluster_scores_match_the_per_group_definition(random_codes):
    scores = cluster_scores(random_codes)
    coded = random_codes[random_codes["theme_merged_id"].notna()]
    groups = coded.groupby(["sample_pk", "pass", "coder_id"])
    assert len(scores) == groups.ngroups
    for _, row in scores.iterrows():
        themes = [int(t) for t in groups.get_group(
            (row["sample_pk"], row["pass"], row["coder_id"]))["theme_merged_id"]]
        tied, top = modal_themes(themes)
        assert row["consistency"] == pytest.approx(within_cluster_consistency(themes))
        assert (row["n_coded"], row["n_modal"], row["n_modal_themes"]) == (len(themes), top,
                                                                          len(tied))
        assert row["modal_theme"] == " | ".join(sorted(f"theme {t}" for t in tied))
        low, high = wilson_interval(top, len(themes))
        assert (row["wilson_low"], row["wilson_high"]) == (pytest.approx(low), pytest.approx(high))
    assert scores["k"].isna().any() and (scores["k"] == 25).any()


def test_percent_agreement_matches_coder_pairs():
    rng = np.random.default_rng(2)
    for _ in range(30):
        matrix = rng.integers(0, 3, (int(rng.integers(2, 6)), int(rng.integers(1, 12)))).astype(float)
        matrix[rng.random(matrix.shape) < 0.3] = np.nan
        shares = []
        for unit in matrix.T:
            values = unit[~np.isnan(unit)]
            if values.size >= 2:
                pairs = list(combinations(values, 2))
                shares.append(sum(a == b for a, b in pairs) / len(pairs))
        expected = float(np.mean(shares)) if shares else None
        assert percent_agreement(matrix) == (None if expected is None else pytest.approx(expected))


def test_reliability_table_matches_the_per_group_definition(random_codes):
    """α (the ``krippendorff`` package per group), agreement and counts, all groups at once;
    groups with one coder per post or one value only keep their messages."""
    from scoring.services.reliability import reliability, reliability_table

    codes = random_codes.copy()
    codes["post"] = codes["post"].where(codes["coder_id"] % 2 == 0, codes["post"] + "-alone")
    one_value = codes[codes["solution_pk"] == 1].assign(solution_pk=3, solution_id="one",
                                                        theme_merged_id=7.0)
    alone = codes[codes["solution_pk"] == 1].assign(solution_pk=4, solution_id="alone")
    alone["post"] = alone["post"] + alone["coder"]
    # codes without a theme (withheld until reconciled): the group keeps its row
    unthemed = codes[codes["solution_pk"] == 1].assign(solution_pk=5, solution_id="unthemed",
                                                       theme_merged_id=pd.NA)
    codes = pd.concat([codes, one_value, alone, unthemed], ignore_index=True)
    by = ["solution_pk", "solution_id", "pass"]
    table = reliability_table(codes, by)
    assert len(table) == 5
    for row in table.to_dict("records"):
        group = codes[(codes["solution_pk"] == row["solution_pk"]) & (codes["pass"] == row["pass"])]
        expected = reliability(group).as_dict()
        for key in ("n_coders", "n_units", "n_pairable_units", "message"):
            assert row[key] == expected[key], (row, expected)
        for key in ("alpha", "percent_agreement"):
            assert pd.isna(row[key]) == (expected[key] is None), (key, row, expected)
            if expected[key] is not None:
                assert row[key] == pytest.approx(expected[key], abs=1e-12)
    assert table.set_index("solution_pk").loc[3, "message"].startswith("undefined: every")
    assert table.set_index("solution_pk").loc[4, "message"].startswith("undefined: no post")
    assert table.set_index("solution_pk").loc[5, "n_coders"] == 0
    assert list(reliability_table(unthemed, by)["solution_pk"]) == [5]
