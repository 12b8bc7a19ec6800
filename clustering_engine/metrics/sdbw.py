"""S_Dbw (Halkidi & Vazirgiannis 2001; the paper's internal quality index), two variants.

Conventions (each one is a choice the paper leaves open; they are tested):

S_Dbw (``variant="paper"``, DESIGN "Definitions"; Halkidi & Vazirgiannis 2001)
    * Noise (label ``-1``) is excluded everywhere, including ``S`` in ``sigma(S)``.
    * ``sigma`` is the per-dimension population variance (``ddof=0``); ``v_i`` the cluster mean.
    * ``density_ij(p)`` counts the points of ``c_i`` and ``c_j`` within ``stdev`` of ``p``
      (``<=``; the DESIGN formula, not the "own cluster" density of public packages).
    * Zero densities: a ratio is ``density_ij(u_ij) / max(density_ij(v_i), density_ij(v_j))``.
      When both centre densities are 0 the ratio is undefined and the pair adds 0 (DESIGN):
      adding the raw midpoint count would make S_Dbw grow with n (two empty centres with a
      full midpoint scored 1000.5 instead of Scat's 0.5). ``n_zero_density_pairs`` (unordered
      pairs) counts them, ``n_cluster_pairs`` all pairs, and ``reduced_to_scat`` is True when
      they are most pairs: then Dens_bw is ~0 and S_Dbw has reduced to Scat
      (``s_dbw_reading`` says so in words).
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
"""
from __future__ import annotations

import dataclasses
import math
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ..errors import ConfigError

NOISE = -1
S_DBW_VARIANTS = ("paper", "halkidi_package")
_BLOCK_ROWS = 8192     # rows per distance block: memory ~ block x 2K x 8 bytes


class S_DbwInputError(ConfigError, ValueError):
    """Input that S_Dbw cannot score (fewer than two clusters, shape mismatch, NaN)."""


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


_DEGENERATE = (1.0, {"scat": 0.0, "dens_bw": 1.0, "stdev": 0.0, "n_zero_density_pairs": 0,
                     "n_cluster_pairs": 0, "reduced_to_scat": False})


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
    zero = denom[iu] == 0
    # Both centre densities 0: the ratio is undefined and the pair adds 0 (DESIGN); adding
    # the raw midpoint count instead would make S_Dbw grow with n.
    ratios = np.where(zero, 0.0, dens_mid[iu] / np.maximum(denom[iu], 1))
    dens_bw = float(2.0 * ratios.sum() / (c * (c - 1)))
    return scat + dens_bw, {"scat": scat, "dens_bw": dens_bw, "stdev": stdev,
                            **_zero_density_summary(int(zero.sum()), len(zero))}


def _zero_density_summary(n_zero: int, n_pairs: int) -> dict:
    return {"n_zero_density_pairs": n_zero, "n_cluster_pairs": n_pairs,
            "reduced_to_scat": bool(n_pairs and 2 * n_zero > n_pairs)}


def s_dbw_reading(diagnostics: dict | None) -> str | None:
    """A sentence to show beside S_Dbw when most cluster pairs had zero centre densities
    (then Dens_bw is ~0 and S_Dbw has reduced to Scat); None otherwise."""
    if not diagnostics or not diagnostics.get("reduced_to_scat"):
        return None
    return (f"S_Dbw has reduced to Scat at this K: {diagnostics['n_zero_density_pairs']} of "
            f"{diagnostics['n_cluster_pairs']} cluster pairs have no point within stdev of "
            "either centre, so they add nothing to Dens_bw "
            f"({diagnostics.get('dens_bw', 0.0):.3g}); the value measures compactness only.")


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
                            **_zero_density_summary(int((denom[iu] == 0).sum()), len(iu[0]))}
