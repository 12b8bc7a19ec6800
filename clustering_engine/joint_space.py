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


def _variate_correlations(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Pearson correlation of each column pair (centred inputs); 0 for a constant column."""
    norms = np.linalg.norm(A, axis=0) * np.linalg.norm(B, axis=0)
    dots = np.einsum("ij,ij->j", A, B)
    return np.clip(np.where(norms > 0, dots / np.where(norms > 0, norms, 1.0), 0.0), -1.0, 1.0)


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

    def _shrunk_covariance(self, Z: np.ndarray) -> np.ndarray:
        C = Z.T @ Z / max(len(Z) - 1, 1)
        d = C.shape[0]
        target = np.trace(C) / d if np.trace(C) > 0 else 1.0
        return (1.0 - self.reg) * C + self.reg * target * np.eye(d)

    def fit(self, T: np.ndarray, I: np.ndarray) -> "RegularizedCCA":
        T = np.asarray(T, dtype=np.float64)
        I = np.asarray(I, dtype=np.float64)
        if len(T) != len(I):
            raise ValueError(f"text and image rows differ: {len(T)} vs {len(I)}")
        self.text_mean_ = T.mean(axis=0)
        self.image_mean_ = I.mean(axis=0)
        Tc, Ic = T - self.text_mean_, I - self.image_mean_
        Wt = _inverse_sqrt(self._shrunk_covariance(Tc))
        Wi = _inverse_sqrt(self._shrunk_covariance(Ic))
        cross = Tc.T @ Ic / max(len(T) - 1, 1)
        U, s, Vt = np.linalg.svd(Wt @ cross @ Wi, full_matrices=False)
        k = min(self.n_components, len(s))
        text_dirs, image_dirs = Wt @ U[:, :k], Wi @ Vt[:k].T
        # The singular values are correlations only under the shrunk covariances (they can
        # exceed 1); report the canonical variates' actual Pearson correlations on the pairs.
        self.correlations_ = _variate_correlations(Tc @ text_dirs, Ic @ image_dirs)
        scale = np.clip(self.correlations_, 0, None) ** self.eigen_power
        self.text_projection_ = text_dirs * scale
        self.image_projection_ = image_dirs * scale
        return self

    def transform(self, T: np.ndarray, I: np.ndarray) -> np.ndarray:
        t = l2_normalise((np.asarray(T, np.float64) - self.text_mean_) @ self.text_projection_, np.float64)
        i = l2_normalise((np.asarray(I, np.float64) - self.image_mean_) @ self.image_projection_, np.float64)
        joint = np.hstack([t, i]) if self.combine == "concat" else (t + i) / 2.0
        return joint.astype(np.float32)

    def fit_transform(self, T: np.ndarray, I: np.ndarray) -> np.ndarray:
        return self.fit(T, I).transform(T, I)
