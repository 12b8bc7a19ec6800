"""Agreement of a clustering with known groupings (e.g. the news event of each post).

Conventions:
    * AMI is the paper's Eq. (1) (``average_method="max"`` by default, as the text-image
      diagnostic), ARI, homogeneity and completeness are scikit-learn's.
    * Rows left out of all four: noise (``-1``) in the clustering, and a missing truth value
      (None, NaN, empty or blank string). ``n_left_out`` and ``share_left_out`` say how many.
    * Truth values are compared as strings after stripping surrounding whitespace, so a
      column read as numbers or as text gives the same groups.
    * With no row left, or a single truth group and a single cluster, the values are None.
"""
from __future__ import annotations

import math

import numpy as np

from .mutual_information import DEFAULT_AVERAGE_METHOD, ami


def _truth_keys(truth) -> tuple[np.ndarray, np.ndarray]:
    """Truth as stripped strings and a mask of rows that have one."""
    keys, present = [], []
    for value in truth:
        missing = value is None or (isinstance(value, float) and math.isnan(value))
        text = "" if missing else str(value).strip()
        keys.append(text)
        present.append(bool(text) and text.lower() != "nan")
    return np.asarray(keys, dtype=object), np.asarray(present, dtype=bool)


def agreement_with_truth(truth, labels, *, average_method: str = DEFAULT_AVERAGE_METHOD) -> dict:
    """AMI, ARI, homogeneity and completeness of ``labels`` against ``truth`` (module
    docstring), plus the rows used and left out."""
    from sklearn.metrics import adjusted_rand_score, homogeneity_completeness_v_measure

    labels = np.asarray(labels)
    keys, present = _truth_keys(truth)
    if len(keys) != len(labels):
        raise ValueError(f"truth ({len(keys)}) and labels ({len(labels)}) differ in length")
    keep = present & (labels != -1)
    n = len(labels)
    out = {"n_used": int(keep.sum()), "n_left_out": int(n - keep.sum()),
           "share_left_out": round(float((n - keep.sum()) / n), 6) if n else 0.0,
           "n_groups": int(len(set(keys[keep].tolist()))), "average_method": average_method}
    t, c = keys[keep], labels[keep]
    if len(t) == 0 or (len(set(t.tolist())) < 2 and len(np.unique(c)) < 2):
        return {**out, "ami": None, "ari": None, "homogeneity": None, "completeness": None}
    _, codes = np.unique(t, return_inverse=True)
    homogeneity, completeness, _ = homogeneity_completeness_v_measure(codes, c)
    return {**out, "ami": float(ami(codes, c, average_method=average_method, noise="category")),
            "ari": float(adjusted_rand_score(codes, c)), "homogeneity": float(homogeneity),
            "completeness": float(completeness)}
