"""Row-vector helpers shared by the embedders, the combination methods and the rcca space."""
from __future__ import annotations

import numpy as np


def l2_normalise(X, dtype=np.float32) -> np.ndarray:
    """Rows scaled to unit L2 length, as ``dtype``. A zero row stays zero (its norm is taken
    as 1), so a missing vector never turns into NaN."""
    X = np.asarray(X, dtype=dtype)
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    return X / np.where(norms > 0, norms, 1.0)
