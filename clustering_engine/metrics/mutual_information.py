"""Adjusted mutual information between two labelings, its permutation test and reading.

AMI
    ``ami`` is scikit-learn's ``adjusted_mutual_info_score`` with the arithmetic mean of the
    entropies (its default and the usual reading of the paper's numbers; the paper's equation
    1 writes ``max``, available through ``average_method="max"``). Every label value,
    including ``-1``, is a category: filter noise before calling if it should not count.
    Permutation test: the image labels are shuffled; marginals (hence entropies and the
    expected MI) do not change, so only the MI is recomputed. p-value =
    (1 + #null >= observed) / (1 + n_permutations) (never 0).
    Reading (``interpret_ami``): AMI < 0.05 near zero (CASM: 0.029), 0.05 <= AMI < 0.5
    moderate (BU-NEmo 5x5: 0.166), AMI >= 0.5 high.
"""
from __future__ import annotations

import math

import numpy as np

AMI_NEAR_ZERO = 0.05   # below: the modalities carry different information
AMI_HIGH = 0.5         # at or above: label-level combination suffices


def _as_label_array(labels, name: str) -> np.ndarray:
    arr = np.asarray(labels)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    return arr


def ami(labels_a, labels_b, *, average_method: str = "arithmetic") -> float:
    """Adjusted mutual information (Vinh et al. 2009) = scikit-learn's
    ``adjusted_mutual_info_score`` (arithmetic mean of the entropies by default)."""
    from sklearn.metrics import adjusted_mutual_info_score

    a = _as_label_array(labels_a, "labels_a")
    b = _as_label_array(labels_b, "labels_b")
    if len(a) != len(b):
        raise ValueError(f"label arrays differ in length: {len(a)} vs {len(b)}")
    return float(adjusted_mutual_info_score(a, b, average_method=average_method))


def _entropy_from_counts(counts: np.ndarray) -> float:
    counts = counts[counts > 0].astype(np.float64)
    n = counts.sum()
    return float(-np.sum((counts / n) * (np.log(counts) - math.log(n))))


def _mi_from_codes(codes_a, codes_b, n_a, n_b, outer, n) -> float:
    """MI (nats) from integer codes, term by term as scikit-learn's ``mutual_info_score``."""
    table = np.bincount(codes_a * n_b + codes_b, minlength=n_a * n_b)
    nz = np.flatnonzero(table)
    nij = table[nz].astype(np.float64)
    share = nij / n
    log_outer = -np.log(outer[nz]) + 2.0 * math.log(n)
    mi = share * (np.log(nij) - math.log(n)) + share * log_outer
    mi = np.where(np.abs(mi) < np.finfo(np.float64).eps, 0.0, mi)
    return max(float(mi.sum()), 0.0)


def _generalized_average(u: float, v: float, method: str) -> float:
    if method == "arithmetic":
        return (u + v) / 2.0
    if method == "max":
        return max(u, v)
    if method == "min":
        return min(u, v)
    if method == "geometric":
        return math.sqrt(u * v)
    raise ValueError(f"unknown average_method {method!r}")


def ami_permutation_test(labels_a, labels_b, n_permutations: int = 200, seed: int = 0,
                         *, average_method: str = "arithmetic") -> dict:
    """Permutation test of AMI against independence (``labels_b`` shuffled).

    Returns
    -------
    dict with ``ami``, ``p_value`` ((1 + #null >= ami) / (1 + n)), ``null_band``
    ((2.5th, 97.5th) percentiles of the null AMIs), ``null_mean``, ``n_permutations``, ``seed``.
    """
    a = _as_label_array(labels_a, "labels_a")
    b = _as_label_array(labels_b, "labels_b")
    if len(a) != len(b):
        raise ValueError(f"label arrays differ in length: {len(a)} vs {len(b)}")
    if int(n_permutations) < 1:
        raise ValueError("n_permutations must be >= 1")
    n_permutations = int(n_permutations)
    observed = ami(a, b, average_method=average_method)
    rng = np.random.default_rng(seed)
    _, codes_a = np.unique(a, return_inverse=True)
    _, codes_b = np.unique(b, return_inverse=True)
    n_a, n_b = int(codes_a.max()) + 1, int(codes_b.max()) + 1
    null = np.empty(n_permutations)
    emi = _expected_mi(codes_a, codes_b) if (n_a > 1 and n_b > 1) else None
    if emi is None:
        # Degenerate (one label on a side) or no fast EMI: scikit-learn per permutation.
        for r in range(n_permutations):
            null[r] = ami(a, b[rng.permutation(len(b))], average_method=average_method)
    else:
        n = float(len(a))
        count_a = np.bincount(codes_a, minlength=n_a).astype(np.int64)
        count_b = np.bincount(codes_b, minlength=n_b).astype(np.int64)
        outer = (count_a[:, None] * count_b[None, :]).ravel().astype(np.float64)
        normalizer = _generalized_average(_entropy_from_counts(count_a),
                                          _entropy_from_counts(count_b), average_method)
        eps = np.finfo(np.float64).eps
        denominator = normalizer - emi
        denominator = min(denominator, -eps) if denominator < 0 else max(denominator, eps)
        for r in range(n_permutations):
            mi = _mi_from_codes(codes_a, codes_b[rng.permutation(len(b))], n_a, n_b,
                                outer, n)
            numerator = mi - emi
            numerator = min(numerator, -eps) if numerator < 0 else max(numerator, eps)
            null[r] = numerator / denominator
    # Tolerance: a null value equal to the observed one up to rounding counts as ">=".
    exceed = int(np.sum(null >= observed - 1e-12))
    return {"ami": observed,
            "p_value": (1 + exceed) / (1 + n_permutations),
            "null_band": (float(np.percentile(null, 2.5)), float(np.percentile(null, 97.5))),
            "null_mean": float(null.mean()),
            "n_permutations": n_permutations,
            "seed": seed}


def _expected_mi(codes_a, codes_b) -> float | None:
    """Expected MI under fixed marginals (scikit-learn's routine); None if unavailable."""
    try:
        from sklearn.metrics.cluster import contingency_matrix
        from sklearn.metrics.cluster._expected_mutual_info_fast import (
            expected_mutual_information)
    except ImportError:  # private scikit-learn module moved: fall back to the slow path
        return None
    contingency = contingency_matrix(codes_a, codes_b, sparse=True)
    return float(expected_mutual_information(contingency, len(codes_a)))


def ami_category(value: float) -> str:
    """``"near_zero"`` (< 0.05), ``"moderate"`` (< 0.5) or ``"high"`` (>= 0.5)."""
    if value is None or not math.isfinite(float(value)):
        raise ValueError(f"AMI must be a finite number, got {value!r}")
    if value < AMI_NEAR_ZERO:
        return "near_zero"
    return "moderate" if value < AMI_HIGH else "high"


def interpret_ami(value: float) -> str:
    """The paper's reading of a text-vs-image AMI, as one sentence.

    Thresholds: < 0.05 near zero (CASM: 0.029), < 0.5 moderate (BU-NEmo at 5x5: 0.166),
    otherwise high.
    """
    category = ami_category(value)
    if category == "near_zero":
        return (f"AMI = {value:.3f} is near zero (< {AMI_NEAR_ZERO}; CASM: 0.029): text and "
                "images carry different information, so joint clustering is needed.")
    if category == "moderate":
        return (f"AMI = {value:.3f} is moderate ({AMI_NEAR_ZERO}-{AMI_HIGH}; BU-NEmo at 5x5: "
                "0.166): the modalities overlap only partly, so joint clustering is still "
                "recommended over label-level combination.")
    return (f"AMI = {value:.3f} is high (>= {AMI_HIGH}): text and images largely agree, so "
            "label-level combination of the two clusterings suffices.")
