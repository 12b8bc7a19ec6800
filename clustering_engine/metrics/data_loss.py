"""Data loss: the share of pairs left out when only the k largest clusters are kept.

Data loss
    Share of all pairs (noise included in the denominator) outside the k largest clusters;
    noise is always lost. The curve has one element per cluster (element k-1 for top-k);
    with no cluster at all it is ``[1.0]``.
"""
from __future__ import annotations

import numpy as np

from .mutual_information import _as_label_array
from .sdbw import NOISE


def data_loss_curve(labels) -> np.ndarray:
    """Element k-1: share of pairs outside the k largest clusters (noise ``-1`` always lost).

    Length = number of clusters (``[1.0]`` when every pair is noise).
    """
    labels = _as_label_array(labels, "labels")
    if len(labels) == 0:
        raise ValueError("no labels")
    clustered = labels[labels != NOISE]
    if len(clustered) == 0:
        return np.array([1.0])
    _, sizes = np.unique(clustered, return_counts=True)
    kept = np.cumsum(np.sort(sizes)[::-1])
    return (len(labels) - kept) / len(labels)


def data_loss_at(labels, k: int) -> float:
    """Share of pairs outside the k largest clusters; k beyond the number of clusters keeps
    them all (the noise share remains); k = 0 loses everything."""
    if isinstance(k, bool) or int(k) != k or k < 0:
        raise ValueError(f"k must be a non-negative integer, got {k!r}")
    if k == 0:
        return 1.0
    curve = data_loss_curve(labels)
    return float(curve[min(int(k), len(curve)) - 1])
