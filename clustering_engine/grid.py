"""The grid runner: methods x K x algorithms over already-embedded pairs.

Each space is reduced once and reused for every K and algorithm. Everything is seeded, so
the same inputs and config give the same labels.

Evaluation spaces: a label-level solution has no feature space of its own, and S_Dbw values
from different spaces are not comparable. Every solution is therefore scored twice:
``s_dbw_own`` in the space it was clustered in (None for label-level), and ``s_dbw_common``
in one common reference space per data set: the vector-level space, i.e. the L2-normalised
text+image concatenation after the same reduction as every other space.
"""
from __future__ import annotations

import dataclasses
import time
from typing import Callable

import numpy as np

from . import metrics
from .cluster import ClusterConfig
from .distinct import cluster_distinct, reduce_distinct
from .errors import ConfigError
from .methods import combine_labels, split_k, vector_level_space
from .reduce import ReductionConfig
from .spec import (COMMON_SPACE, COMMON_SPACE_LABEL, DEFAULT_ALGORITHMS,  # noqa: F401  (re-exported)
                   DEFAULT_KS, DEFAULT_SEED, METHODS, chosen_solutions, solution_id)

Progress = Callable[[str, float], None]


@dataclasses.dataclass(frozen=True)
class GridConfig:
    methods: tuple[str, ...] = METHODS
    ks: tuple[int, ...] = DEFAULT_KS
    algorithms: tuple[str, ...] = DEFAULT_ALGORITHMS
    reduction: ReductionConfig = ReductionConfig()
    kmeans_n_init: int = 3
    hdbscan_min_cluster_size: int | None = None
    hdbscan_min_samples: int | None = None
    hdbscan_alpha: float = 1.0
    modality_weights: tuple[float, float] = (1.0, 1.0)
    marginal_gain_threshold: float = 0.01
    ami_permutations: int = 100
    seed: int = DEFAULT_SEED

    def __post_init__(self):
        unknown = set(self.methods) - set(METHODS)
        if unknown:
            raise ConfigError(f"unknown method(s) {sorted(unknown)}; choose from {METHODS}")
        if not self.methods:
            raise ConfigError("choose at least one method")
        if self.ami_permutations < 1:
            raise ConfigError(f"ami_permutations must be at least 1, got {self.ami_permutations}")
        bad = [k for k in self.ks if k < 2]
        if bad:
            raise ConfigError(f"every K must be at least 2, got {bad}")

    def cluster_config(self, algorithm: str) -> ClusterConfig:
        return ClusterConfig(algorithm=algorithm, n_init=self.kmeans_n_init,
                             min_cluster_size=self.hdbscan_min_cluster_size,
                             min_samples=self.hdbscan_min_samples, alpha=self.hdbscan_alpha,
                             seed=self.seed)


@dataclasses.dataclass
class GridSolution:
    """One clustering of the pairs made by the grid (the platform stores it as a Solution row)."""
    id: str
    method: str                 # label | vector | joint | text | image (single modality)
    algorithm: str
    k: int | None               # requested K (None for plain HDBSCAN)
    labels: np.ndarray
    k_text: int | None = None
    k_image: int | None = None
    space: str | None = None    # the space it was clustered in; None for label-level
    seconds: float = 0.0
    note: str = ""
    metrics: dict = dataclasses.field(default_factory=dict)

    @property
    def n_clusters(self) -> int:
        return int(len(np.unique(self.labels[self.labels >= 0])))

    @property
    def noise_share(self) -> float:
        return float((self.labels < 0).mean()) if len(self.labels) else 0.0

    def summary(self) -> dict:
        """The manifest entry: everything but the per-pair labels."""
        return {"id": self.id, "method": self.method, "algorithm": self.algorithm,
                "k": self.k, "k_text": self.k_text, "k_image": self.k_image,
                "n_clusters": self.n_clusters, "noise_share": round(self.noise_share, 6),
                "space": self.space, "seconds": round(self.seconds, 3), "note": self.note,
                "metrics": self.metrics}


@dataclasses.dataclass
class GridResult:
    solutions: list[GridSolution]            # the three methods' solutions
    modality_solutions: list[GridSolution]   # text-only and image-only building blocks
    spaces: dict[str, np.ndarray]        # reduced spaces by name
    reductions: dict[str, dict]          # effective reduction parameters + seconds
    ami_diagnostic: list[dict]
    k_selection: dict                    # per method/algorithm/space: gains and chosen K
    timings: dict[str, float]
    figure_metrics: FigureMetrics | None = None   # what the figures draw beyond the manifest


@dataclasses.dataclass
class FigureMetrics:
    """Metrics only the figures show, computed with the others so the figures just draw."""
    chosen: dict[str, str]                     # method -> chosen solution id (spec.chosen_solutions)
    data_loss_curves: dict[str, np.ndarray]    # chosen solution id -> full data-loss curve
    heatmap_solution: str | None = None        # label-level solution shown as a heatmap
    cooccurrence: metrics.Cooccurrence | None = None   # its text x image label co-occurrence
    ami: float | None = None                   # AMI of its text and image labels


def run_grid(text: np.ndarray, image: np.ndarray, joint: np.ndarray | None,
             config: GridConfig = GridConfig(), progress: Progress | None = None) -> GridResult:
    """Cluster the pairs over the grid and score every solution.

    ``text`` (n, p), ``image`` (n, q) and ``joint`` (n, r) are row-aligned embeddings; ``joint``
    may be None only when the joint method is not requested.
    """
    advance = progress or (lambda stage, fraction: None)
    n = len(text)
    if len(image) != n or (joint is not None and len(joint) != n):
        raise ConfigError("text, image and joint embeddings must have the same number of rows")
    if "joint" in config.methods and joint is None:
        raise ConfigError("the joint method needs joint embeddings (CLIP or rcca)")
    too_big = [k for k in config.ks if k > n]
    if too_big:
        raise ConfigError(f"K={too_big[0]} is larger than the number of pairs ({n}); "
                          f"use K <= {n}")
    timings: dict[str, float] = {}

    # 1. Spaces, each reduced once. The common space (vector-level) is always built.
    raw = {"vector": vector_level_space(text, image, config.modality_weights)}
    if "label" in config.methods:
        raw["text"], raw["image"] = text, image
    if "joint" in config.methods:
        raw["joint"] = joint
    spaces: dict[str, np.ndarray] = {}
    reductions: dict[str, dict] = {}
    for i, (name, X) in enumerate(raw.items()):
        advance(f"reduce {name}", 0.4 * i / len(raw))
        reduced = reduce_distinct(X, config.reduction)   # each distinct vector once
        spaces[name] = reduced.vectors
        reductions[name] = {**reduced.effective, "seconds": round(reduced.seconds, 3),
                            "input_dim": int(X.shape[1])}
        timings[f"reduce_{name}"] = reduced.seconds

    # 2. Clustering over the grid.
    started = time.perf_counter()
    solutions: list[GridSolution] = []
    modality: dict[tuple[str, str, int | None], GridSolution] = {}
    jobs = _grid_jobs(config)
    for j, (method, algorithm, k) in enumerate(jobs):
        advance(f"cluster {solution_id(method, algorithm, k)}", 0.4 + 0.4 * j / max(len(jobs), 1))
        if method == "label":
            solutions.append(_label_level(spaces, config, algorithm, k, modality))
        else:
            cfg = config.cluster_config(algorithm)
            result = cluster_distinct(spaces[method], cfg, k)
            solutions.append(GridSolution(solution_id(method, algorithm, k), method, algorithm, k,
                                      result.labels, space=method, seconds=result.seconds,
                                      note=result.note))
    timings["cluster"] = time.perf_counter() - started

    # 3. Metrics.
    started = time.perf_counter()
    advance("metrics", 0.8)
    for s in solutions + list(modality.values()):
        _score(s, spaces)
    ami_rows = _ami_diagnostic(modality, config)
    ami_by_split = {(r["algorithm"], r["k_text"], r["k_image"]): r["ami"] for r in ami_rows}
    for s in solutions:
        if s.algorithm == "hdbscan":
            s.metrics["ami_text_image"] = ami_by_split.get(("hdbscan", None, None))
        elif s.k is not None:
            kt, ki = split_k(s.k)
            s.metrics["ami_text_image"] = ami_by_split.get((s.algorithm, kt, ki))
    k_selection = _select_k(solutions, config)
    figure_metrics = _figure_metrics(solutions, list(modality.values()), k_selection)
    timings["metrics"] = time.perf_counter() - started
    advance("done", 1.0)
    return GridResult(solutions, list(modality.values()), spaces, reductions, ami_rows,
                      k_selection, timings, figure_metrics)


def _grid_jobs(config: GridConfig) -> list[tuple[str, str, int | None]]:
    jobs = []
    for method in config.methods:
        for algorithm in config.algorithms:
            if algorithm == "hdbscan":
                jobs.append((method, algorithm, None))     # HDBSCAN picks its own K
            else:
                jobs.extend((method, algorithm, k) for k in config.ks)
    return jobs


def _label_level(spaces, config, algorithm, k, modality) -> GridSolution:
    """Cluster text and image separately (reusing earlier single-modality runs) and combine."""
    k_text, k_image = (None, None) if k is None else split_k(k)
    parts = []
    for name, kk in (("text", k_text), ("image", k_image)):
        key = (name, algorithm, kk)
        if key not in modality:
            if kk == 1:   # a prime K splits as 1 x K: one text (or image) cluster
                labels, seconds, note = np.zeros(len(spaces[name]), np.int32), 0.0, "K=1"
            else:
                result = cluster_distinct(spaces[name], config.cluster_config(algorithm), kk)
                labels, seconds, note = result.labels, result.seconds, result.note
            modality[key] = GridSolution(solution_id(name, algorithm, kk), name, algorithm, kk,
                                     labels, space=name, seconds=seconds, note=note)
        parts.append(modality[key])
    labels = combine_labels(parts[0].labels, parts[1].labels)
    return GridSolution(solution_id("label", algorithm, k), "label", algorithm, k, labels,
                    k_text=k_text, k_image=k_image, space=None,
                    seconds=parts[0].seconds + parts[1].seconds,
                    note="; ".join(p.note for p in parts if p.note))


def _score(s: GridSolution, spaces: dict[str, np.ndarray]) -> None:
    m = s.metrics
    m["n_clusters"] = s.n_clusters
    m["noise_share"] = round(s.noise_share, 6)
    curve = metrics.data_loss_curve(s.labels)
    m["data_loss_top25"] = float(metrics.data_loss_at(s.labels, 25))
    m["data_loss_curve"] = [round(float(x), 6) for x in curve[:100]]
    m["s_dbw_own"], m["s_dbw_own_parts"] = (_s_dbw_or_none(spaces[s.space], s.labels)
                                            if s.space else (None, None))
    if s.space == COMMON_SPACE:
        m["s_dbw_common"], m["s_dbw_common_parts"] = m["s_dbw_own"], m["s_dbw_own_parts"]
    else:
        m["s_dbw_common"], m["s_dbw_common_parts"] = _s_dbw_or_none(spaces[COMMON_SPACE], s.labels)


def _s_dbw_or_none(X: np.ndarray, labels: np.ndarray) -> tuple[float | None, dict | None]:
    """S_Dbw and its parts (scat, dens_bw, stdev, pairs with zero densities). S_Dbw needs two
    clusters; with fewer (e.g. everything noise) both are reported as None."""
    if len(np.unique(labels[labels >= 0])) < 2:
        return None, None
    value, parts = metrics.s_dbw(X, labels, return_diagnostics=True)
    keep = ("scat", "dens_bw", "stdev", "n_clusters", "n_zero_density_pairs")
    return float(value), {k: (float(parts[k]) if isinstance(parts[k], float) else parts[k])
                          for k in keep if k in parts}


def _ami_diagnostic(modality, config: GridConfig) -> list[dict]:
    """AMI between the text-only and image-only labels at each (K_t, K_i) of the grid."""
    splits = {(a, *split_k(k)) for a in config.algorithms if a != "hdbscan" for k in config.ks}
    if "hdbscan" in config.algorithms:
        splits.add(("hdbscan", None, None))
    rows = []
    for algorithm, kt, ki in sorted(splits, key=str):
        text = modality.get(("text", algorithm, kt))
        image = modality.get(("image", algorithm, ki))
        if text is None or image is None:   # label-level combination was not requested
            continue
        test = metrics.ami_permutation_test(text.labels, image.labels,
                                            n_permutations=config.ami_permutations,
                                            seed=config.seed)
        rows.append({"algorithm": algorithm, "k_text": kt, "k_image": ki,
                     "ami": float(test["ami"]), "p_value": float(test["p_value"]),
                     "null_band": [float(x) for x in test["null_band"]],
                     "n_permutations": test["n_permutations"],
                     "reading": metrics.interpret_ami(test["ami"])})
    return rows


def _select_k(solutions: list[GridSolution], config: GridConfig) -> dict:
    """Marginal gain of S_Dbw over K per method x algorithm x space, and the chosen K."""
    out = {}
    for method in config.methods:
        for algorithm in config.algorithms:
            if algorithm == "hdbscan":
                continue
            series = sorted((s for s in solutions if s.method == method
                             and s.algorithm == algorithm), key=lambda s: s.k)
            for space in ("own", "common"):
                points = [(s.k, s.metrics[f"s_dbw_{space}"]) for s in series
                          if s.metrics.get(f"s_dbw_{space}") is not None]
                if len(points) < 2:
                    continue
                ks, scores = zip(*points)
                out[f"{method}-{algorithm}-{space}"] = {
                    "method": method, "algorithm": algorithm, "space": space,
                    "ks": list(ks), "s_dbw": list(scores),
                    "marginal_gain": metrics.marginal_gain(ks, scores),
                    "threshold": config.marginal_gain_threshold,
                    "chosen_k": int(metrics.select_k(ks, scores,
                                                     config.marginal_gain_threshold))}
    for s in solutions:
        sel = out.get(f"{s.method}-{s.algorithm}-common")
        if sel is not None and s.k is not None:
            idx = sel["ks"].index(s.k) if s.k in sel["ks"] else None
            s.metrics["marginal_gain_common"] = sel["marginal_gain"][idx] if idx is not None else None
        own = out.get(f"{s.method}-{s.algorithm}-own")
        if own is not None and s.k in own["ks"]:
            s.metrics["marginal_gain_own"] = own["marginal_gain"][own["ks"].index(s.k)]
    return out


def _figure_metrics(solutions: list[GridSolution], modality_solutions: list[GridSolution],
                    k_selection: dict) -> FigureMetrics:
    """Data-loss curves of the chosen solutions, and the co-occurrence of the text and image
    labels behind the chosen label-level solution (else the largest K-Means label-level one)."""
    by_id = {s.id: s for s in solutions + modality_solutions}
    chosen = chosen_solutions(k_selection)
    curves = {sid: metrics.data_loss_curve(by_id[sid].labels)
              for sid in chosen.values() if sid in by_id}
    out = FigureMetrics(chosen, curves)
    if "label" in chosen:
        out.heatmap_solution = chosen["label"]
    else:
        labels = [s for s in solutions if s.method == "label" and s.algorithm == "kmeans"]
        out.heatmap_solution = max(labels, key=lambda s: s.k).id if labels else None
    if out.heatmap_solution is not None:
        label_solution = by_id[out.heatmap_solution]
        text = by_id[solution_id("text", "kmeans", label_solution.k_text)]
        image = by_id[solution_id("image", "kmeans", label_solution.k_image)]
        out.cooccurrence = metrics.cooccurrence(text.labels, image.labels)
        out.ami = metrics.ami(text.labels, image.labels)
    return out
