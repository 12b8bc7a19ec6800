"""Row-vector helpers shared by the embedders, the combination methods and the rcca space."""
from __future__ import annotations

import numpy as np


def l2_normalise(X, dtype=np.float32, out: np.ndarray | None = None) -> np.ndarray:
    """Rows scaled to unit L2 length, as ``dtype``. A zero row stays zero (its norm is taken
    as 1), so a missing vector never turns into NaN. ``out``: where to write them (e.g. one
    half of a wider array), instead of a new array."""
    X = np.asarray(X, dtype=dtype)
    norms = row_norms(X)
    return np.divide(X, np.where(norms > 0, norms, 1.0), out=out)


def row_norms(X: np.ndarray, chunk: int = 32_768) -> np.ndarray:
    """``np.linalg.norm(X, axis=1, keepdims=True)``, bit for bit, a block of rows at a time:
    numpy's norm squares the whole array first (one more copy of it at the peak)."""
    if len(X) <= chunk:
        return np.linalg.norm(X, axis=1, keepdims=True)
    return np.concatenate([np.linalg.norm(X[i:i + chunk], axis=1, keepdims=True)
                           for i in range(0, len(X), chunk)])
