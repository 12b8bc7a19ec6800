"""The offline CCA space: correlations it reports are real correlations (never above 1)."""
from __future__ import annotations

import numpy as np
import pytest

from clustering_engine.joint_space import LABEL, RegularizedCCA, _inverse_sqrt


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
    shrunk = [cca._shrunk_covariance(Z) for Z in (Tc, Ic)]
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
