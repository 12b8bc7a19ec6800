"""An offline joint text-image space learned from the pairs themselves: regularised CCA.

When no CLIP weights are on disk, the joint method can still place text and image in one
space: canonical correlation analysis between the pairs' own text and image embeddings finds
directions in which the two modalities agree (the multi-view embedding of Gong, Ke, Isard &
Lazebnik, IJCV 2014). Covariances are shrunk towards a scaled identity so the fit is stable
when dimensions (e.g. 512 + 1,280) approach or exceed the number of pairs, and each
projection is weighted by its canonical correlation to the power ``eigen_power`` (Gong et
al. use 4), which damps directions where the modalities barely agree.

This is NOT a pretrained multimodal model: it keeps only what the modalities share, so on
data where text and image carry different information it loses what joint embedding is meant
to keep. Its method is ``cca`` (never "joint") and every output names it so.
"""
from __future__ import annotations

import numpy as np

from .spec import COMBINES
from .vectors import l2_normalise

LABEL = "cca (regularised CCA learned from the pairs; not a pretrained multimodal model)"


def _inverse_sqrt(C: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eigh(C)
    values = np.clip(values, 1e-12, None)
    return (vectors / np.sqrt(values)) @ vectors.T


class Moments:
    """Means, covariances and cross-covariance of (text, image) pairs: all a fit needs, and
    all that measuring a fitted pair of directions on these pairs needs."""

    def __init__(self, text_mean, image_mean, text_cov, image_cov, cross_cov):
        self.text_mean, self.image_mean = text_mean, image_mean
        self.text_cov, self.image_cov, self.cross_cov = text_cov, image_cov, cross_cov

    @classmethod
    def of(cls, T: np.ndarray, I: np.ndarray) -> "Moments":
        T = np.asarray(T, dtype=np.float64)
        I = np.asarray(I, dtype=np.float64)
        tm, im = T.mean(axis=0), I.mean(axis=0)
        Tc, Ic = T - tm, I - im
        n1 = max(len(T) - 1, 1)
        return cls(tm, im, Tc.T @ Tc / n1, Ic.T @ Ic / n1, Tc.T @ Ic / n1)

    def variate_correlations(self, text_dirs: np.ndarray, image_dirs: np.ndarray) -> np.ndarray:
        """Pearson correlation of each pair of canonical variates on these pairs (0 for a
        constant variate): a'C_ti b / sqrt(a'C_tt a · b'C_ii b)."""
        cross = np.einsum("ij,ij->j", text_dirs, self.cross_cov @ image_dirs)
        var_t = np.einsum("ij,ij->j", text_dirs, self.text_cov @ text_dirs)
        var_i = np.einsum("ij,ij->j", image_dirs, self.image_cov @ image_dirs)
        norms = np.sqrt(np.clip(var_t, 0, None) * np.clip(var_i, 0, None))
        return np.clip(np.where(norms > 0, cross / np.where(norms > 0, norms, 1.0), 0.0), -1, 1)


class RegularizedCCA:
    """Fit ``fit(T, I)``; ``transform(T, I)`` gives the pair vectors [t' ; i'] (each half
    L2-normalised), ``combine="mean"`` their mean instead.

    Parameters: ``n_components`` canonical directions (capped by the smaller dimension),
    ``reg`` shrinkage in [0, 1] of each covariance towards (trace/d)·I, ``eigen_power``.
    """

    def __init__(self, n_components: int = 128, reg: float = 0.1, eigen_power: float = 4.0,
                 combine: str = "concat"):
        if not 0.0 <= reg <= 1.0:
            raise ValueError(f"reg must be in [0, 1], got {reg}")
        if combine not in COMBINES:
            raise ValueError(f"combine must be 'concat' or 'mean', got {combine!r}")
        self.n_components = n_components
        self.reg = reg
        self.eigen_power = eigen_power
        self.combine = combine

    def get_params(self) -> dict:
        return {"n_components": self.n_components, "reg": self.reg,
                "eigen_power": self.eigen_power, "combine": self.combine}

    def _shrunk(self, C: np.ndarray) -> np.ndarray:
        d = C.shape[0]
        target = np.trace(C) / d if np.trace(C) > 0 else 1.0
        return (1.0 - self.reg) * C + self.reg * target * np.eye(d)

    def fit(self, T: np.ndarray, I: np.ndarray) -> "RegularizedCCA":
        T = np.asarray(T, dtype=np.float64)
        I = np.asarray(I, dtype=np.float64)
        if len(T) != len(I):
            raise ValueError(f"text and image rows differ: {len(T)} vs {len(I)}")
        return self.fit_moments(Moments.of(T, I))

    def fit_moments(self, m: "Moments") -> "RegularizedCCA":
        """Fit from the pairs' means and covariances (``Moments``): what ``fit`` computes."""
        self.text_mean_, self.image_mean_ = m.text_mean, m.image_mean
        text_dirs, image_dirs = self._directions(m)
        # The singular values are correlations only under the shrunk covariances (they can
        # exceed 1); report the canonical variates' actual Pearson correlations on the pairs.
        # These are IN SAMPLE: with dimensions near the number of pairs they are inflated
        # (``held_out_check`` measures them on pairs the fit never saw).
        self.correlations_ = m.variate_correlations(text_dirs, image_dirs)
        scale = np.clip(self.correlations_, 0, None) ** self.eigen_power
        self.text_projection_ = text_dirs * scale
        self.image_projection_ = image_dirs * scale
        return self

    def _directions(self, m: "Moments") -> tuple[np.ndarray, np.ndarray]:
        Wt = _inverse_sqrt(self._shrunk(m.text_cov))
        Wi = _inverse_sqrt(self._shrunk(m.image_cov))
        U, s, Vt = np.linalg.svd(Wt @ m.cross_cov @ Wi, full_matrices=False)
        k = min(self.n_components, len(s))
        return Wt @ U[:, :k], Wi @ Vt[:k].T

    def transform(self, T: np.ndarray, I: np.ndarray) -> np.ndarray:
        t = l2_normalise((np.asarray(T, np.float64) - self.text_mean_) @ self.text_projection_, np.float64)
        i = l2_normalise((np.asarray(I, np.float64) - self.image_mean_) @ self.image_projection_, np.float64)
        joint = np.hstack([t, i]) if self.combine == "concat" else (t + i) / 2.0
        return joint.astype(np.float32)

    def fit_transform(self, T: np.ndarray, I: np.ndarray) -> np.ndarray:
        return self.fit(T, I).transform(T, I)


# Our convention: the shrinkage grid searched, the canonical pairs whose held-out correlation
# is averaged to compare them, and the seed of the split into halves.
REG_GRID = (0.01, 0.03, 0.1, 0.3, 0.6, 0.9)
HELD_OUT_TOP = 10
SPLIT_SEED = 0


def _halves(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    return np.sort(order[: n // 2]), np.sort(order[n // 2:])


def held_out_check(T: np.ndarray, I: np.ndarray, *, n_components: int = 128,
                   eigen_power: float = 4.0, regs=REG_GRID, top: int = HELD_OUT_TOP,
                   seed: int = SPLIT_SEED) -> dict:
    """Canonical correlations measured out of sample, and the shrinkage chosen by them.

    The pairs are split into two seeded halves; CCA is fitted on one half and its variates'
    correlations measured on the other, both ways round, and averaged (cross-fitting). The
    same is done with the images shuffled across pairs inside each half: a baseline of what
    the fit finds where text and image share nothing. ``reg`` is chosen as the grid value with
    the highest mean held-out correlation over the first ``top`` canonical pairs.
    """
    T = np.asarray(T, dtype=np.float64)
    I = np.asarray(I, dtype=np.float64)
    a, b = _halves(len(T), seed)
    shuffle = np.random.default_rng([seed, 1])
    halves = [(Moments.of(T[idx], I[idx]), Moments.of(T[idx], I[shuffle.permutation(idx)]))
              for idx in (a, b)]

    def cross_fitted(reg: float, which: int) -> np.ndarray:
        model = RegularizedCCA(n_components=n_components, reg=reg, eigen_power=eigen_power)
        out = []
        for fit_half, test_half in ((0, 1), (1, 0)):
            dirs = model._directions(halves[fit_half][which])
            out.append(halves[test_half][which].variate_correlations(*dirs))
        k = min(len(out[0]), len(out[1]))
        return (out[0][:k] + out[1][:k]) / 2.0

    by_reg = {float(reg): cross_fitted(reg, 0) for reg in regs}
    scores = {reg: float(np.mean(c[:top])) for reg, c in by_reg.items()}
    chosen = max(regs, key=lambda r: (scores[float(r)], -float(r)))
    return {"method": "cross-fitted halves (fit on one half, correlate on the other, "
                      "both ways, averaged)",
            "split_seed": seed, "halves": [int(len(a)), int(len(b))],
            "reg_grid": [float(r) for r in regs],
            "held_out_mean_top": [round(scores[float(r)], 6) for r in regs],
            "top": top, "chosen_reg": float(chosen),
            "held_out": [round(float(c), 4) for c in by_reg[float(chosen)][:top]],
            "shuffled_pairs_held_out": [round(float(c), 4)
                                        for c in cross_fitted(chosen, 1)[:top]]}
