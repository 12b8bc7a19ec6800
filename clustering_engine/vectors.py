"""Row-vector helpers shared by the embedders, the combination methods and the rcca space."""
from __future__ import annotations

import numpy as np


def l2_normalise(X, dtype=np.float32, out: np.ndarray | None = None) -> np.ndarray:
    """Rows scaled to unit L2 length, as ``dtype``. A zero row stays zero (its norm is taken
    as 1), so a missing vector never turns into NaN. ``out``: where to write them (e.g. one
    half of a wider array), instead of a new array."""
    X = np.asarray(X, dtype=dtype)
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    return np.divide(X, np.where(norms > 0, norms, 1.0), out=out)
