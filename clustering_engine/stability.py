"""Stability diagnostic: the paper's robustness advice (§7) made a number.

Each K-Means solution is clustered again with R further seeds (seed+1 .. seed+R) in the same
reduced space (no new reduction, so it stays cheap); its stability is the mean adjusted Rand
index (ARI) over all pairs of the R+1 labelings, with its range. Label-level solutions recluster
their text and image parts and combine them. HDBSCAN has no seed: rerun on the same space it
gives the same labels, so it gets no stability number.

Per method, the marginal-gain rule is rerun on each seed's solutions (S_Dbw in the space the
K selection used): `k_agreement` is the share of the R+1 seeds that choose the same K as the
reported run.

Our convention (not the paper's): a chosen K whose mean ARI is below LOW_STABILITY_ARI is
flagged as unstable.
"""
from __future__ import annotations

import itertools

import numpy as np

from . import metrics
from .distinct import cluster_distinct
from .methods import combine_labels

DEFAULT_STABILITY_SEEDS = 5
LOW_STABILITY_ARI = 0.8
CONVENTION = (f"ours: mean pairwise ARI over the reported seed and R further seeds; a chosen K "
              f"below {LOW_STABILITY_ARI} is flagged as unstable")


def stability_diagnostic(result, config, seeds: int = DEFAULT_STABILITY_SEEDS) -> dict | None:
    """Fill ``metrics['stability_ari_mean'|'stability_ari_range']`` of the K-Means solutions of
    ``result`` (a GridResult) and return the manifest's ``stability`` section (None if R = 0)."""
    if seeds <= 0:
        return None
    extra_seeds = [config.seed + r for r in range(1, seeds + 1)]
    # A label-level solution's parts are grid solutions (text-kmeans-k9) or modality-only ones:
    # look them up by the ids the solution records, never by (method, K) in one list only.
    parts = {s.id: s for s in result.solutions + result.modality_solutions}
    reseeded: dict[str, list[np.ndarray]] = {}
    memo: dict = {}   # a label-level solution's parts are modality solutions reseeded anyway
    for s in result.solutions + result.modality_solutions:
        if s.algorithm != "kmeans" or s.k is None:
            continue
        runs = _recluster(s, result, parts, config, extra_seeds, memo)
        if runs is None:
            continue
        reseeded[s.id] = runs
        mean, low, high = _pairwise_ari([s.labels] + runs)
        s.metrics["stability_ari_mean"] = mean
        s.metrics["stability_ari_range"] = [low, high]
    agreement = _k_agreement(result, config, reseeded, extra_seeds)
    flags = [{"method": a["method"], "solution": a["solution"], "chosen_k": a["chosen_k"],
              "stability_ari_mean": a["stability_ari_mean"]}
             for a in agreement.values()
             if a["stability_ari_mean"] is not None and a["stability_ari_mean"] < LOW_STABILITY_ARI]
    return {"seeds": seeds, "extra_seeds": extra_seeds, "measure": "adjusted Rand index",
            "threshold": LOW_STABILITY_ARI, "convention": CONVENTION,
            "algorithms": ["kmeans"],
            "note": "HDBSCAN has no seed (same space, same labels): not measured",
            "solutions": {sid: {"ari_mean": s.metrics["stability_ari_mean"],
                                "ari_range": s.metrics["stability_ari_range"]}
                          for sid, s in ((x.id, x) for x in result.solutions + result.modality_solutions)
                          if sid in reseeded},
            "k_agreement": agreement, "flags": flags}


def _recluster(s, result, parts, config, extra_seeds, memo=None) -> list[np.ndarray] | None:
    cfgs = [_seeded(config, "kmeans", seed) for seed in extra_seeds]
    memo = {} if memo is None else memo
    if s.method == "label":
        text, image = (parts.get(sid) for sid in (s.parts or (None, None)))
        if text is None or image is None:
            return None
        runs = []
        for cfg in cfgs:
            t = _one(text, result, cfg, memo)
            i = _one(image, result, cfg, memo)
            runs.append(combine_labels(t, i))
        return runs
    if s.space not in result.spaces:
        return None
    return [_one(s, result, cfg, memo) for cfg in cfgs]


def _one(s, result, cfg, memo) -> np.ndarray:
    """``s`` reclustered under ``cfg`` (its seed), once per space, K and seed."""
    if s.k is None or s.k < 2:            # a prime K's 1-cluster side: nothing to reseed
        return s.labels
    key = (s.space, s.k, cfg.seed)
    if key not in memo:
        rows = result.distinct[s.space] if result.distinct is not None else None
        memo[key] = cluster_distinct(result.spaces[s.space], cfg, s.k, rows).labels
    return memo[key]


def _seeded(config, algorithm: str, seed: int):
    import dataclasses

    return dataclasses.replace(config.cluster_config(algorithm), seed=seed)


def _pairwise_ari(labelings) -> tuple[float, float, float]:
    coded = [np.unique(labels, return_inverse=True) for labels in labelings]
    coded = [(np.ravel(inverse), len(values)) for values, inverse in coded]
    scores = [adjusted_rand(*a, *b) for a, b in itertools.combinations(coded, 2)]
    return (round(float(np.mean(scores)), 6), round(float(np.min(scores)), 6),
            round(float(np.max(scores)), 6))


def adjusted_rand(a: np.ndarray, n_a: int, b: np.ndarray, n_b: int) -> float:
    """scikit-learn's ``adjusted_rand_score`` for labels already coded 0..n-1, to the bit: the
    same integer pair counts from a dense contingency table (bincount), so each labeling is
    sorted once rather than once per pair (at 336,921 rows, 15 pairs per solution)."""
    n = np.int64(len(a))
    contingency = np.bincount(a.astype(np.int64) * n_b + b, minlength=n_a * n_b)
    contingency = contingency.reshape(n_a, n_b).astype(np.int64)
    n_c, n_k = contingency.sum(axis=1), contingency.sum(axis=0)
    sum_squares = (contingency ** 2).sum()
    tp = int(sum_squares - n)
    fp = int((contingency @ n_k).sum() - sum_squares)
    fn = int((contingency.T @ n_c).sum() - sum_squares)
    tn = int(n ** 2 - fp - fn - sum_squares)
    if fn == 0 and fp == 0:
        return 1.0
    return 2.0 * (tp * tn - fn * fp) / ((tp + fn) * (fn + tn) + (tp + fp) * (fp + tn))


def _selection_entries(k_selection: dict) -> list[dict]:
    """The entries whose chosen K is reported: those marked `selects_k`, else the common space."""
    entries = [e for e in k_selection.values() if e.get("algorithm") == "kmeans"]
    marked = [e for e in entries if e.get("selects_k")]
    return marked or [e for e in entries if e.get("space") == "common"]


def _space_of(entry: dict, result):
    from .spec import COMMON_SPACE

    name = entry.get("space")
    if name == "common":
        name = COMMON_SPACE
    elif name == "own":
        name = entry["method"]
    return result.spaces.get(name)


def _k_agreement(result, config, reseeded, extra_seeds) -> dict:
    """Per method: the K the marginal-gain rule picks on each seed's solutions."""
    from .spec import solution_id

    out = {}
    by_id = {s.id: s for s in result.solutions}
    for entry in _selection_entries(result.k_selection):
        method, ks = entry["method"], list(entry["ks"])
        X = _space_of(entry, result)
        ids = [solution_id(method, "kmeans", k) for k in ks]
        if X is None or not all(i in reseeded for i in ids):
            continue
        chosen_by_seed = [int(entry["chosen_k"])]
        for r in range(len(extra_seeds)):
            scores = [_s_dbw(X, reseeded[i][r]) for i in ids]
            points = [(k, v) for k, v in zip(ks, scores) if v is not None]
            if len(points) >= 2:
                chosen_by_seed.append(int(metrics.select_k(*zip(*points),
                                                           config.marginal_gain_threshold)))
        chosen = solution_id(method, "kmeans", int(entry["chosen_k"]))
        same = sum(k == chosen_by_seed[0] for k in chosen_by_seed)
        out[method] = {"method": method, "space": entry.get("space"),
                       "chosen_k": chosen_by_seed[0], "solution": chosen,
                       "chosen_k_by_seed": chosen_by_seed,
                       "same_k_share": round(same / len(chosen_by_seed), 6),
                       "stability_ari_mean": by_id[chosen].metrics.get("stability_ari_mean")
                       if chosen in by_id else None}
    return out


def _s_dbw(X, labels) -> float | None:
    if len(np.unique(labels[labels >= 0])) < 2:
        return None
    return float(metrics.s_dbw(X, labels))


def stability_text(solution_metrics: dict) -> str:
    """'0.94 [0.91, 0.99]' (mean pairwise ARI and range), '⚠' appended below the threshold;
    '—' when not measured (HDBSCAN, or no further seeds)."""
    mean = solution_metrics.get("stability_ari_mean")
    if mean is None:
        return "—"
    low, high = solution_metrics.get("stability_ari_range") or (mean, mean)
    flag = " ⚠" if mean < LOW_STABILITY_ARI else ""
    return f"{mean:.2f} [{low:.2f}, {high:.2f}]{flag}"


def stability_summary(section: dict | None) -> str:
    """One plain-text paragraph for reports: what was measured and how often K agreed."""
    if not section:
        return "Stability across seeds was not measured (0 further seeds)."
    agreement = "; ".join(f"{a['method']}: K={a['chosen_k']} chosen by {a['same_k_share']:.0%} "
                          f"of {len(a['chosen_k_by_seed'])} seeds"
                          for a in section.get("k_agreement", {}).values())
    flags = ", ".join(f"{f['solution']} (ARI {f['stability_ari_mean']:.2f})"
                      for f in section.get("flags", []))
    return (f"Stability: each K-Means solution reclustered with {section['seeds']} further "
            f"seed(s) in its own space; mean pairwise ARI [range] (⚠ below {section['threshold']}, "
            f"our threshold). Marginal-gain rule across seeds — {agreement or 'no K grid'}."
            + (f" Unstable chosen K: {flags}." if flags else ""))
