"""The offline CCA space: correlations it reports are real correlations (never above 1)."""
from __future__ import annotations

import numpy as np
import pytest

from clustering_engine.joint_space import LABEL, RegularizedCCA, _inverse_sqrt, held_out_check


def _pairs(n=60, seed=0):
    """More dimensions than pairs, a few strong shared directions: the shrunk-covariance
    singular values then exceed 1."""
    rng = np.random.default_rng(seed)
    shared = rng.normal(size=(n, 3))
    text = np.hstack([shared * 5, rng.normal(size=(n, 77))])
    image = np.hstack([shared * 5 + 0.1 * rng.normal(size=(n, 3)), rng.normal(size=(n, 67))])
    return text, image


def test_canonical_correlations_never_exceed_one():
    text, image = _pairs()
    cca = RegularizedCCA(n_components=10, reg=0.1).fit(text, image)
    # What the model used to report: singular values under the shrunk covariances.
    Tc, Ic = text - text.mean(0), image - image.mean(0)
    shrunk = [cca._shrunk(Z.T @ Z / (len(Z) - 1)) for Z in (Tc, Ic)]
    cross = Tc.T @ Ic / (len(Tc) - 1)
    singular = np.linalg.svd(_inverse_sqrt(shrunk[0]) @ cross @ _inverse_sqrt(shrunk[1]),
                             compute_uv=False)
    assert singular[0] > 1.0                              # the old "correlation" (e.g. 1.086)
    assert np.all(cca.correlations_ <= 1.0) and cca.correlations_[0] > 0.9
    # They are the Pearson correlations of the canonical variates on the pairs.
    t = (text - cca.text_mean_) @ cca.text_projection_
    i = (image - cca.image_mean_) @ cca.image_projection_
    for k in range(3):
        assert cca.correlations_[k] == pytest.approx(np.corrcoef(t[:, k], i[:, k])[0, 1],
                                                     abs=1e-9)


def test_the_space_is_named_cca_not_joint():
    assert LABEL.startswith("cca ") and "not a pretrained multimodal model" in LABEL


def test_held_out_correlations_see_through_overfitting_on_independent_noise():
    """Pure independent noise shaped like the demo data (1,776 pairs, 512 + 1,280 dims): the
    in-sample canonical correlations are near 1, the held-out ones near 0, as is the
    shuffled-pairs baseline."""
    rng = np.random.default_rng(7)
    text = rng.normal(size=(1776, 512))
    image = rng.normal(size=(1776, 1280))
    in_sample = RegularizedCCA(n_components=10, reg=0.1).fit(text, image).correlations_
    assert in_sample[0] > 0.9                               # the overfit the audit saw
    check = held_out_check(text, image, n_components=10, regs=(0.1, 0.9))
    assert max(abs(c) for c in check["held_out"]) < 0.15
    assert max(abs(c) for c in check["shuffled_pairs_held_out"]) < 0.15
    assert check["chosen_reg"] in (0.1, 0.9) and len(check["held_out_mean_top"]) == 2


def test_held_out_check_keeps_a_real_shared_signal_and_picks_the_best_shrinkage():
    text, image = _pairs(n=400, seed=3)
    check = held_out_check(text, image, n_components=5, regs=(0.01, 0.3, 0.9))
    assert min(check["held_out"][:3]) > 0.8                # the 3 shared directions hold out
    assert max(abs(c) for c in check["shuffled_pairs_held_out"][:3]) < 0.3
    best = check["reg_grid"][int(np.argmax(check["held_out_mean_top"]))]
    assert check["chosen_reg"] == best
