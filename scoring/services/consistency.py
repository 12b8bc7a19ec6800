"""Within-cluster consistency (paper appendix E) with Wilson intervals and a chance baseline.

Conventions (each one a choice the paper leaves open):

* Unit: one cluster sample × pass × coder. Only the coder's *coded* posts count (an uncoded post
  is excluded, not counted as a miss); themes are compared after codebook merges
  (``theme_merged_id``). The score is ``clustering_engine.metrics.within_cluster_consistency``.
* Ties: when several themes share the top count the score is the same whichever is "modal";
  ``modal_theme`` lists all tied themes (sorted, joined by " | ") and ``n_modal_themes`` > 1
  flags the tie.
* Interval: Wilson 95% score interval for ``n_modal`` successes out of ``n_coded``. It treats the
  modal theme as fixed, so it is slightly optimistic for a maximum of counts; with n = 10 it is
  still far better than the Wald interval (which collapses at 0 and 1).
* Chance baseline: the modal share expected if the coder's own themes were assigned to posts
  at random, i.e. if clusters were random. The coder's coded posts in the same round and pass
  form a pool; ``n_coded`` of them are drawn without replacement, ``BASELINE_DRAWS`` times with a
  seeded generator (``default_rng([seed, round, coder, pass, n])``), and the mean modal share
  is reported. A coder who coded a single cluster has a baseline equal to the score itself.
* Per solution: the coders of a cluster are averaged first (calibration clusters coded by
  three coders do not weigh three times), then clusters are averaged; the 95% interval is the
  t interval over clusters, clipped to [0, 1]; with fewer than two clusters it is undefined.
"""
from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pandas as pd
from scipy import stats

from annotation.passes import PASS_INDEX

Z_95 = 1.959963984540054
BASELINE_DRAWS = 2000


def in_pass_order(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Sort rows by ``by`` with passes in coding order (text, image, joint), not alphabetically."""
    if frame.empty:
        return frame.reset_index(drop=True)
    order = frame["pass"].map(PASS_INDEX).fillna(9)
    return (frame.assign(_pass_order=order).sort_values([*by, "_pass_order"], kind="stable")
            .drop(columns="_pass_order").reset_index(drop=True))


SOLUTION_KEYS = ["solution_pk", "solution_id", "run_id", "method", "algorithm", "k"]
CLUSTER_KEYS = ["round_id", "sample_pk", "cluster_sample", *SOLUTION_KEYS, "cluster_label"]


def wilson_interval(successes: int, n: int, z: float = Z_95) -> tuple[float | None, float | None]:
    """Wilson score interval for a proportion; (None, None) when n = 0."""
    if n <= 0:
        return None, None
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def wilson_intervals(successes: np.ndarray, n: np.ndarray, z: float = Z_95):
    """``wilson_interval`` over arrays (every n > 0); returns (low, high) arrays."""
    n = n.astype(float)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return np.maximum(0.0, centre - half), np.minimum(1.0, centre + half)


def mean_interval(values, confidence: float = 0.95) -> tuple[float | None, float | None, float | None]:
    """(mean, low, high): t interval over values, clipped to [0, 1]; no interval below 2 values."""
    values = np.asarray([v for v in values if v is not None and not pd.isna(v)], dtype=float)
    if values.size == 0:
        return None, None, None
    mean = float(values.mean())
    if values.size < 2:
        return mean, None, None
    half = stats.t.ppf((1 + confidence) / 2, values.size - 1) * values.std(ddof=1) / math.sqrt(values.size)
    return mean, max(0.0, mean - half), min(1.0, mean + half)


def modal_themes(themes) -> tuple[list, int]:
    """All themes with the top count, and that count."""
    counts = Counter(themes)
    top = max(counts.values())
    return sorted(t for t, c in counts.items() if c == top), top


def expected_modal_share(pool: np.ndarray, n: int, rng: np.random.Generator,
                         draws: int = BASELINE_DRAWS) -> float:
    """Mean modal share of ``n`` themes drawn without replacement from ``pool`` (theme codes)."""
    pool = np.asarray(pool)
    if n <= 0 or pool.size == 0:
        return float("nan")
    n = min(n, pool.size)
    _, counts = np.unique(pool, return_counts=True)
    # theme counts of n posts drawn without replacement: a multivariate hypergeometric draw
    # ("count": one draw per post, ~15x faster than "marginals" for a coder's pool of a few
    # thousand codes and 40 themes; the same distribution)
    drawn = rng.multivariate_hypergeometric(counts, n, size=draws, method="count")
    return float(drawn.max(axis=1).mean() / n)


def _baselines(codes: pd.DataFrame, seed: int) -> dict[tuple, float]:
    """(round, coder_id, pass, n) -> expected modal share under random assignment."""
    lean = pd.DataFrame({"round_id": codes["round_id"].to_numpy(),
                         "coder_id": codes["coder_id"].to_numpy(),
                         "pass": codes["pass"].to_numpy(dtype=object),
                         "sample_pk": codes["sample_pk"].to_numpy(),
                         "theme": codes["theme_merged_id"].to_numpy()})
    pools = ["round_id", "coder_id", "pass"]
    sizes = lean.groupby([*pools, "sample_pk"], sort=False).size().rename("n").reset_index()
    sizes = sizes.groupby(pools, sort=False)["n"].unique()
    out = {}
    for (round_id, coder_id, pass_name), pool in lean.groupby(pools, sort=False)["theme"]:
        themes = pool.to_numpy()
        for n in sorted(int(s) for s in sizes[(round_id, coder_id, pass_name)]):
            rng = np.random.default_rng([seed, int(round_id), int(coder_id),
                                         PASS_INDEX.get(pass_name, 9), n])
            out[(round_id, coder_id, pass_name, n)] = expected_modal_share(themes, n, rng)
    return out


def cluster_scores(codes: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """One row per cluster sample × pass × coder (see the module notes).

    Vectorised over all groups at once (a round of 100 coders has ~75,000 of them), grouped by
    integer keys (sample, pass, coder id) with the sample's and coder's columns joined after:
    the score is ``within_cluster_consistency``'s share, n_modal / n_coded, from the theme
    counts."""
    columns = [*CLUSTER_KEYS, "pass", "coder", "coder_id", "posts_in_sample", "n_coded",
               "n_modal", "consistency", "modal_theme", "n_modal_themes", "wilson_low",
               "wilson_high", "chance_baseline"]
    codes = codes[codes["theme_merged_id"].notna()]
    if codes.empty:
        return pd.DataFrame(columns=columns)
    baselines = _baselines(codes, seed)
    themes = codes.drop_duplicates("theme_merged_id")
    names = dict(zip(themes["theme_merged_id"], themes["theme"]))
    keys = ["sample_pk", "pass", "coder_id"]
    lean = pd.DataFrame({"sample_pk": codes["sample_pk"].to_numpy(),
                         "pass": codes["pass"].to_numpy(dtype=object),
                         "coder_id": codes["coder_id"].to_numpy(),
                         "theme": codes["theme_merged_id"].to_numpy(dtype="int64")})
    counts = lean.groupby([*keys, "theme"], sort=False).size().rename("count").reset_index()
    grouped = counts.groupby(keys, sort=False)
    counts["top"] = grouped["count"].transform("max")
    counts["n_coded"] = grouped["count"].transform("sum")
    tied = counts[counts["count"] == counts["top"]]
    tied = tied.assign(name=tied["theme"].map(names).astype(str).astype(object))
    by_group = tied.groupby(keys, sort=False)
    frame = by_group.agg(n_coded=("n_coded", "first"), n_modal=("top", "first"),
                         n_modal_themes=("name", "size"), modal_theme=("name", "first"))
    ties = frame.index[frame["n_modal_themes"] > 1]
    if len(ties):   # joining names in Python only where several themes share the top count
        tied_names = tied.set_index(keys).loc[ties, "name"]
        frame.loc[ties, "modal_theme"] = tied_names.groupby(level=[0, 1, 2], sort=False).agg(
            lambda n: " | ".join(sorted(n)))
    frame = frame.reset_index()
    samples = codes.drop_duplicates("sample_pk")[[*CLUSTER_KEYS, "posts_in_sample"]]
    coders = codes.drop_duplicates("coder_id")[["coder_id", "coder"]]
    frame = frame.merge(samples, on="sample_pk", how="left").merge(coders, on="coder_id",
                                                                   how="left")
    frame["consistency"] = frame["n_modal"] / frame["n_coded"]
    low, high = wilson_intervals(frame["n_modal"].to_numpy(), frame["n_coded"].to_numpy())
    frame["wilson_low"], frame["wilson_high"] = low, high
    frame["chance_baseline"] = [baselines[key] for key in zip(
        frame["round_id"], frame["coder_id"], frame["pass"], frame["n_coded"])]
    return in_pass_order(frame[columns], ["solution_id", "round_id", "cluster_label", "coder"])


def cluster_means(scores: pd.DataFrame) -> pd.DataFrame:
    """One row per cluster sample × pass: the mean over its coders (what figure E.1 draws)."""
    if scores.empty:
        return pd.DataFrame(columns=[*CLUSTER_KEYS, "pass", "n_coders", "consistency",
                                     "chance_baseline"])
    return (scores.groupby([*CLUSTER_KEYS, "pass"], sort=False, dropna=False)
            .agg(n_coders=("coder", "nunique"), consistency=("consistency", "mean"),
                 chance_baseline=("chance_baseline", "mean"))
            .reset_index().pipe(in_pass_order, ["solution_id", "round_id", "cluster_label"]))


def solution_scores(scores: pd.DataFrame) -> pd.DataFrame:
    """One row per solution × pass: mean consistency over clusters with its 95% interval."""
    columns = [*SOLUTION_KEYS, "pass", "n_clusters", "mean", "ci_low", "ci_high", "chance_mean"]
    per_cluster = cluster_means(scores)
    if per_cluster.empty:
        return pd.DataFrame(columns=columns)
    rows = []
    for keys, group in per_cluster.groupby([*SOLUTION_KEYS, "pass"], sort=False, dropna=False):
        mean, low, high = mean_interval(group["consistency"])
        rows.append(dict(zip([*SOLUTION_KEYS, "pass"], keys), n_clusters=len(group), mean=mean,
                         ci_low=low, ci_high=high,
                         chance_mean=float(group["chance_baseline"].mean())))
    return in_pass_order(pd.DataFrame(rows, columns=columns), ["solution_id"])
