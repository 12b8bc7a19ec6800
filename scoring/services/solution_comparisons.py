"""Which solution do coders find more coherent, and how sure: pairwise differences between
solutions with 95 % intervals and p-values, Holm-adjusted, and a ranking with uncertainty.

Method (docs/statistics.md states it with its assumptions and references)
    * The statistics compared are the ones the scores page shows: a solution's mean
      within-cluster consistency (coders averaged within a cluster first, then clusters
      averaged) per pass, and a solution's intrusion precision (correct picks / answers).
    * The design is crossed: clusters (or intrusion tasks) are nested in solutions, and the
      same coders code clusters of every solution. Intervals come from the pigeonhole (two-way)
      bootstrap for crossed random effects (Owen 2007, Ann. Appl. Stat. 1(2)): each replicate
      resamples clusters within each solution and, independently, coders across the round,
      and weights every (cluster, coder) score by the product of the two multiplicities. The
      same coder weights serve both solutions of a pair, so a coder who is strict everywhere
      moves both means together (the pairing the design has). With fewer than
      ``MIN_CODERS_RESAMPLED`` coders, coders are held fixed (clusters resampled only): the
      comparison is then about these coders, and the page says so.
    * Interval: the difference ± t(0.975, n-1) · SE, SE the replicates' standard deviation
      scaled by √(n/(n-1)) (the bootstrap's variance of a mean is (n-1)/n of the sample one),
      n the smaller solution's number of clusters; p-value (two-sided) from the same t. With
      one coder this is the two-sample t-test with unequal variances on cluster means (tested).
      A plain percentile interval, tried first, was anti-conservative at the paper's size
      (docs/statistics.md); this one is checked by benchmarks/bench_comparisons.py.
      Holm's step-down adjustment (statsmodels) over every pair of a pass is reported beside
      the raw p-values, both labelled.
    * Posts shared by clusters of two solutions are not paired: clusters of different solutions
      are different sampling units (our convention, stated on the page).
"""
from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
from scipy import stats

DEFAULT_REPLICATES = 2000
# Our convention: coders are resampled (a population of coders) from this many on; with fewer,
# the comparison is conditional on the round's coders (clusters resampled only), because a
# bootstrap over 2-4 coders mostly measures which coder happened to be dropped.
MIN_CODERS_RESAMPLED = 5
ALPHA = 0.05
RANKING_COLUMNS = ["statistic", "pass", "rank", "solution_id", "mean", "better_than",
                   "not_distinguishable_from"]
COMPARISON_COLUMNS = ["statistic", "pass", "solution_a", "solution_b", "mean_a", "mean_b",
                      "difference", "ci_low", "ci_high", "p_value", "p_holm",
                      "distinguishable", "n_units_a", "n_units_b", "n_coders", "replicates"]


def _multinomial_weights(rng: np.random.Generator, groups: np.ndarray, replicates: int
                         ) -> np.ndarray:
    """Bootstrap multiplicities (replicates × units): each group's units resampled with
    replacement within the group."""
    weights = np.zeros((replicates, len(groups)))
    for group in np.unique(groups):
        idx = np.flatnonzero(groups == group)
        draws = rng.integers(0, len(idx), size=(replicates, len(idx)))
        counts = np.zeros((replicates, len(idx)))
        np.add.at(counts, (np.arange(replicates)[:, None], draws), 1.0)
        weights[:, idx] = counts
    return weights


def _crossed_means(values: np.ndarray, coded: np.ndarray, unit_group: np.ndarray,
                   groups: list, replicates: int, seed: int, pooled: bool = False
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Observed and replicated group means.

    ``values``/``coded``: units × coders (score, whether that coder scored that unit).
    Default: a unit's mean is over its coders and a group's mean over its units (consistency);
    ``pooled``: a group's value is its scores' sum over their count (precision = correct /
    answers). Returns ``(observed[group], replicated[replicate, group])``; NaN where
    undefined."""
    rng = np.random.default_rng(seed)
    unit_w = _multinomial_weights(rng, unit_group, replicates)
    n_coders = coded.shape[1]
    if n_coders >= MIN_CODERS_RESAMPLED:
        coder_w = rng.multinomial(n_coders, np.full(n_coders, 1 / n_coders),
                                  size=replicates).astype(float)
    else:   # too few coders to stand for a population: inference for these coders
        coder_w = np.ones((replicates, n_coders))
    filled = np.where(coded, values, 0.0)

    def group_means(unit_weights, coder_weights):
        num = coder_weights @ filled.T                     # (r, units)
        den = coder_weights @ coded.T.astype(float)
        unit_means = np.divide(num, den, out=np.zeros_like(num), where=den > 0)
        defined = den > 0
        out = np.full((len(unit_weights), len(groups)), np.nan)
        for g, name in enumerate(groups):
            cols = unit_group == name
            if pooled:
                top = (unit_weights[:, cols] * num[:, cols]).sum(axis=1)
                total = (unit_weights[:, cols] * den[:, cols]).sum(axis=1)
            else:
                w = unit_weights[:, cols] * defined[:, cols]
                top, total = (w * unit_means[:, cols]).sum(axis=1), w.sum(axis=1)
            out[:, g] = np.divide(top, total, out=np.full(len(total), np.nan),
                                  where=total > 0)
        return out

    observed = group_means(np.ones((1, len(unit_group))), np.ones((1, coded.shape[1])))[0]
    return observed, group_means(unit_w, coder_w)


def _pairs(statistic: str, pass_name: str, groups: list, observed, replicated, n_units,
           n_coders: int, replicates: int) -> list[dict]:
    rows = []
    for a, b in itertools.combinations(range(len(groups)), 2):
        diffs = replicated[:, a] - replicated[:, b]
        diffs = diffs[np.isfinite(diffs)]
        difference = observed[a] - observed[b]
        n = min(n_units[a], n_units[b])
        if len(diffs) < 2 or not np.isfinite(difference) or n < 2:
            low = high = p = None
        else:
            # The bootstrap variance of a mean of n resampled clusters is (n-1)/n of the
            # sample one: scale it back, and refer to t with n-1 degrees of freedom.
            se = float(np.std(diffs, ddof=1)) * math.sqrt(n / (n - 1))
            t = stats.t.ppf(0.975, n - 1)
            low, high = difference - t * se, difference + t * se
            p = (float(2 * stats.t.sf(abs(difference) / se, n - 1)) if se > 0
                 else float(difference == 0))
        rows.append({"statistic": statistic, "pass": pass_name,
                     "solution_a": groups[a], "solution_b": groups[b],
                     "mean_a": float(observed[a]), "mean_b": float(observed[b]),
                     "difference": float(difference), "ci_low": low, "ci_high": high,
                     "p_value": p, "n_units_a": int(n_units[a]), "n_units_b": int(n_units[b]),
                     "n_coders": n_coders, "replicates": replicates})
    return rows


def holm(p_values) -> list[float | None]:
    """Holm-adjusted p-values (statsmodels' ``multipletests``), None kept where p is None."""
    from statsmodels.stats.multitest import multipletests

    known = [i for i, p in enumerate(p_values) if p is not None]
    out: list[float | None] = [None] * len(p_values)
    if known:
        adjusted = multipletests([p_values[i] for i in known], method="holm")[1]
        for i, p in zip(known, adjusted):
            out[i] = float(p)
    return out


def _finish(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=[c for c in COMPARISON_COLUMNS
                                        if c not in ("p_holm", "distinguishable")])
    frame["p_holm"] = None
    for _, idx in frame.groupby(["statistic", "pass"], sort=False).groups.items():
        frame.loc[idx, "p_holm"] = holm(frame.loc[idx, "p_value"].tolist())
    frame["distinguishable"] = [p is not None and p < ALPHA for p in frame["p_holm"]]
    return frame[COMPARISON_COLUMNS]


def _compare(frame: pd.DataFrame, statistic: str, by: str, unit: str, value: str,
             replicates: int, seed: int, pooled: bool) -> pd.DataFrame:
    """Every pair of solutions per ``by`` value, from a frame with one row per ``unit`` ×
    coder holding its ``value``; units are nested in solutions, coders crossed with them."""
    rows = []
    if frame.empty:
        return _finish(rows)
    for part_name, part in frame.groupby(by, sort=False):
        units = part[[unit, "solution_id"]].drop_duplicates(unit)
        coders = sorted(part["coder"].unique())
        groups = sorted(units["solution_id"].unique())
        if len(groups) < 2:
            continue
        unit_index = {u: i for i, u in enumerate(units[unit])}
        coder_index = {c: j for j, c in enumerate(coders)}
        values = np.zeros((len(units), len(coders)))
        coded = np.zeros_like(values, dtype=bool)
        i = part[unit].map(unit_index).to_numpy()
        j = part["coder"].map(coder_index).to_numpy()
        values[i, j] = part[value].astype(float).to_numpy()
        coded[i, j] = True
        unit_group = units["solution_id"].to_numpy()
        observed, replicated = _crossed_means(values, coded, unit_group, groups, replicates,
                                              seed, pooled=pooled)
        n_units = [int((unit_group == g).sum()) for g in groups]
        rows += _pairs(statistic, part_name, groups, observed, replicated, n_units,
                       len(coders), replicates)
    return _finish(rows)


def consistency_comparisons(cluster_scores: pd.DataFrame, replicates: int = DEFAULT_REPLICATES,
                            seed: int = 0) -> pd.DataFrame:
    """Every pair of solutions, per pass, from ``consistency.cluster_scores`` (one row per
    cluster sample × pass × coder): the difference in mean consistency."""
    return _compare(cluster_scores, "consistency", "pass", "sample_pk", "consistency",
                    replicates, seed, pooled=False)


def intrusion_comparisons(answers: pd.DataFrame, replicates: int = DEFAULT_REPLICATES,
                          seed: int = 0) -> pd.DataFrame:
    """Every pair of solutions, per intrusion kind, from ``intrusion.answers`` (one row per
    task × coder): the difference in precision (correct / answers, as the page shows it),
    tasks resampled within solution and coders across the round."""
    return _compare(answers, "intrusion precision", "kind", "task", "correct", replicates,
                    seed, pooled=True)


def ranking(comparisons: pd.DataFrame, statistic: str = "consistency") -> pd.DataFrame:
    """Per pass: the solutions ordered by their mean, best first, and for each the solutions
    it is distinguishable from at 5 % after Holm's adjustment ("" when none)."""
    rows = []
    part = comparisons[comparisons["statistic"] == statistic]
    for pass_name, group in part.groupby("pass", sort=False):
        means = {}
        beats: dict[str, list[str]] = {}
        ties: dict[str, list[str]] = {}
        for r in group.itertuples():
            means[r.solution_a], means[r.solution_b] = r.mean_a, r.mean_b
            target = beats if r.distinguishable else ties
            high, low = ((r.solution_a, r.solution_b) if r.difference >= 0
                         else (r.solution_b, r.solution_a))
            target.setdefault(high, []).append(low)
            if not r.distinguishable:
                ties.setdefault(low, []).append(high)
        for rank, (solution, mean) in enumerate(sorted(means.items(), key=lambda kv: -kv[1]), 1):
            rows.append({"statistic": statistic, "pass": pass_name, "rank": rank,
                         "solution_id": solution,
                         "mean": mean, "better_than": ", ".join(sorted(beats.get(solution, []))),
                         "not_distinguishable_from": ", ".join(sorted(ties.get(solution, [])))})
    return pd.DataFrame(rows, columns=RANKING_COLUMNS)


def all_comparisons(cluster_scores: pd.DataFrame, answers: pd.DataFrame | None,
                    replicates: int = DEFAULT_REPLICATES, seed: int = 0
                    ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(every pair, the rankings) for consistency per pass and intrusion precision per kind."""
    frames = [consistency_comparisons(cluster_scores, replicates, seed)]
    if answers is not None and len(answers):
        frames.append(intrusion_comparisons(answers, replicates, seed))
    pairs = pd.concat([f for f in frames if len(f)] or [frames[0]], ignore_index=True)
    ranked = [ranking(pairs, "consistency"), ranking(pairs, "intrusion precision")]
    ranked = pd.concat([r for r in ranked if len(r)] or [ranked[0]], ignore_index=True)
    return pairs, ranked
