"""The grid runner: methods x K x algorithms over already-embedded pairs.

Each space is reduced once and reused for every K and algorithm. Everything is seeded, so
the same inputs and config give the same labels.

Evaluation spaces: S_Dbw values from different spaces are not comparable, and no single
method's space is "the" common one (the vector-level space favours vector-level solutions).
Every solution is scored in every method's space: ``s_dbw_by_space`` (a matrix: rows
solutions, columns spaces), with ``own_space`` marking the one it was clustered in (label-level:
the text and image spaces side by side, ``spec.SPACE_TITLES``). K is chosen per method by
marginal gain in its own space (``selects_k`` in ``k_selection``). ``s_dbw_common`` is kept for
readers of older runs: the vector-level column.

Known groupings: with ``truth`` labels (e.g. a news event per pair), every solution gets AMI
(the paper's Eq. (1), noise left out), ARI, homogeneity and completeness against them; the
truth never enters clustering.
"""
from __future__ import annotations

import dataclasses
import time
from typing import Callable

import numpy as np

from . import metrics
from .cluster import ClusterConfig
from .distinct import DistinctBySpace, cluster_distinct, reduce_distinct
from .errors import ConfigError
from .methods import combine_labels, split_k, vector_level_space
from .vectors import l2_normalise
from .reduce import ReductionConfig
from .spec import (COMMON_SPACE, COMMON_SPACE_LABEL, DEFAULT_ALGORITHMS,  # noqa: F401  (re-exported)
                   AMI_NORMALISATIONS, DEFAULT_AMI_NORMALISATION, DEFAULT_KS,
                   DEFAULT_LABEL_SPACE, DEFAULT_METHODS, DEFAULT_SEED, LABEL_SPACES, METHODS,
                   MODALITIES, chosen_solutions, solution_id)

Progress = Callable[[str, float], None]


@dataclasses.dataclass(frozen=True)
class GridConfig:
    methods: tuple[str, ...] = DEFAULT_METHODS
    ks: tuple[int, ...] = DEFAULT_KS
    algorithms: tuple[str, ...] = DEFAULT_ALGORITHMS
    reduction: ReductionConfig = ReductionConfig()
    kmeans_n_init: int = 3
    hdbscan_min_cluster_size: int | None = None
    hdbscan_min_samples: int | None = None
    hdbscan_alpha: float = 1.0
    hdbscan_backend: str = "hdbscan"      # or "fast_hdbscan" (cluster.py)
    hdbscan_fit_sample: int | None = None   # fit HDBSCAN on a sample, assign the rest (cluster.py)
    hdbscan_density_dims: int | None = None  # HDBSCAN on the first principal components (cluster.py)
    kmeans_fit_sample: int | None = None    # fit K-Means on a sample, nearest centre for the rest
    modality_weights: tuple[float, float] = (1.0, 1.0)
    marginal_gain_threshold: float = 0.01
    ami_permutations: int = 100
    ami_normalisation: str = DEFAULT_AMI_NORMALISATION   # "max": the paper's Eq. (1)
    label_space: str = DEFAULT_LABEL_SPACE   # "raw": label-level on unreduced vectors (paper)
    seed: int = DEFAULT_SEED

    def __post_init__(self):
        unknown = set(self.methods) - set(METHODS)
        if unknown:
            raise ConfigError(f"unknown method(s) {sorted(unknown)}; choose from {METHODS}")
        if not self.methods:
            raise ConfigError("choose at least one method")
        if self.ami_normalisation not in AMI_NORMALISATIONS:
            raise ConfigError(f"unknown AMI normalisation {self.ami_normalisation!r}; choose "
                              f"from {AMI_NORMALISATIONS}")
        if self.label_space not in LABEL_SPACES:
            raise ConfigError(f"unknown label-level space {self.label_space!r}; choose from "
                              f"{LABEL_SPACES}")
        if self.ami_permutations < 1:
            raise ConfigError(f"ami_permutations must be at least 1, got {self.ami_permutations}")
        bad = [k for k in self.ks if k < 2]
        if bad:
            raise ConfigError(f"every K must be at least 2, got {bad}")

    def cluster_config(self, algorithm: str) -> ClusterConfig:
        return ClusterConfig(algorithm=algorithm, n_init=self.kmeans_n_init,
                             min_cluster_size=self.hdbscan_min_cluster_size,
                             min_samples=self.hdbscan_min_samples, alpha=self.hdbscan_alpha,
                             seed=self.seed, hdbscan_backend=self.hdbscan_backend,
                             fit_sample=(self.kmeans_fit_sample if algorithm == "kmeans"
                                         else self.hdbscan_fit_sample),
                             density_dims=(None if algorithm == "kmeans"
                                           else self.hdbscan_density_dims))


@dataclasses.dataclass
class GridSolution:
    """One clustering of the pairs made by the grid (the platform stores it as a Solution row)."""
    id: str
    method: str                 # spec.METHOD_VOCABULARY (text | image | label | vector | joint | cca)
    algorithm: str
    k: int | None               # requested K (None for plain HDBSCAN)
    labels: np.ndarray
    k_text: int | None = None
    k_image: int | None = None
    space: str | None = None    # its own space (label-level: "label", text and image side by side)
    seconds: float = 0.0
    note: str = ""
    metrics: dict = dataclasses.field(default_factory=dict)
    parts: tuple[str, str] | None = None   # label-level: ids of its text and image clusterings

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
                "space": self.space, "parts": list(self.parts) if self.parts else None,
                "seconds": round(self.seconds, 3), "note": self.note, "metrics": self.metrics}


@dataclasses.dataclass
class GridResult:
    solutions: list[GridSolution]            # every method's solutions (text and image included)
    modality_solutions: list[GridSolution]   # label-level building blocks not among them
    spaces: dict[str, np.ndarray]        # reduced spaces by name
    reductions: dict[str, dict]          # effective reduction parameters + seconds
    ami_diagnostic: list[dict]
    k_selection: dict                    # per method/algorithm/space: gains and chosen K
    timings: dict[str, float]
    figure_metrics: FigureMetrics | None = None   # what the figures draw beyond the manifest
    score_spaces: tuple[str, ...] = ()   # the columns of the S_Dbw matrix (each method's space)
    distinct: DistinctBySpace | None = None   # each space's rows grouped by identical vectors


@dataclasses.dataclass
class FigureMetrics:
    """Metrics only the figures show, computed with the others so the figures just draw."""
    chosen: dict[str, str]                     # method -> chosen solution id (spec.chosen_solutions)
    data_loss_curves: dict[str, np.ndarray]    # chosen solution id -> full data-loss curve
    heatmap_solution: str | None = None        # label-level solution shown as a heatmap
    cooccurrence: metrics.Cooccurrence | None = None   # its text x image label co-occurrence
    ami: float | None = None                   # AMI of its text and image labels


def run_grid(text: np.ndarray, image: np.ndarray, joint: np.ndarray | None = None,
             config: GridConfig = GridConfig(), progress: Progress | None = None, *,
             cca: np.ndarray | None = None, truth=None) -> GridResult:
    """Cluster the pairs over the grid and score every solution.

    ``text`` (n, p) and ``image`` (n, q) are row-aligned embeddings; ``joint`` (n, r) the pair
    vectors of a pretrained multimodal model (needed by the ``joint`` method only); ``cca``
    the pairs in the CCA space learned from them (``cca`` method); ``truth`` known group
    labels per pair (scored against, never clustered on; missing values are left out).
    """
    advance = progress or (lambda stage, fraction: None)
    n = len(text)
    for name, X in (("image", image), ("joint", joint), ("cca", cca), ("truth", truth)):
        if X is not None and len(X) != n:
            raise ConfigError(f"text and {name} must have the same number of rows "
                              f"({n} vs {len(X)})")
    if "joint" in config.methods and joint is None:
        raise ConfigError("the joint method needs a pretrained multimodal model (CLIP: "
                          "--joint-model clip:...); the offline space learned from the pairs "
                          "is the `cca` method")
    if "cca" in config.methods and cca is None:
        raise ConfigError("the cca method needs the pairs' CCA space")
    too_big = [k for k in config.ks if k > n]
    if too_big:
        raise ConfigError(f"K={too_big[0]} is larger than the number of pairs ({n}); "
                          f"use K <= {n}")
    timings: dict[str, float] = {}
    methods = config.methods

    # 1. Spaces, each reduced once; label-level's is the text and image spaces side by side.
    # The vector-level input is built only for its own reduction and dropped after it (at
    # paper scale it is as large as the text and image embeddings together).
    inputs = {"text": text, "image": image, "joint": joint, "cca": cca}
    names = ((["text", "image"] if {"text", "image", "label"} & set(methods) else [])
             + [name for name in ("vector", "joint", "cca") if name in methods])
    spaces: dict[str, np.ndarray] = {}
    reductions: dict[str, dict] = {}
    for i, name in enumerate(names):
        advance(f"reduce {name}", 0.4 * i / len(names))
        X = (inputs[name] if name != "vector"
             else vector_level_space(text, image, config.modality_weights))
        reduced = reduce_distinct(X, config.reduction)   # each distinct vector once
        spaces[name] = reduced.vectors
        reductions[name] = {**reduced.effective, "seconds": round(reduced.seconds, 3),
                            "input_dim": int(X.shape[1])}
        timings[f"reduce_{name}"] = reduced.seconds
        del X, reduced
    if "label" in methods:
        if config.label_space == "raw":   # the paper: K-Means on the unreduced vectors
            spaces["text_raw"], spaces["image_raw"] = l2_normalise(text), l2_normalise(image)
            spaces["label"] = np.hstack([spaces["text_raw"], spaces["image_raw"]])
        else:
            spaces["label"] = np.hstack([spaces["text"], spaces["image"]])
    score_spaces = tuple(m for m in METHODS if m in methods)
    distinct = DistinctBySpace(spaces)

    # 2. Clustering over the grid (label-level last: it reuses text and image solutions).
    started = time.perf_counter()
    solutions: list[GridSolution] = []
    modality: dict[tuple[str, str, int | None], GridSolution] = {}
    jobs = _grid_jobs(config)
    for j, (method, algorithm, k) in enumerate(jobs):
        advance(f"cluster {solution_id(method, algorithm, k)}", 0.4 + 0.4 * j / max(len(jobs), 1))
        if method == "label":
            solutions.append(_label_level(spaces, config, algorithm, k, modality, solutions,
                                          distinct))
        else:
            cfg = config.cluster_config(algorithm)
            result = cluster_distinct(spaces[method], cfg, k, distinct[method])
            solutions.append(GridSolution(solution_id(method, algorithm, k), method, algorithm, k,
                                          result.labels, space=method, seconds=result.seconds,
                                          note=result.note))
    timings["cluster"] = time.perf_counter() - started

    # 3. Metrics.
    started = time.perf_counter()
    advance("metrics", 0.8)
    for s in solutions:
        _score(s, spaces, score_spaces)
    for s in modality.values():
        _score(s, spaces, (s.space,))
    by_id = {s.id: s for s in solutions + list(modality.values())}
    ami_rows = _ami_diagnostic(solutions, by_id, config)
    ami_by_split = {(r["algorithm"], r["k_text"], r["k_image"]): r for r in ami_rows}
    for s in solutions:
        split = ((s.algorithm, None, None) if s.k is None
                 else (s.algorithm, *split_k(s.k)))
        row = ami_by_split.get(split)
        s.metrics["ami_text_image"] = row["ami"] if row else None
        s.metrics["ami_text_image_share_left_out"] = row["share_left_out"] if row else None
    if truth is not None:
        for s in solutions:
            s.metrics["truth"] = metrics.agreement_with_truth(
                truth, s.labels, average_method=config.ami_normalisation)
    k_selection = _select_k(solutions, config, score_spaces)
    figure_metrics = _figure_metrics(solutions, list(modality.values()), k_selection, config)
    timings["metrics"] = time.perf_counter() - started
    advance("done", 1.0)
    return GridResult(solutions, list(modality.values()), spaces, reductions, ami_rows,
                      k_selection, timings, figure_metrics, score_spaces, distinct)


def _grid_jobs(config: GridConfig) -> list[tuple[str, str, int | None]]:
    jobs = []
    for method in sorted(config.methods, key=lambda m: m == "label"):   # label-level last
        for algorithm in config.algorithms:
            if algorithm == "hdbscan":
                jobs.append((method, algorithm, None))     # HDBSCAN picks its own K
            else:
                jobs.extend((method, algorithm, k) for k in config.ks)
    return jobs


def _label_level(spaces, config, algorithm, k, modality, solutions, distinct) -> GridSolution:
    """Cluster text and image separately and combine; a text or image solution of the grid
    at the same K is reused (same space, K and seed: the same labels)."""
    k_text, k_image = (None, None) if k is None else split_k(k)
    first_class = {s.id: s for s in solutions}
    parts = []
    for name, kk in (("text", k_text), ("image", k_image)):
        space = name if config.label_space == "reduced" else f"{name}_raw"
        sid = solution_id(space, algorithm, kk)
        key = (space, algorithm, kk)
        if sid in first_class:
            parts.append(first_class[sid])
            continue
        if key not in modality:
            if kk == 1:   # a prime K splits as 1 x K: one text (or image) cluster
                labels, seconds, note = np.zeros(len(spaces[space]), np.int32), 0.0, "K=1"
            else:
                result = cluster_distinct(spaces[space], config.cluster_config(algorithm), kk,
                                          distinct[space])
                labels, seconds, note = result.labels, result.seconds, result.note
            modality[key] = GridSolution(sid, name, algorithm, kk, labels, space=space,
                                         seconds=seconds, note=note)
        parts.append(modality[key])
    labels = combine_labels(parts[0].labels, parts[1].labels)
    return GridSolution(solution_id("label", algorithm, k), "label", algorithm, k, labels,
                        k_text=k_text, k_image=k_image, space="label",
                        seconds=parts[0].seconds + parts[1].seconds,
                        note="; ".join(p.note for p in parts if p.note),
                        parts=(parts[0].id, parts[1].id))


def _score(s: GridSolution, spaces: dict[str, np.ndarray], score_spaces) -> None:
    """Data loss, and S_Dbw in each of ``score_spaces`` (its own space always among them)."""
    m = s.metrics
    m["n_clusters"] = s.n_clusters
    m["noise_share"] = round(s.noise_share, 6)
    curve = metrics.data_loss_curve(s.labels)
    m["data_loss_top25"] = float(metrics.data_loss_at(s.labels, 25))
    m["data_loss_curve"] = [round(float(x), 6) for x in curve[:100]]
    by_space, parts_by_space = {}, {}
    for space in dict.fromkeys((*score_spaces, s.space)):
        by_space[space], parts_by_space[space] = _s_dbw_or_none(spaces[space], s.labels)
    m["own_space"] = s.space
    m["s_dbw_by_space"] = by_space
    m["s_dbw_parts_by_space"] = parts_by_space
    m["s_dbw_own"], m["s_dbw_own_parts"] = by_space[s.space], parts_by_space[s.space]
    m["s_dbw_own_reading"] = metrics.s_dbw_reading(parts_by_space[s.space])
    m["s_dbw_common"] = by_space.get(COMMON_SPACE)   # older readers: the vector-level column
    m["s_dbw_common_parts"] = parts_by_space.get(COMMON_SPACE)


def _s_dbw_or_none(X: np.ndarray, labels: np.ndarray) -> tuple[float | None, dict | None]:
    """S_Dbw and its parts (scat, dens_bw, stdev, pairs with zero densities, whether it
    reduced to Scat). S_Dbw needs two clusters; with fewer (e.g. everything noise) both are
    reported as None."""
    if len(np.unique(labels[labels >= 0])) < 2:
        return None, None
    value, parts = metrics.s_dbw(X, labels, return_diagnostics=True)
    keep = ("scat", "dens_bw", "stdev", "n_clusters", "n_zero_density_pairs", "n_cluster_pairs",
            "reduced_to_scat")
    return float(value), {k: (float(parts[k]) if isinstance(parts[k], float) else parts[k])
                          for k in keep if k in parts}


def _ami_diagnostic(solutions, by_id, config: GridConfig) -> list[dict]:
    """AMI between the text-only and image-only labels behind each label-level solution (the
    paper's Eq. (1) by default, noise in either left out), with its permutation null."""
    rows = []
    for s in sorted((s for s in solutions if s.method == "label"), key=lambda s: s.id):
        text, image = by_id[s.parts[0]], by_id[s.parts[1]]
        test = metrics.ami_permutation_test(text.labels, image.labels,
                                            n_permutations=config.ami_permutations,
                                            seed=config.seed,
                                            average_method=config.ami_normalisation)
        observed = test["ami"]
        reading = ("AMI is undefined: every pair is noise in the text or the image clustering."
                   if observed is None else
                   metrics.interpret_ami(observed, test["null_band"], test["p_value"]))
        rows.append({"algorithm": s.algorithm, "k_text": s.k_text, "k_image": s.k_image,
                     "text_solution": text.id, "image_solution": image.id,
                     "ami": None if observed is None else float(observed),
                     "p_value": test["p_value"],
                     "null_band": None if test["null_band"] is None else
                     [float(x) for x in test["null_band"]],
                     "n_permutations": test["n_permutations"],
                     "average_method": test["average_method"], "noise": test["noise"],
                     "n_left_out": test["n_left_out"],
                     "share_left_out": round(float(test["share_left_out"]), 6),
                     "joint_clustering_adds": (None if observed is None else
                                               metrics.joint_clustering_value(observed)),
                     "reading": reading})
    return rows


def _select_k(solutions: list[GridSolution], config: GridConfig, score_spaces) -> dict:
    """Marginal gain of S_Dbw over K per method x algorithm x space (every column of the
    matrix), the K each selects, and which entry chooses the method's K: its own space."""
    out = {}
    for method in config.methods:
        for algorithm in config.algorithms:
            if algorithm == "hdbscan":
                continue
            series = sorted((s for s in solutions if s.method == method
                             and s.algorithm == algorithm), key=lambda s: s.k)
            if not series:
                continue
            own = series[0].space
            for space in dict.fromkeys((*score_spaces, own)):
                points = [(s.k, s.metrics["s_dbw_by_space"].get(space),
                           s.metrics["s_dbw_parts_by_space"].get(space)) for s in series
                          if s.metrics["s_dbw_by_space"].get(space) is not None]
                if len(points) < 2:
                    continue
                ks, scores, parts = zip(*points)
                chosen_k, met = metrics.select_k_detail(ks, scores,
                                                        config.marginal_gain_threshold)
                out[f"{method}-{algorithm}-{space}"] = {
                    "method": method, "algorithm": algorithm, "space": space,
                    "own": space == own, "selects_k": space == own,
                    "ks": list(ks), "s_dbw": list(scores),
                    "marginal_gain": metrics.marginal_gain(ks, scores),
                    "s_dbw_rose": metrics.s_dbw_rose(ks, scores),
                    "reduced_to_scat": [bool(p and p.get("reduced_to_scat")) for p in parts],
                    "threshold": config.marginal_gain_threshold,
                    "chosen_k": int(chosen_k), "threshold_met": bool(met)}
    for s in solutions:
        own = out.get(f"{s.method}-{s.algorithm}-{s.space}")
        if own is not None and s.k in own["ks"]:
            i = own["ks"].index(s.k)
            s.metrics["marginal_gain_own"] = own["marginal_gain"][i]
            s.metrics["s_dbw_rose_own"] = own["s_dbw_rose"][i]
            s.metrics["chosen_k_own"] = own["chosen_k"] == s.k
        common = out.get(f"{s.method}-{s.algorithm}-{COMMON_SPACE}")
        if common is not None and s.k in common["ks"]:
            s.metrics["marginal_gain_common"] = common["marginal_gain"][common["ks"].index(s.k)]
    return out


def _figure_metrics(solutions: list[GridSolution], modality_solutions: list[GridSolution],
                    k_selection: dict, config: GridConfig) -> FigureMetrics:
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
        text, image = (by_id[sid] for sid in label_solution.parts)
        out.cooccurrence = metrics.cooccurrence(text.labels, image.labels)
        value = metrics.ami(text.labels, image.labels, average_method=config.ami_normalisation)
        out.ami = None if np.isnan(value) else value
    return out
