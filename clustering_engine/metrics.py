"""Evaluation toolkit of Zhang & Leung (appendix A, E): S_Dbw, AMI, marginal gain, data loss,
co-occurrence, within-cluster consistency.

Conventions (each one is a choice the paper leaves open; they are tested):

S_Dbw (``variant="paper"``, DESIGN "Definitions"; Halkidi & Vazirgiannis 2001)
    * Noise (label ``-1``) is excluded everywhere, including ``S`` in ``sigma(S)``.
    * ``sigma`` is the per-dimension population variance (``ddof=0``); ``v_i`` the cluster mean.
    * ``density_ij(p)`` counts the points of ``c_i`` and ``c_j`` within ``stdev`` of ``p``
      (``<=``; the DESIGN formula, not the "own cluster" density of public packages).
    * Zero densities: a ratio is ``density_ij(u_ij) / max(density_ij(v_i), density_ij(v_j), 1)``.
      When both centre densities are 0 the pair counts ``density_ij(u_ij)`` (0 when the
      midpoint is empty too, the usual case), so the value is never NaN and a dense midpoint
      between two empty centres is still penalised. ``n_zero_density_pairs`` (unordered pairs)
      reports how many pairs had a zero denominator.
    * Singleton clusters are valid: variance 0, and the point lies on its own centre.
    * All non-noise points identical (``||sigma(S)|| = 0``): Scat = 0 (no scatter at all) and
      every ratio is 1 (all points lie on every centre and midpoint), so S_Dbw = 1.
    * Fewer than 2 clusters, a label/row count mismatch, non-finite values or an unknown
      variant: ``S_DbwInputError``, a subclass of both ``ConfigError`` and ``ValueError``.
    * Arithmetic: moments, stdev and every final decision in float64. The counts come from one
      float32 product per block of points (``|x|^2 - 2 x.p + |p|^2`` on coordinates centred on
      the overall mean); every entry within a bound on its rounding error of the radius is
      re-decided in float64 by the direct difference ``sum((x - p)^2) <= stdev^2``, so the
      counts equal a naive float64 loop's (a last-bit tie between ``sqrt(a) <= s`` and
      ``a <= s^2`` aside). Memory: O(n d) for the grouped copy of X plus fixed-size blocks.
    * Reading note: stdev = sqrt(sum ||sigma(v_i)||) / c shrinks like 1/sqrt(c), so with many
      clusters in many dimensions (e.g. K = 100 in 50-D) most or all centre and midpoint
      densities are 0, Dens_bw is ~0 and S_Dbw is ~Scat; ``n_zero_density_pairs`` shows it.
    * Speed: clusters are spread over threads (``n_jobs``, default: available CPUs) while
      BLAS is limited to one thread (threadpoolctl, process-wide for the call's duration).

S_Dbw (``variant="halkidi_package"``)
    Reproduces the ``s_dbw`` PyPI package (0.4.0) ``S_Dbw(X, labels, method='Halkidi',
    alg_noise='filter', centr='mean', nearest_centr=True, metric='euclidean')``:
    ``sigma`` = per-dimension standard deviation, the centre of a cluster is its point
    nearest to the mean (first in row order on ties), the centre density counts the cluster's
    own points only, the midpoint density counts both clusters. Noise is filtered as in our
    variant (the package's default ``alg_noise='comb'`` would make noise a cluster).
    Computed in float64 (the package works in the input dtype: equal on float64 input).

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

Marginal gain / K selection
    ``marginal_gain`` returns one entry per input K, aligned with the input order; the
    smallest K has no previous grid point and gets ``None`` (never NaN). ``select_k`` returns
    the first K (ascending) whose gain is strictly below the threshold, else the largest K.

Data loss
    Share of all pairs (noise included in the denominator) outside the k largest clusters;
    noise is always lost. The curve has one element per cluster (element k-1 for top-k);
    with no cluster at all it is ``[1.0]``.

Co-occurrence
    Proportions of (text label, image label) over all pairs; rows/columns sorted label
    values. The Hungarian matching (``linear_sum_assignment``, maximise) pairs rows with
    columns; ``column_order`` lists the matched columns in the order of their rows, then the
    unmatched columns in label order. With rows <= columns the permuted matrix's trace is the
    maximal matching; with more rows than columns, ``matched_total`` is the maximum and
    ``matched_rows`` says which rows carry it.

Within-cluster consistency
    Share of coded posts whose theme equals the modal theme; ties between modal themes give
    the same share. ``None``, NaN and blank themes are excluded (uncoded); themes are compared
    after stripping surrounding whitespace, case-sensitively. No coded post: ``ValueError``.
"""
from __future__ import annotations

import dataclasses
import math
import os
from concurrent.futures import ThreadPoolExecutor
from collections import Counter
from typing import Iterable, Sequence

import numpy as np

from .errors import ConfigError

NOISE = -1
S_DBW_VARIANTS = ("paper", "halkidi_package")
AMI_NEAR_ZERO = 0.05   # below: the modalities carry different information
AMI_HIGH = 0.5         # at or above: label-level combination suffices
_BLOCK_ROWS = 8192     # rows per distance block: memory ~ block x 2K x 8 bytes


class S_DbwInputError(ConfigError, ValueError):
    """Input that S_Dbw cannot score (fewer than two clusters, shape mismatch, NaN)."""


# --------------------------------------------------------------------------------------------
# S_Dbw
# --------------------------------------------------------------------------------------------

@dataclasses.dataclass
class _Clusters:
    """Non-noise points grouped by cluster: ``points[starts[i]:starts[i+1]]`` is cluster i."""
    values: np.ndarray      # cluster label values, sorted
    points: np.ndarray      # rows sorted by cluster (input dtype, stable within a cluster)
    starts: np.ndarray
    n_noise: int

    def block(self, i: int) -> np.ndarray:
        return self.points[self.starts[i]:self.starts[i + 1]]


def _group(X, labels) -> _Clusters:
    X = np.asarray(X)
    labels = np.asarray(labels)
    if X.ndim != 2:
        raise S_DbwInputError(f"X must be 2-D (n_samples, n_features), got shape {X.shape}")
    if labels.ndim != 1 or labels.shape[0] != X.shape[0]:
        raise S_DbwInputError(f"labels must be 1-D with {X.shape[0]} entries, "
                              f"got shape {labels.shape}")
    keep = labels != NOISE
    values, codes = np.unique(labels[keep], return_inverse=True)
    if len(values) < 2:
        raise S_DbwInputError(f"S_Dbw needs at least 2 clusters (noise -1 excluded), "
                              f"got {len(values)}")
    if not np.issubdtype(X.dtype, np.floating):
        X = X.astype(np.float64)
    # Stable sort: within a cluster the points keep their input row order.
    rows = np.flatnonzero(keep)[np.argsort(codes, kind="stable")]
    points = X[rows]
    if not np.all(np.isfinite(points)):
        raise S_DbwInputError("X contains NaN or infinite values")
    counts = np.bincount(codes, minlength=len(values))
    starts = np.concatenate([[0], np.cumsum(counts)])
    return _Clusters(values, points, starts, int((~keep).sum()))


def _sq_norms(A: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", A, A)


def _direct_inside(P: np.ndarray, centres: np.ndarray, rows, cols, radius_sq: float
                   ) -> np.ndarray:
    """``sum((x - p)^2) <= r^2`` for the (row, col) entries, in chunks (bounded memory)."""
    out = np.empty(len(rows), dtype=bool)
    step = max(1, 2**22 // max(1, P.shape[1]))
    for lo in range(0, len(rows), step):
        diff = (np.asarray(P[rows[lo:lo + step]], dtype=np.float64)
                - centres[cols[lo:lo + step]])
        out[lo:lo + step] = np.einsum("ij,ij->i", diff, diff) <= radius_sq
    return out


def _count_within(points: np.ndarray, centres: np.ndarray, radius_sq: float,
                  shift: np.ndarray | None = None) -> np.ndarray:
    """For every centre (row of ``centres``), how many ``points`` lie within sqrt(radius_sq).

    Fast path: one float32 GEMM per block gives |x - p|^2 - r^2 as
    [x', |x'|^2 - r^2, 1] . [-2p', 1, |p'|^2] on coordinates shifted by ``shift`` (small
    norms, small rounding). Entries whose value lies within a bound on the float32 rounding
    error are decided again in float64, first by the same expansion (whole block, when many
    are unsure), then by the direct difference ``sum((x - p)^2) <= r^2`` in the original
    coordinates: the final decisions equal a naive float64 loop's.
    """
    d = points.shape[1]
    shift = np.zeros(d) if shift is None else shift
    shifted = centres - shift
    shifted_sq = _sq_norms(shifted)
    right64 = np.vstack([-2.0 * shifted.T, np.ones(len(centres)), shifted_sq])
    right32 = right64.astype(np.float32)
    # Rounding bound of a float32 dot of length d + 2 whose terms sum (in absolute value) to
    # at most 2(|x'|^2 + |p'|^2) + r^2, plus the rounding of the inputs; a factor 2 spare.
    eps32 = float(np.finfo(np.float32).eps)
    counts = np.zeros(len(centres), dtype=np.int64)
    for lo in range(0, len(points), _BLOCK_ROWS):
        P = np.asarray(points[lo:lo + _BLOCK_ROWS], dtype=np.float64) - shift
        p_sq = _sq_norms(P)
        left = np.empty((len(P), d + 2))
        left[:, :d] = P
        left[:, d] = p_sq - radius_sq
        left[:, d + 1] = 1.0
        scale = 2.0 * (float(p_sq.max()) + float(shifted_sq.max())) + radius_sq
        margin = 2.0 * (d + 8) * eps32 * scale
        excess = left.astype(np.float32) @ right32
        inside = excess <= 0.0
        np.abs(excess, out=excess)
        rows, cols = np.nonzero(excess <= margin)
        if len(rows) > 4 * len(P):   # many unsure: settle most of them in float64 first
            excess64 = left @ right64
            inside = excess64 <= 0.0
            np.abs(excess64, out=excess64)
            rows, cols = np.nonzero(excess64 <= 1e-12 * scale + 1e-300)
        if len(rows):
            inside[rows, cols] = _direct_inside(points[lo:lo + _BLOCK_ROWS], centres,
                                                rows, cols, radius_sq)
        counts += np.count_nonzero(inside, axis=0)
    return counts


def _n_workers(n_jobs: int | None) -> int:
    if n_jobs is None:
        try:
            n_jobs = len(os.sched_getaffinity(0))
        except AttributeError:   # not on Linux
            n_jobs = os.cpu_count() or 1
    return max(1, int(n_jobs))


def _map_clusters(fn, n_clusters: int, n_jobs: int | None) -> list:
    """``[fn(i) for i in range(n_clusters)]`` on a thread pool, BLAS limited to one thread
    (numpy releases the GIL in products and ufuncs; results are integers: deterministic)."""
    from threadpoolctl import threadpool_limits

    workers = min(_n_workers(n_jobs), n_clusters)
    with threadpool_limits(limits=1, user_api="blas"):
        if workers == 1:
            return [fn(i) for i in range(n_clusters)]
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(fn, range(n_clusters)))


def _midpoints(centres: np.ndarray, i: int) -> np.ndarray:
    """u_ij = (v_i + v_j) / 2 for every j (the j = i row is v_i itself)."""
    return (centres[i][None, :] + centres) / 2.0


def s_dbw(X, labels, *, variant: str = "paper", return_diagnostics: bool = False,
          n_jobs: int | None = None):
    """S_Dbw validity index (lower is better), noise ``-1`` excluded.

    Parameters
    ----------
    X : array-like, shape (n_samples, n_features)
    labels : array-like, shape (n_samples,)
        Cluster labels; ``-1`` is noise.
    variant : {"paper", "halkidi_package"}
        ``"paper"``: the DESIGN/appendix A.2 formula (variance vectors, union densities).
        ``"halkidi_package"``: the numbers of the ``s_dbw`` package, method 'Halkidi',
        ``alg_noise='filter'`` (see module docstring).
    return_diagnostics : bool
        Also return a dict: scat, dens_bw, stdev, n_clusters, n_zero_density_pairs,
        n_noise_excluded, variant.
    n_jobs : int, optional
        Threads over clusters (default: the CPUs available to the process). BLAS runs
        single-threaded meanwhile: many small products parallelise better per cluster.

    Returns
    -------
    float, or (float, dict) with ``return_diagnostics=True``.

    Raises
    ------
    S_DbwInputError (a ConfigError and ValueError)
        Fewer than 2 clusters, shape mismatch, non-finite values, unknown variant.
    """
    if variant not in S_DBW_VARIANTS:
        raise S_DbwInputError(f"unknown S_Dbw variant {variant!r}; use one of {S_DBW_VARIANTS}")
    groups = _group(X, labels)
    if variant == "paper":
        value, diag = _s_dbw_paper(groups, n_jobs)
    else:
        value, diag = _s_dbw_halkidi_package(groups, n_jobs)
    diag.update(n_clusters=len(groups.values), n_noise_excluded=groups.n_noise, variant=variant)
    return (value, diag) if return_diagnostics else value


def _cluster_moments(groups: _Clusters):
    """Per cluster: mean (c, d) and population variance (c, d), float64."""
    c = len(groups.values)
    d = groups.points.shape[1]
    means = np.empty((c, d))
    variances = np.empty((c, d))
    for i in range(c):
        block = np.asarray(groups.block(i), dtype=np.float64)
        means[i] = block.mean(axis=0)
        variances[i] = block.var(axis=0)
    return means, variances


def _overall_moments(groups: _Clusters, means, variances):
    """Mean and population variance of all non-noise points, by the law of total variance
    (a sum of non-negative terms: no cancellation, no second pass over the data)."""
    sizes = np.diff(groups.starts).astype(np.float64)[:, None]
    n = sizes.sum()
    mean = (sizes * means).sum(axis=0) / n
    variance = (sizes * (variances + (means - mean) ** 2)).sum(axis=0) / n
    return mean, variance


def _all_identical(groups: _Clusters, overall_variance, means) -> bool:
    """Exact test, run only when the variance is negligible against the data's magnitude."""
    scale = max(1.0, float(np.abs(means).max())) ** 2
    if float(np.linalg.norm(overall_variance)) > 1e-20 * scale:
        return False
    pts = groups.points
    return bool(np.all(pts.max(axis=0) == pts.min(axis=0)))


_DEGENERATE = (1.0, {"scat": 0.0, "dens_bw": 1.0, "stdev": 0.0, "n_zero_density_pairs": 0})


def _s_dbw_paper(groups: _Clusters, n_jobs: int | None):
    c = len(groups.values)
    means, variances = _cluster_moments(groups)
    overall_mean, overall_variance = _overall_moments(groups, means, variances)
    if _all_identical(groups, overall_variance, means):
        return _DEGENERATE[0], dict(_DEGENERATE[1])
    var_norms = np.linalg.norm(variances, axis=1)
    scat = float(var_norms.mean() / np.linalg.norm(overall_variance))
    stdev = math.sqrt(var_norms.sum()) / c
    radius_sq = stdev * stdev
    # at_centre[a, b]: points of cluster a within stdev of v_b;
    # at_mid[a, b]: points of cluster a within stdev of u_ab.
    at_centre = np.zeros((c, c), dtype=np.int64)
    at_mid = np.zeros((c, c), dtype=np.int64)
    def count(i):
        targets = np.vstack([means, _midpoints(means, i)])
        return _count_within(groups.block(i), targets, radius_sq, overall_mean)

    for i, counts in enumerate(_map_clusters(count, c, n_jobs)):
        at_centre[i] = counts[:c]
        at_mid[i] = counts[c:]
    dens_mid = at_mid + at_mid.T                        # density_ij(u_ij), symmetric
    dens_vi = np.diag(at_centre)[:, None] + at_centre.T   # density_ij(v_i) = a(i,i) + a(j,i)
    denom = np.maximum(dens_vi, dens_vi.T)              # max(density_ij(v_i), density_ij(v_j))
    iu = np.triu_indices(c, k=1)
    ratios = dens_mid[iu] / np.maximum(denom[iu], 1)
    dens_bw = float(2.0 * ratios.sum() / (c * (c - 1)))
    return scat + dens_bw, {"scat": scat, "dens_bw": dens_bw, "stdev": stdev,
                            "n_zero_density_pairs": int((denom[iu] == 0).sum())}


def _s_dbw_halkidi_package(groups: _Clusters, n_jobs: int | None):
    c = len(groups.values)
    means, variances = _cluster_moments(groups)
    # As the package: ||std_i|| = sqrt(std_i . std_i), summed left to right in Python floats.
    std_norm_sum = 0.0
    for std in np.sqrt(variances):
        std_norm_sum += math.sqrt(float(np.dot(std, std)))
    overall_mean, overall_variance = _overall_moments(groups, means, variances)
    overall_std = np.sqrt(overall_variance)
    overall_norm = math.sqrt(float(np.dot(overall_std, overall_std)))
    if overall_norm == 0.0 or _all_identical(groups, overall_variance, means):
        return _DEGENERATE[0], dict(_DEGENERATE[1])
    scat = std_norm_sum / (overall_norm * c)
    stdev = math.sqrt(std_norm_sum) / c
    radius_sq = stdev * stdev
    # Centre = the cluster's point nearest to its mean (argmin: first in row order on ties).
    centres = np.empty_like(means)
    for i in range(c):
        block = np.asarray(groups.block(i), dtype=np.float64)
        diff = block - means[i]
        centres[i] = block[np.argmin(np.sqrt(np.einsum("ij,ij->i", diff, diff)))]
    own = np.zeros(c, dtype=np.int64)
    at_mid = np.zeros((c, c), dtype=np.int64)
    def count(i):
        targets = np.vstack([centres[i:i + 1], _midpoints(centres, i)])
        return _count_within(groups.block(i), targets, radius_sq, overall_mean)

    for i, counts in enumerate(_map_clusters(count, c, n_jobs)):
        own[i] = counts[0]
        at_mid[i] = counts[1:]
    dens_mid = at_mid + at_mid.T
    denom = np.maximum(own[:, None], own[None, :])   # >= 1: the centre is one of the points
    iu = np.triu_indices(c, k=1)
    ratios = dens_mid[iu] / np.maximum(denom[iu], 1)
    dens_bw = float(2.0 * ratios.sum() / (c * (c - 1)))
    return scat + dens_bw, {"scat": scat, "dens_bw": dens_bw, "stdev": stdev,
                            "n_zero_density_pairs": int((denom[iu] == 0).sum())}


# --------------------------------------------------------------------------------------------
# AMI
# --------------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------------
# Marginal gain and K selection
# --------------------------------------------------------------------------------------------

def _validated_grid(ks, scores) -> tuple[list[int], list[float], list[int]]:
    """ks and scores as lists plus the ascending-K order; raises on bad input."""
    ks = [k for k in ks]
    scores = [s for s in scores]
    if len(ks) != len(scores):
        raise ValueError(f"ks and scores differ in length: {len(ks)} vs {len(scores)}")
    if not ks:
        raise ValueError("empty K grid")
    for k in ks:
        if isinstance(k, bool) or int(k) != k:
            raise ValueError(f"K must be an integer, got {k!r}")
    ks = [int(k) for k in ks]
    if len(set(ks)) != len(ks):
        raise ValueError(f"duplicate K in grid: {ks}")
    for s in scores:
        if s is None or not math.isfinite(float(s)):
            raise ValueError(f"scores must be finite numbers, got {s!r}")
    scores = [float(s) for s in scores]
    order = sorted(range(len(ks)), key=ks.__getitem__)
    return ks, scores, order


def marginal_gain(ks: Sequence[int], scores: Sequence[float]) -> list[float | None]:
    """|S(K) - S(K')| / (K - K'), K' the previous (smaller) grid point.

    Returns a list aligned with the input; the smallest K has no previous point: ``None``.
    """
    ks, scores, order = _validated_grid(ks, scores)
    gains: list[float | None] = [None] * len(ks)
    for prev, cur in zip(order, order[1:]):
        gains[cur] = abs(scores[cur] - scores[prev]) / (ks[cur] - ks[prev])
    return gains


def select_k(ks: Sequence[int], scores: Sequence[float], threshold: float = 0.01) -> int:
    """First K (ascending) whose marginal gain is strictly below ``threshold``; if none, the
    largest K. A single-point grid returns that K."""
    gains = marginal_gain(ks, scores)
    ks, _, order = _validated_grid(ks, scores)
    for idx in order[1:]:
        if gains[idx] < threshold:
            return ks[idx]
    return ks[order[-1]]


# --------------------------------------------------------------------------------------------
# Data loss
# --------------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------------
# Co-occurrence
# --------------------------------------------------------------------------------------------

@dataclasses.dataclass
class Cooccurrence:
    """Text x image label proportions and their Hungarian column order."""
    counts: np.ndarray          # (n_text_labels, n_image_labels) integer counts
    proportions: np.ndarray     # counts / total
    row_labels: np.ndarray      # text label values (sorted)
    col_labels: np.ndarray      # image label values (sorted)
    column_order: np.ndarray    # column indices: matched (in row order) then unmatched
    permuted: np.ndarray        # proportions[:, column_order]
    matched_rows: np.ndarray    # row index of each matched column, in column_order
    matched_total: float        # sum of matched proportions (maximal)

    @property
    def permuted_col_labels(self) -> np.ndarray:
        return self.col_labels[self.column_order]

    def to_dict(self) -> dict:
        return {"proportions": self.proportions.tolist(),
                "row_labels": self.row_labels.tolist(),
                "col_labels": self.col_labels.tolist(),
                "column_order": self.column_order.tolist(),
                "permuted": self.permuted.tolist(),
                "permuted_col_labels": self.permuted_col_labels.tolist(),
                "matched_total": self.matched_total}


def cooccurrence(text_labels, image_labels) -> Cooccurrence:
    """Proportions of (text label, image label) with columns in Hungarian order."""
    from scipy.optimize import linear_sum_assignment

    t = _as_label_array(text_labels, "text_labels")
    im = _as_label_array(image_labels, "image_labels")
    if len(t) != len(im):
        raise ValueError(f"label arrays differ in length: {len(t)} vs {len(im)}")
    if len(t) == 0:
        raise ValueError("no labels")
    row_labels, rows = np.unique(t, return_inverse=True)
    col_labels, cols = np.unique(im, return_inverse=True)
    counts = np.zeros((len(row_labels), len(col_labels)), dtype=np.int64)
    np.add.at(counts, (rows, cols), 1)
    proportions = counts / len(t)
    matched_r, matched_c = linear_sum_assignment(proportions, maximize=True)  # rows ascending
    unmatched = np.setdiff1d(np.arange(len(col_labels)), matched_c)
    column_order = np.concatenate([matched_c, unmatched]).astype(np.int64)
    return Cooccurrence(counts=counts, proportions=proportions, row_labels=row_labels,
                        col_labels=col_labels, column_order=column_order,
                        permuted=proportions[:, column_order],
                        matched_rows=matched_r.astype(np.int64),
                        matched_total=float(proportions[matched_r, matched_c].sum()))


# --------------------------------------------------------------------------------------------
# Within-cluster consistency
# --------------------------------------------------------------------------------------------

def _is_coded(theme) -> bool:
    if theme is None:
        return False
    if isinstance(theme, float) and math.isnan(theme):
        return False
    return not (isinstance(theme, str) and not theme.strip())


def within_cluster_consistency(themes: Iterable) -> float:
    """Share of coded posts whose theme equals the most frequent theme (appendix E).

    ``None``/NaN/blank themes are excluded; raises ``ValueError`` if none is left.
    """
    coded = [t.strip() if isinstance(t, str) else t for t in themes if _is_coded(t)]
    if not coded:
        raise ValueError("no coded themes: consistency is undefined")
    return Counter(coded).most_common(1)[0][1] / len(coded)
