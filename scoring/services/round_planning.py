"""Planning a round before it opens: how precise each solution's consistency will be, the
smallest difference between two solutions detectable with 80 % power, and how precisely α will
be estimated from the calibration set.

The model (stated on the round form and in docs/statistics.md; its defaults are our
assumptions, to be replaced by a pilot round's estimates): a coder's consistency on a cluster
is the share of ``posts`` coded posts that agree, with the cluster's true coherence drawn around
the solution's mean with between-cluster standard deviation ``cluster_sd`` and a coder offset
with standard deviation ``coder_sd``. The standard error of a solution's mean over C clusters,
each coded by c coders (calibration clusters by all coders), is

    SE² = (cluster_sd² + (coder_sd² + p(1-p)/posts) / c̄) / C

with c̄ the average number of coders per cluster; the half-width of the 95 % interval is
t(0.975, C-1)·SE, and the smallest detectable difference between two solutions with power
0.8 at 5 % (two-sided, no multiplicity adjustment) is (t₀.₉₇₅ + t₀.₈)·√2·SE, t with C-1
degrees of freedom as the comparison's own interval.
``simulate_design`` checks the closed form by simulating the scores page's own statistic.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

DEFAULT_MEAN = 0.6          # our assumptions for a first round (a pilot's estimates replace them)
DEFAULT_CLUSTER_SD = 0.15
DEFAULT_CODER_SD = 0.05
POWER = 0.8
MAX_ALPHA_POSTS = 2000


@dataclass(frozen=True)
class Design:
    clusters_per_solution: int
    posts_per_cluster: int = 10
    coders: int = 3
    calibration_clusters: int = 10       # coded by every coder, out of all solutions' clusters
    solutions: int = 3
    overlap_full: bool = False           # every coder codes every cluster
    mean: float = DEFAULT_MEAN
    cluster_sd: float = DEFAULT_CLUSTER_SD
    coder_sd: float = DEFAULT_CODER_SD

    def coders_per_cluster(self) -> float:
        if self.overlap_full or self.coders <= 1:
            return float(max(self.coders, 1))
        total = self.clusters_per_solution * self.solutions
        calibration = min(self.calibration_clusters, total)
        return (calibration * self.coders + (total - calibration)) / max(total, 1)


def plan(design: Design) -> dict:
    """Expected half-width of a solution's 95 % consistency interval, the detectable
    difference at 80 % power, and the α interval width expected from the calibration set."""
    C = design.clusters_per_solution
    if C < 2:
        return {**asdict(design), "half_width": None, "detectable_difference": None,
                "note": "a solution needs at least 2 clusters for an interval"}
    p = design.mean
    within = design.coder_sd ** 2 + p * (1 - p) / max(design.posts_per_cluster, 1)
    se = math.sqrt((design.cluster_sd ** 2 + within / design.coders_per_cluster()) / C)
    half = stats.t.ppf(0.975, C - 1) * se
    detectable = (stats.t.ppf(0.975, C - 1) + stats.t.ppf(POWER, C - 1)) * math.sqrt(2) * se
    return {**asdict(design), "coders_per_cluster": round(design.coders_per_cluster(), 3),
            "standard_error": se, "half_width": half, "detectable_difference": detectable,
            "alpha_interval_width": alpha_interval_width(design)}


def power_at(design: Design, difference: float) -> float | None:
    """The planner's power for one pair of solutions ``difference`` apart (5 %, two-sided,
    before Holm's adjustment), under the same model as ``plan``."""
    result = plan(design)
    if result["half_width"] is None:
        return None
    df = design.clusters_per_solution - 1
    z = abs(difference) / (math.sqrt(2) * result["standard_error"])
    return float(stats.t.cdf(z - stats.t.ppf(0.975, df), df))


def alpha_interval_width(design: Design, replicates: int = 200, seed: int = 0) -> float | None:
    """Expected width of a bootstrap 95 % interval for α from the calibration set: units =
    calibration posts (clusters × posts), every coder; a coder agrees with the cluster's
    modal theme with probability ``mean`` else picks one of 4 other themes (our model)."""
    import krippendorff

    units = min(design.calibration_clusters, design.clusters_per_solution * design.solutions)
    if design.overlap_full:
        units = design.clusters_per_solution * design.solutions
    planned = units * design.posts_per_cluster
    if design.coders < 2 or planned < 2:
        return None
    # Beyond MAX_ALPHA_POSTS the width is simulated there and scaled by √(n_max / n): a
    # bootstrap interval's width falls as 1/√n, and the page must answer in a moment.
    n = min(planned, MAX_ALPHA_POSTS)
    scale = math.sqrt(n / planned)
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 5, size=n)
    agree = rng.random((design.coders, n)) < design.mean
    other = (truth + rng.integers(1, 5, size=(design.coders, n))) % 5
    data = np.where(agree, truth, other).astype(float)
    alphas = []
    for _ in range(replicates):
        idx = rng.integers(0, n, size=n)
        try:
            alphas.append(krippendorff.alpha(reliability_data=data[:, idx],
                                             level_of_measurement="nominal"))
        except ValueError:
            continue
    if len(alphas) < 10:
        return None
    low, high = np.percentile(alphas, [2.5, 97.5])
    return float(high - low) * scale


def simulate_design(design: Design, difference: float = 0.0, repetitions: int = 400,
                    replicates: int = 500, seed: int = 0) -> dict:
    """Simulated studies of ``design`` with the first solution ``difference`` above the others:
    the share of repetitions where any Holm-adjusted pair is distinguishable (the false-positive
    rate when ``difference`` is 0), the share where the planted pair is (power), and the mean
    half-width of the page's t interval."""
    import pandas as pd

    from .consistency import mean_interval
    from .solution_comparisons import consistency_comparisons

    rng = np.random.default_rng(seed)
    S, C, J = design.solutions, design.clusters_per_solution, design.coders
    any_hit = planted_hit = pair_raw = 0
    widths = []
    total = S * C
    calibration = set(rng.permutation(total)[:min(design.calibration_clusters, total)])
    for r in range(repetitions):
        coder_offset = rng.normal(0, design.coder_sd, J)
        rows = []
        for u in range(total):
            s = u // C
            p_true = design.mean + (difference if s == 0 else 0.0) + rng.normal(0, design.cluster_sd)
            coders = (range(J) if design.overlap_full or u in calibration
                      else [u % J])
            for j in coders:
                p = float(np.clip(p_true + coder_offset[j], 0, 1))
                value = rng.binomial(design.posts_per_cluster, p) / design.posts_per_cluster
                rows.append({"solution_id": f"s{s}", "sample_pk": u, "coder": f"coder_{j}",
                             "pass": "text", "consistency": value})
        scores = pd.DataFrame(rows)
        table = consistency_comparisons(scores, replicates=replicates, seed=r)
        any_hit += bool(table["distinguishable"].any())
        planted = table[(table["solution_a"] == "s0") | (table["solution_b"] == "s0")]
        planted_hit += bool(planted["distinguishable"].all()) if difference else 0
        first_pair = table[(table["solution_a"] == "s0") & (table["solution_b"] == "s1")]
        pair_raw += bool((first_pair["p_value"] < 0.05).all())
        first = scores[scores["solution_id"] == "s0"].groupby("sample_pk")["consistency"].mean()
        _, low, high = mean_interval(first)
        widths.append((high - low) / 2)
    return {"repetitions": repetitions, "difference": difference,
            "any_distinguishable": any_hit / repetitions,
            "planted_distinguishable": planted_hit / repetitions if difference else None,
            "one_pair_raw": pair_raw / repetitions,
            "mean_half_width": float(np.mean(widths))}
