"""End-to-end run: pairs table -> validation -> embeddings (cached) -> grid -> descriptions ->
output folder (the format other tools and the platform read; documented in the README).
"""
from __future__ import annotations

import dataclasses
import datetime
import time
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from . import describe, spec
from .data import load_pairs
from .determinism import determinism_record, pinned_call
from .distinct import HDBSCAN_MULTIPLICITY, KMEANS_MULTIPLICITY, distinct_counts
from .embed import embed_images, embed_pairs, embed_texts, precision_policy
from .embedders import get_embedder
from .errors import ConfigError, DataError
from .grid import GridConfig, GridResult, run_grid
from .hashing import file_sha256
from .joint_space import LABEL as RCCA_LABEL
from .joint_space import HELD_OUT_TOP, REG_GRID, RegularizedCCA, held_out_check
from .output import RUN_FORMAT, write_manifest, write_outputs
from .stability import DEFAULT_STABILITY_SEEDS, stability_diagnostic
from .spec import (COMMON_SPACE_LABEL, DEFAULT_CHECK_MODE, DEFAULT_COMBINE,
                   DEFAULT_IMAGE_MODEL, DEFAULT_JOINT_MODEL, DEFAULT_TEXT_MODEL, FIGURE_FORMATS,
                   METHOD_TITLES, NO_JOINT_MODEL_NOTE, SPACE_TITLES, has_joint_model, models_for,
                   runnable_methods)
from .versions import VERSIONED_PACKAGES, package_versions  # noqa: F401  (re-exported)

Progress = Callable[[str, float], None]
DEFAULT_CACHE = Path.home() / ".cache" / "diptych" / "embeddings"


@dataclasses.dataclass(frozen=True)
class EngineConfig:
    text_model: str = DEFAULT_TEXT_MODEL
    image_model: str = DEFAULT_IMAGE_MODEL
    joint_model: str = DEFAULT_JOINT_MODEL   # "clip:<spec>" for the joint method; "" none
    joint_combine: str = DEFAULT_COMBINE     # pair vector: [text ; image] or their mean
    rcca_components: int = 128               # the cca method's regularised CCA
    rcca_reg: float | str = "auto"           # "auto": chosen by held-out correlation
    grid: GridConfig = GridConfig()
    device: str = "auto"
    text_batch_size: int = 64
    image_batch_size: int = 32
    workers: int = 2
    check_images: str = DEFAULT_CHECK_MODE
    cache_dir: str | None = None
    top_terms: int = 10
    representatives: int = 5
    language: str = "auto"
    stop_words_file: str | None = None
    figure_formats: tuple[str, ...] = FIGURE_FORMATS   # SVG is always made (the report inlines it)
    threads: int | None = None               # BLAS/OpenMP/numba threads of the grid (None: min(4, CPUs))
    stability_seeds: int = DEFAULT_STABILITY_SEEDS   # further K-Means seeds per solution; 0 skips
    truth_column: str | None = None          # known groupings to score against (never clustered on)
    copy_embeddings: bool = True             # False: embeddings stay in the cache only (smaller folder)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class Embeddings:
    pair_ids: list[str]
    text: np.ndarray
    image: np.ndarray
    joint: np.ndarray | None
    models: dict[str, dict]
    cca: np.ndarray | None = None


def monotonic_progress(progress: Progress) -> Progress:
    """``progress`` never told a smaller fraction than before, nor "done" before the end."""
    last = [0.0]

    def advance(stage: str, fraction: float) -> None:
        if stage == "done" and fraction < 1.0:
            stage = "finishing"
        last[0] = max(last[0], float(fraction))
        progress(stage, last[0])
    return advance


def run(data_path: str, images_root: str | None, out_dir: str,
        config: EngineConfig = EngineConfig(), progress: Progress | None = None,
        echo: Callable[[str], None] = print) -> dict:
    """Run the engine and write ``out_dir``; returns the manifest."""
    advance = monotonic_progress(progress or (lambda stage, fraction: None))
    started = time.perf_counter()
    config, notes = with_runnable_methods(config)
    for note in notes:
        echo(note)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}

    advance("validate", 0.0)
    t0 = time.perf_counter()
    table = load_pairs(data_path, images_root, check_images=config.check_images,
                       workers=config.workers, progress=True)
    timings["load_and_validate"] = time.perf_counter() - t0
    echo(table.report.summary())
    truth_labels(table.pairs, config.truth_column)   # a missing column fails before embedding

    advance("embed", 0.1)
    t0 = time.perf_counter()
    pairs, embeddings, embed_failures = embed_dataset(table.pairs, config)
    timings["embed"] = time.perf_counter() - t0
    if len(embed_failures):
        echo(f"{len(embed_failures)} image(s) failed to decode at embedding time; "
             "their pairs are left out (listed in embedding_failures.csv)")
    if len(pairs) < 2:
        raise DataError("fewer than 2 usable pairs are left after validation and embedding")

    def grid_progress(stage: str, fraction: float) -> None:
        # The grid's own "done" is this run's "grid" step; the run says "done" once, last.
        advance("grid" if stage == "done" else stage, 0.4 + 0.45 * fraction)

    truth = truth_labels(pairs, config.truth_column)
    result = pinned_call(config.threads, run_grid, embeddings.text, embeddings.image, embeddings.joint, config.grid,
                      grid_progress, cca=embeddings.cca, truth=truth)
    timings.update(result.timings)

    for sel in result.k_selection.values():
        if sel.get("selects_k") and spec.k_choice_flag(sel):
            echo(f"warning: {sel['method']} ({sel['algorithm']}): {spec.k_choice_flag(sel)} "
                 f"(K={sel['chosen_k']}; no marginal gain below {sel['threshold']})")

    stability = None
    if config.stability_seeds > 0:
        advance("stability", 0.86)
        t0 = time.perf_counter()
        stability = pinned_call(config.threads, stability_diagnostic, result, config.grid,
                                config.stability_seeds)
        timings["stability"] = time.perf_counter() - t0
        for flag in stability["flags"]:
            echo(f"warning: the chosen K of {flag['method']} ({flag['solution']}) is unstable "
                 f"across seeds: mean ARI {flag['stability_ari_mean']:.2f} < "
                 f"{stability['threshold']} (our threshold)")

    advance("describe", 0.9)
    t0 = time.perf_counter()
    descriptions = describe_solutions(pairs, result, config)
    timings["describe"] = time.perf_counter() - t0

    manifest = build_manifest(data_path, images_root, config, table, pairs, embeddings,
                              result, timings)
    manifest["determinism"] = determinism_record(config.threads)
    manifest["stability"] = stability
    manifest["notes"] = notes
    manifest["description"] = descriptions.pop("_about", {})
    t0 = time.perf_counter()
    manifest["arrays"] = write_outputs(out, manifest, pairs, embeddings, result, descriptions,
                                       table.report, embed_failures,
                                       figure_formats=config.figure_formats,
                                       copy_embeddings=config.copy_embeddings)
    timings["write_outputs_and_report"] = time.perf_counter() - t0
    timings["total"] = time.perf_counter() - started
    manifest["timings"] = {k: round(v, 3) for k, v in timings.items()}
    manifest = write_manifest(out, manifest)
    advance("done", 1.0)
    return manifest


def with_runnable_methods(config: EngineConfig) -> tuple[EngineConfig, list[str]]:
    """The config with its methods as they will run (``spec.runnable_methods``), and the notes
    to show up front: always, when no pretrained multimodal model is configured, that the run
    has no joint embedding."""
    methods, notes = runnable_methods(config.grid.methods, config.joint_model)
    if "joint" in methods and not has_joint_model(config.joint_model):
        raise ConfigError("the joint method needs a pretrained multimodal model: give "
                          "--joint-model clip:ARCH@FILE or clip:hf:DIR (no model hub here), or "
                          "use the offline `cca` method")
    if not has_joint_model(config.joint_model):
        notes = [NO_JOINT_MODEL_NOTE, *notes]
    if methods != config.grid.methods:
        config = dataclasses.replace(config, grid=dataclasses.replace(config.grid,
                                                                      methods=methods))
    return config, notes


def truth_labels(pairs: pd.DataFrame, column: str | None):
    """The known-grouping column of the pairs (None without one); a clear error naming the
    columns there are when it is missing."""
    if not column:
        return None
    if column not in pairs.columns:
        extra = [c for c in pairs.columns if c not in ("pair_id", "post_id", "text", "image",
                                                       "image_path", "image_sha256")]
        raise DataError(f"truth column {column!r} is not in the pairs table; its other columns: "
                        f"{', '.join(map(str, extra)) or 'none'}")
    return pairs[column].tolist()


def embed_dataset(pairs: pd.DataFrame, config: EngineConfig
                  ) -> tuple[pd.DataFrame, Embeddings, pd.DataFrame]:
    """Embed text, image and (for the joint method) the pair with the models
    ``spec.models_for(config)`` names; drops pairs whose image fails to decode at embedding
    time and returns them separately."""
    from .cache import EmbeddingCache

    cache = EmbeddingCache(config.cache_dir or DEFAULT_CACHE)
    texts = pairs["text"].tolist()
    paths = pairs["image_path"].tolist()
    hashes = pairs["image_sha256"].tolist() if "image_sha256" in pairs else None

    text_model = get_embedder(config.text_model, device=config.device)
    image_model = get_embedder(config.image_model, device=config.device)
    text = embed_texts(text_model, texts, cache=cache, batch_size=config.text_batch_size)
    image, failed = embed_images(image_model, paths, cache=cache,
                                 batch_size=config.image_batch_size, workers=config.workers,
                                 content_hashes=hashes)
    models = {"text": {**text_model.describe(), "precision": precision_policy(text_model)},
              "image": {**image_model.describe(), "precision": precision_policy(image_model)}}

    clip_pairs = None
    needs_joint = "joint" in config.grid.methods
    needs_cca = "cca" in config.grid.methods
    pair_models = [spec for spec, role in models_for(config) if role == "both"]
    if pair_models:
        clip = get_embedder(pair_models[0], device=config.device)
        clip_pairs, clip_failed = embed_pairs(clip, texts, paths, combine=config.joint_combine,
                                              cache=cache, text_batch_size=config.text_batch_size,
                                              image_batch_size=config.image_batch_size,
                                              workers=config.workers, content_hashes=hashes)
        failed = sorted(set(failed) | set(clip_failed))
        models["joint"] = {**clip.describe(), "combine": config.joint_combine,
                           "precision": precision_policy(clip)}
    elif needs_joint:
        raise ConfigError(f"the joint method needs a CLIP model ('clip:<spec>'), got "
                          f"{config.joint_model!r}; the offline space is the `cca` method")

    keep = np.ones(len(pairs), dtype=bool)
    keep[list(failed)] = False
    failures = pairs.loc[~keep, ["pair_id", "image"]].assign(reason="image_decode_failed")
    pairs = pairs.loc[keep].reset_index(drop=True)
    text, image = np.asarray(text)[keep], np.asarray(image)[keep]

    joint = cca = None
    if needs_joint:   # each row is normalised on its own: dropping rows after is the same
        joint = np.asarray(clip_pairs)[keep]
    if needs_cca:
        regs = REG_GRID if config.rcca_reg == "auto" else (float(config.rcca_reg),)
        check = held_out_check(text, image, n_components=config.rcca_components, regs=regs)
        rcca = RegularizedCCA(n_components=config.rcca_components, reg=check["chosen_reg"],
                              combine=config.joint_combine)
        cca = rcca.fit_transform(text, image)
        models["cca"] = {"name": "cca", "model_id": RCCA_LABEL,
                         "fitted_on": "this data set's text and image embeddings",
                         "params": rcca.get_params(), "dim": int(cca.shape[1]),
                         "correlations": {
                             "in_sample": [round(float(c), 4)
                                           for c in rcca.correlations_[:HELD_OUT_TOP]],
                             "in_sample_note": "measured on the pairs the CCA was fitted on: "
                                               "inflated when dimensions approach the pairs",
                             **check}}
    embeddings = Embeddings(pairs["pair_id"].tolist(), text, image, joint, models, cca)
    return pairs, embeddings, failures


def describe_solutions(pairs: pd.DataFrame, result: GridResult, config: EngineConfig) -> dict:
    """Per solution and cluster: size, share, top c-TF-IDF terms, representative pair ids."""
    texts = pairs["text"].tolist()
    ids = pairs["pair_id"].tolist()
    stop_words = None
    if config.stop_words_file:
        stop_words = Path(config.stop_words_file).read_text(encoding="utf-8").split()
    languages = describe.stop_word_languages(texts, config.language)
    tokens = describe.tokenize_corpus(texts, language=config.language, stop_words=stop_words,
                                      languages=languages)
    image_column = "image_sha256" if "image_sha256" in pairs else "image"
    image_keys = pairs[image_column].tolist()
    out: dict = {}
    skipped_total = 0
    for s in result.solutions + result.modality_solutions:
        terms = describe.ctfidf_terms(texts, s.labels, top_n=config.top_terms, tokens=tokens)
        draw = describe.draw_representatives(result.spaces[s.space], s.labels,
                                             n=config.representatives, seed=config.grid.seed,
                                             image_keys=image_keys, texts=texts)
        values, counts = np.unique(s.labels[s.labels >= 0], return_counts=True)
        order = np.argsort(-counts, kind="stable")
        out[s.id] = [{"cluster": int(values[j]), "size": int(counts[j]),
                      "share": round(float(counts[j]) / len(s.labels), 6),
                      "top_terms": [[t, round(float(w), 6)] for t, w in
                                    terms.get(int(values[j]), [])],
                      "representatives": [ids[r] for r in draw.rows.get(int(values[j]), [])],
                      "duplicates_skipped": draw.duplicates_skipped.get(int(values[j]), 0)}
                     for j in order]
        skipped_total += sum(draw.duplicates_skipped.values())
    # Popped by ``run`` into the manifest's "description" (clusters.json holds solutions only).
    out["_about"] = {"stop_word_languages": languages,
                     "representatives_duplicates_skipped": skipped_total,
                     "duplicate_rule": "distinct image (" + image_column + ") and normalised "
                                       "text (URLs, mentions, RT @user stripped) preferred"}
    return out


def build_manifest(data_path, images_root, config: EngineConfig, table, pairs, embeddings,
                   result: GridResult, timings) -> dict:
    return {
        "format": RUN_FORMAT,
        "created_at": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "seed": config.grid.seed,
        "config": config.to_dict(),
        "versions": package_versions(),
        "data": {"table": str(Path(data_path).resolve()), "table_sha256": file_sha256(data_path),
                 "images_root": str(Path(images_root).resolve()) if images_root else None,
                 "n_rows_read": table.report.n_rows_read,
                 "n_pairs_expanded": table.report.n_pairs_expanded,
                 "n_pairs_valid": table.report.n_pairs_valid,
                 "n_pairs_clustered": len(pairs),
                 "n_rejected": len(table.report.rejected)},
        "models": embeddings.models,
        "methods": {m: METHOD_TITLES[m] for m in config.grid.methods},
        "joint_model_configured": has_joint_model(config.joint_model),
        "evaluation_spaces": {
            "own": "the space each solution was clustered in; K is chosen there",
            "matrix": {name: SPACE_TITLES[name] for name in result.score_spaces},
            "label_space": config.grid.label_space,
            "common": COMMON_SPACE_LABEL},
        "ami": {"normalisation": config.grid.ami_normalisation,
                "formula": ("(MI - E[MI]) / (max{H(T), H(I)} - E[MI]), the paper's Eq. (1)"
                            if config.grid.ami_normalisation == "max" else
                            "(MI - E[MI]) / ((H(T) + H(I)) / 2 - E[MI]), scikit-learn's default"),
                "noise": "rows that are noise (-1) in either labelling are left out; "
                         "share_left_out says how many"},
        "truth": ({"column": config.truth_column, "used_to_cluster": False,
                   "metrics": ["ami", "ari", "homogeneity", "completeness"]}
                  if config.truth_column else None),
        "distinct": {**distinct_counts(embeddings.text, embeddings.image, embeddings.joint),
                     "multiplicity": {"kmeans": KMEANS_MULTIPLICITY,
                                      "hdbscan": HDBSCAN_MULTIPLICITY}},
        "reductions": result.reductions,
        "ami_diagnostic": result.ami_diagnostic,
        "cooccurrence_heatmap": _heatmap_entry(result),
        "k_selection": result.k_selection,
        "solutions": [s.summary() for s in result.solutions],
        "modality_solutions": [s.summary() for s in result.modality_solutions],
        "timings": {k: round(v, 3) for k, v in timings.items()},
    }


def _heatmap_entry(result) -> dict | None:
    """The label-level solution the co-occurrence heatmap shows: its K_t x K_i and AMI (same
    normalisation as the AMI table), so the figure and the AMI card can be read together."""
    drawn = result.figure_metrics
    if drawn is None or drawn.heatmap_solution is None:
        return None
    shown = next(s for s in result.solutions if s.id == drawn.heatmap_solution)
    return {"solution": shown.id, "algorithm": shown.algorithm, "k_text": shown.k_text,
            "k_image": shown.k_image, "ami": drawn.ami}
