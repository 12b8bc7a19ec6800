"""The coder model of the simulated study: exact planted values, population α, bad input."""
import itertools

import numpy as np
import pytest

from scoring.services.simulation import (CoderModel, ModelError, expected_modal_share,
                                         parse_rates, population_alpha)


def test_expected_modal_share_is_exact_against_a_large_monte_carlo():
    rng = np.random.default_rng(3)
    for n, p, distractors in ((10, 0.6, 4), (4, 0.5, 2), (7, 0.9, 3)):
        true = rng.random((200_000, n)) < p
        labels = np.where(true, 0, rng.integers(1, distractors + 1, size=(200_000, n)))
        counts = np.stack([(labels == t).sum(axis=1) for t in range(distractors + 1)])
        simulated = counts.max(axis=0).mean() / n
        assert expected_modal_share(n, p, distractors) == pytest.approx(simulated, abs=2e-3)
    # exact: every labelling of 4 posts enumerated; the modal share is not p (0.62 for p = 0.5)
    p, distractors, n = 0.5, 2, 4
    weights = [p] + [(1 - p) / distractors] * distractors
    exact = sum(np.prod([weights[t] for t in labels]) * max(np.bincount(labels)) / n
                for labels in itertools.product(range(distractors + 1), repeat=n))
    assert expected_modal_share(n, p, distractors) == pytest.approx(exact, abs=1e-12)
    assert exact > p + 0.1


def test_population_alpha_of_perfect_coders_is_one():
    assert population_alpha([10, 10, 4], 1.0, 4) == pytest.approx(1.0)
    assert population_alpha([10, 10], 0.6, 4) < 0.5


def test_bad_model_is_refused_naming_the_field():
    with pytest.raises(ModelError, match="unknown methods kmeans"):
        CoderModel(consistency=parse_rates("kmeans=0.8"))
    with pytest.raises(ModelError, match="label=high"):
        parse_rates("label=high")
    with pytest.raises(ModelError, match="intrusion"):
        CoderModel(intrusion=1.5)
