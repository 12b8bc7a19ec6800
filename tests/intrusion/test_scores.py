"""Intrusion scores against known answers: a coder who always finds the intruder, one who picks
at random (seeded), Fisher's combination, Krippendorff's α on picks; then through the database,
the dashboard and its API."""
import math

import numpy as np
import pandas as pd
import pytest

from annotation.intrusion_models import IntrusionTask
from annotation.services.intrusion_answers import save_answer
from scoring.services.intrusion import (ANSWER_COLUMNS, coder_scores, kind_scores,
                                        pick_reliability, solution_scores)

from tests.fixtures.platform import client_for

from .conftest import BY_ROW


def answer_frame(picks_by_coder: dict[str, list[int | None]], intruders: list[int],
                 n_items: int = 6) -> pd.DataFrame:
    """Answers of coders to the same tasks; a pick None = unsure."""
    rows = []
    for coder, picks in picks_by_coder.items():
        for i, (pick, intruder) in enumerate(zip(picks, intruders)):
            rows.append({"task": f"Q{i}", "round_id": 1, "kind": "text", "solution_pk": 1,
                         "solution_id": "vector-kmeans-k25", "run_id": 1, "method": "vector",
                         "algorithm": "kmeans", "k": 25, "cluster_label": i % 7,
                         "n_items": n_items, "intruder_position": intruder, "coder": coder,
                         "coder_id": int(coder[-1]), "choice": pick, "unsure": pick is None,
                         "lead_time_s": 4.0, "correct": pick == intruder,
                         "chance": 1 / n_items})
    return pd.DataFrame(rows).reindex(columns=ANSWER_COLUMNS)


def test_a_coder_who_always_finds_the_intruder():
    intruders = list(np.random.default_rng(1).integers(1, 7, size=20))
    row = solution_scores(answer_frame({"coder_1": intruders}, intruders)).iloc[0]
    assert row["precision"] == 1.0 and row["n_answers"] == 20
    assert row["p_value"] == pytest.approx((1 / 6) ** 20) and row["p_value"] < 0.001
    assert row["fisher_p"] == row["p_value"]                       # one coder: its own p
    assert row["wilson_low"] == pytest.approx(0.8389, abs=1e-3) and row["wilson_high"] == 1.0
    assert row["chance"] == pytest.approx(1 / 6)


def test_a_coder_who_picks_at_random_stays_near_chance():
    rng = np.random.default_rng(20261129)
    intruders = list(rng.integers(1, 7, size=3000))
    picks = list(rng.integers(1, 7, size=3000))
    row = solution_scores(answer_frame({"coder_1": picks}, intruders)).iloc[0]
    assert abs(row["precision"] - 1 / 6) < 0.02
    assert row["wilson_low"] < 1 / 6 < row["wilson_high"] or row["p_value"] > 0.01
    assert row["p_value"] > 0.01
    # and 20 random picks are not "significant" either (seeded)
    small = solution_scores(answer_frame({"coder_1": picks[:20]}, intruders[:20])).iloc[0]
    assert small["p_value"] > 0.05


def test_unsure_counts_as_a_miss():
    intruders = [1, 2, 3, 4]
    row = solution_scores(answer_frame({"coder_1": [1, 2, None, None]}, intruders)).iloc[0]
    assert (row["precision"], row["n_unsure"], row["n_answers"]) == (0.5, 2, 4)


def test_fisher_combines_coders():
    rng = np.random.default_rng(5)
    intruders = list(rng.integers(1, 7, size=20))
    random_a, random_b = list(rng.integers(1, 7, size=20)), list(rng.integers(1, 7, size=20))
    strong = solution_scores(answer_frame({"coder_1": intruders, "coder_2": random_a},
                                          intruders)).iloc[0]
    per_coder = coder_scores(answer_frame({"coder_1": intruders, "coder_2": random_a}, intruders))
    p1, p2 = per_coder["p_value"]
    expected = 1 - __import__("scipy").stats.chi2.cdf(-2 * (math.log(p1) + math.log(p2)), 4)
    assert strong["fisher_p"] == pytest.approx(expected) and strong["fisher_p"] < 0.001
    weak = solution_scores(answer_frame({"coder_1": random_a, "coder_2": random_b},
                                        intruders)).iloc[0]
    assert weak["fisher_p"] > 0.05


def test_krippendorff_alpha_on_picks():
    intruders = [1, 2, 3, 4, 5, 6, 1, 2]
    same = answer_frame({"coder_1": [1, 2, 3, 4, 5, 6, 2, 3], "coder_2": [1, 2, 3, 4, 5, 6, 2, 3]},
                        intruders)
    assert pick_reliability(same)["alpha"] == pytest.approx(1.0)
    differ = answer_frame({"coder_1": [1, 2, 3, 4, 5, 6, 2, 3], "coder_2": [2, 3, 4, 5, 6, 1, 3, 4]},
                          intruders)
    assert pick_reliability(differ)["alpha"] < 0
    alone = pick_reliability(answer_frame({"coder_1": [1, 2]}, [1, 2]))
    assert alone["alpha"] is None and "two or more coders" in alone["alpha_message"]
    kinds = kind_scores(same)
    assert list(kinds["kind"]) == ["text"] and kinds.iloc[0]["n_coders"] == 2


@pytest.mark.django_db
def test_scores_through_the_database_and_dashboard(intrusion_round, users, coder2, client):
    tasks = list(IntrusionTask.objects.filter(round=intrusion_round, kind="text",
                                              solution__solution_id=BY_ROW))
    n = len(tasks)          # posts seen elsewhere in the round are never items: not all 24
    assert n >= 5
    rng = np.random.default_rng(3)
    for task in tasks:
        save_answer(task, users["coder"], choice=task.intruder_position, unsure=False,
                    base_version=0, lead_time_s=2.5)
        save_answer(task, coder2, choice=int(rng.integers(1, 7)), unsure=False, base_version=0,
                    lead_time_s=6.0)
    client_for(client, users["viewer"])
    body = client.get(f"/api/scoring/projects/{intrusion_round.project_id}/intrusion/").json()
    coder_1 = next(r for r in body["per_coder"] if r["coder"] == "coder_1")
    assert coder_1["precision"] == 1.0 and coder_1["p_value"] < 0.001
    assert coder_1["p_value"] == pytest.approx((1 / 6) ** n)
    solution = next(r for r in body["per_solution"] if r["solution_id"] == BY_ROW)
    assert solution["n_answers"] == 2 * n and solution["n_coders"] == 2
    assert solution["median_lead_time_s"] == pytest.approx(4.25)
    assert solution["alpha"] is not None
    comparison = client.get(f"/api/scoring/projects/{intrusion_round.project_id}/comparison/"
                            ).json()["intrusion"]
    row = next(r for r in comparison["rows"] if r["solution_id"] == BY_ROW)
    assert row["precision"] == solution["precision"] and row["s_dbw_common"] == 0.9
    page = client.get(f"/scoring/projects/{intrusion_round.project_id}/compare/").content.decode()
    assert 'id="intrusion-table"' in page
    assert f'<td data-column="precision" class="num"><span class="value">{solution["precision"]:.3f}' in page
    client_for(client, users["coder"])                      # coders never see scores
    assert client.get(f"/api/scoring/projects/{intrusion_round.project_id}/intrusion/"
                      ).status_code == 404


def test_dashboard_rows_sit_beside_the_solution_metrics():
    from scoring.services.comparison import records
    from scoring.services.intrusion import dashboard_section, kind_scores

    intruders = [1, 2, 3, 4, 5, 6] * 4
    frame = answer_frame({"coder_1": intruders}, intruders)
    solution = {"solution_pk": 1, "s_dbw_own": 0.7, "s_dbw_common": 0.9, "ami_text_image": 0.03,
                "consistency_text": 0.6}
    plain = dashboard_section(records(solution_scores(frame)), records(kind_scores(frame)),
                              [solution], len(frame))
    row = plain["rows"][0]
    assert (row["kind"], row["precision"], row["s_dbw_common"], row["consistency_same_pass"]) == (
        "text", 1.0, 0.9, 0.6)
    assert row["p_value_display"] == f"{(1 / 6) ** 24:.1e}" and not plain["has_truth"]
    known = dashboard_section(records(solution_scores(frame)), [],
                              [{**solution, "truth_ami": 0.41, "truth_ari": 0.3}], len(frame))
    assert known["has_truth"] and known["rows"][0]["truth_ami"] == 0.41
    # a solution filtered out of the comparison table is filtered out here too
    assert dashboard_section(records(solution_scores(frame)), [], [], len(frame))["rows"] == []
