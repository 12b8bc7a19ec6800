"""Adjusted mutual information between two labelings, its permutation test and reading.

AMI
    The paper's Eq. (1) (Vinh et al. 2009): (MI - E[MI]) / (max{H(T), H(I)} - E[MI]).
    ``average_method="max"`` is the default; scikit-learn's default, the arithmetic mean of
    the entropies, is an option (``"arithmetic"``; up to ~0.075 higher when K_t != K_i). The
    value equals scikit-learn's ``adjusted_mutual_info_score`` with the same method.
    Noise: rows that are noise (``-1``) in either labelling are left out by default
    (``noise="exclude"``): shared noise is not agreement (two independent 5-cluster labellings
    sharing 60% noise score 0.51 with noise as a category, ~0 without). ``noise="category"``
    keeps ``-1`` as a label value. ``noise_left_out`` gives the count and share left out.
    With no row left the AMI is undefined: ``ami`` returns NaN, the permutation test None.
    Permutation test: the image labels are shuffled; marginals (hence entropies and the
    expected MI) do not change, so only the MI is recomputed. p-value =
    (1 + #null >= observed) / (1 + n_permutations) (never 0).

Reading (``interpret_ami``, in the paper's direction, section 3.2)
    The higher the AMI, the less joint clustering should add. The paper's two reference
    points: CASM, 0.029 (near zero: joint clustering essential) and BU-NEmo at 5x5, 0.166
    ("the added value of joint clustering will be rather limited"). The bands below 0.05
    ("near zero") and from 0.5 ("high": label-level combination suffices) are the project's
    own convention, not the paper's, and every reading says so. With a permutation null
    (95% band, p-value) the reading also says whether the value is above chance.
"""
from __future__ import annotations

import math

import numpy as np

NOISE = -1
AVERAGE_METHODS = ("max", "arithmetic", "geometric", "min")
DEFAULT_AVERAGE_METHOD = "max"     # the paper's Eq. (1)
NOISE_HANDLING = ("exclude", "category")
DEFAULT_NOISE_HANDLING = "exclude"
CASM_AMI = 0.029      # the paper's CASM: joint clustering essential
BU_NEMO_AMI = 0.166   # the paper's BU-NEmo at 5x5: added value of joint "rather limited"
AMI_NEAR_ZERO = 0.05  # project's own convention: below, "near zero"
AMI_HIGH = 0.5        # project's own convention: from here, "high"
CONVENTION_NOTE = (f"The bands (below {AMI_NEAR_ZERO} near zero, {AMI_HIGH} and above high) "
                   "are the project's own convention, not the paper's.")


def _as_label_array(labels, name: str) -> np.ndarray:
    arr = np.asarray(labels)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    return arr


def _check_options(average_method: str, noise: str) -> None:
    if average_method not in AVERAGE_METHODS:
        raise ValueError(f"unknown average_method {average_method!r}; use one of "
                         f"{AVERAGE_METHODS}")
    if noise not in NOISE_HANDLING:
        raise ValueError(f"unknown noise handling {noise!r}; use one of {NOISE_HANDLING}")


def _paired(labels_a, labels_b, noise: str) -> tuple[np.ndarray, np.ndarray, int]:
    """Both label arrays, rows that are noise in either left out (``noise="exclude"``), and
    how many rows were left out."""
    a = _as_label_array(labels_a, "labels_a")
    b = _as_label_array(labels_b, "labels_b")
    if len(a) != len(b):
        raise ValueError(f"label arrays differ in length: {len(a)} vs {len(b)}")
    if noise == "category":
        return a, b, 0
    keep = (a != NOISE) & (b != NOISE)
    return a[keep], b[keep], int(len(a) - keep.sum())


def noise_left_out(labels_a, labels_b) -> tuple[int, float]:
    """(count, share) of rows that are noise in either labelling (0 share for no rows)."""
    a, _, dropped = _paired(labels_a, labels_b, "exclude")
    total = len(a) + dropped
    return dropped, (dropped / total if total else 0.0)


def ami(labels_a, labels_b, *, average_method: str = DEFAULT_AVERAGE_METHOD,
        noise: str = DEFAULT_NOISE_HANDLING) -> float:
    """Adjusted mutual information, the paper's Eq. (1) by default (module docstring);
    NaN when no row is left after leaving noise out."""
    from sklearn.metrics import adjusted_mutual_info_score

    _check_options(average_method, noise)
    a, b, _ = _paired(labels_a, labels_b, noise)
    if len(a) == 0:
        return float("nan")
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
                         *, average_method: str = DEFAULT_AVERAGE_METHOD,
                         noise: str = DEFAULT_NOISE_HANDLING) -> dict:
    """Permutation test of AMI against independence (``labels_b`` shuffled), on the rows left
    after leaving noise out.

    Returns
    -------
    dict with ``ami`` (None when no row is left), ``p_value`` ((1 + #null >= ami) / (1 + n)),
    ``null_band`` ((2.5th, 97.5th) percentiles of the null AMIs), ``null_mean``,
    ``n_permutations``, ``seed``, ``average_method``, ``noise``, ``n_left_out``,
    ``share_left_out``, ``n_used``.
    """
    _check_options(average_method, noise)
    if int(n_permutations) < 1:
        raise ValueError("n_permutations must be >= 1")
    n_permutations = int(n_permutations)
    a, b, dropped = _paired(labels_a, labels_b, noise)
    total = len(a) + dropped
    about = {"n_permutations": n_permutations, "seed": seed, "average_method": average_method,
             "noise": noise, "n_left_out": dropped,
             "share_left_out": dropped / total if total else 0.0, "n_used": int(len(a))}
    if len(a) == 0:
        return {"ami": None, "p_value": None, "null_band": None, "null_mean": None, **about}
    observed = ami(a, b, average_method=average_method, noise="category")
    rng = np.random.default_rng(seed)
    _, codes_a = np.unique(a, return_inverse=True)
    _, codes_b = np.unique(b, return_inverse=True)
    n_a, n_b = int(codes_a.max()) + 1, int(codes_b.max()) + 1
    null = np.empty(n_permutations)
    emi = _expected_mi(codes_a, codes_b) if (n_a > 1 and n_b > 1) else None
    if emi is None:
        # Degenerate (one label on a side) or no fast EMI: scikit-learn per permutation.
        for r in range(n_permutations):
            null[r] = ami(a, b[rng.permutation(len(b))], average_method=average_method,
                          noise="category")
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
            "null_mean": float(null.mean()), **about}


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
    """``"near_zero"`` (< 0.05), ``"moderate"`` (< 0.5) or ``"high"`` (>= 0.5): the
    project's own bands."""
    if value is None or not math.isfinite(float(value)):
        raise ValueError(f"AMI must be a finite number, got {value!r}")
    if value < AMI_NEAR_ZERO:
        return "near_zero"
    return "moderate" if value < AMI_HIGH else "high"


_JOINT_VALUE = {"near_zero": (3, "essential"), "moderate": (2, "limited, less the higher the AMI"),
                "high": (1, "little: label-level combination suffices")}


def joint_clustering_value(value: float) -> dict:
    """What joint clustering should add at this AMI, in the paper's direction: ``rank`` 3
    (essential) to 1 (little), never higher for a higher AMI; ``category`` (our bands)."""
    category = ami_category(value)
    rank, words = _JOINT_VALUE[category]
    return {"rank": rank, "category": category, "joint_adds": words}


def _against_references(value: float) -> str:
    casm = f"CASM ({CASM_AMI}: joint clustering essential)"
    bu = f"BU-NEmo at 5x5 ({BU_NEMO_AMI}: added value of joint clustering \"rather limited\")"
    category = ami_category(value)
    if category == "near_zero":
        return (f"near zero, like the paper's {casm}: text and image clusterings share almost "
                "no information, so joint clustering (vector-level or joint embedding) is "
                f"essential. The paper's other reference point is {bu}.")
    if category == "high":
        return (f"high, far above the paper's {bu} and {casm}: each text cluster largely "
                "predicts its image cluster, so label-level combination already captures the "
                "joint structure and joint clustering adds little.")
    if value < BU_NEMO_AMI:
        where = (f"between the paper's {casm} and {bu}: joint clustering should add less "
                 "than on CASM and more than on BU-NEmo")
    else:
        where = (f"at or above the paper's {bu}, and well above {casm}: the added value of "
                 "joint clustering is likely rather limited")
    return where + "; the higher the AMI, the less joint clustering adds."


def interpret_ami(value: float, null_band=None, p_value: float | None = None) -> str:
    """The reading of a text-vs-image AMI in the paper's direction (module docstring): the
    value against the paper's reference points, the permutation null when given, and the
    project's bands labelled as such."""
    ami_category(value)   # validates
    parts = [f"AMI = {value:.3f} is {_against_references(value)}"]
    if null_band is not None:
        low, high = (float(x) for x in null_band)
        p_text = "" if p_value is None else f", p = {p_value:.3g}"
        if value > high:
            parts.append(f"It is above the permutation null (95% band {low:.3f} to {high:.3f}"
                         f"{p_text}): the alignment is more than chance.")
        else:
            parts.append(f"It is within the permutation null (95% band {low:.3f} to "
                         f"{high:.3f}{p_text}): no evidence of alignment beyond chance.")
    parts.append(CONVENTION_NOTE)
    return " ".join(parts)
