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

from . import describe
from .data import load_pairs
from .distinct import HDBSCAN_MULTIPLICITY, KMEANS_MULTIPLICITY, distinct_counts
from .embed import embed_images, embed_pairs, embed_texts, precision_policy
from .embedders import get_embedder
from .errors import ConfigError, DataError
from .grid import GridConfig, GridResult, run_grid
from .hashing import file_sha256
from .joint_space import LABEL as RCCA_LABEL
from .joint_space import RegularizedCCA
from .output import write_manifest, write_outputs
from .spec import (COMMON_SPACE, COMMON_SPACE_LABEL, DEFAULT_CHECK_MODE, DEFAULT_COMBINE,
                   DEFAULT_IMAGE_MODEL, DEFAULT_JOINT_MODEL, DEFAULT_TEXT_MODEL, FIGURE_FORMATS,
                   METHOD_TITLES, models_for)
from .versions import VERSIONED_PACKAGES, package_versions  # noqa: F401  (re-exported)

Progress = Callable[[str, float], None]
DEFAULT_CACHE = Path.home() / ".cache" / "diptych" / "embeddings"


@dataclasses.dataclass(frozen=True)
class EngineConfig:
    text_model: str = DEFAULT_TEXT_MODEL
    image_model: str = DEFAULT_IMAGE_MODEL
    joint_model: str = DEFAULT_JOINT_MODEL   # "rcca" (offline, learned from the pairs) or "clip:<spec>"
    joint_combine: str = DEFAULT_COMBINE     # pair vector: [text ; image] or their mean
    rcca_components: int = 128
    rcca_reg: float = 0.1
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

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class Embeddings:
    pair_ids: list[str]
    text: np.ndarray
    image: np.ndarray
    joint: np.ndarray | None
    models: dict[str, dict]


def run(data_path: str, images_root: str | None, out_dir: str,
        config: EngineConfig = EngineConfig(), progress: Progress | None = None,
        echo: Callable[[str], None] = print) -> dict:
    """Run the engine and write ``out_dir``; returns the manifest."""
    advance = progress or (lambda stage, fraction: None)
    started = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}

    advance("validate", 0.0)
    t0 = time.perf_counter()
    table = load_pairs(data_path, images_root, check_images=config.check_images,
                       workers=config.workers, progress=True)
    timings["load_and_validate"] = time.perf_counter() - t0
    echo(table.report.summary())

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
        advance(stage, 0.4 + 0.5 * fraction)

    result = run_grid(embeddings.text, embeddings.image, embeddings.joint, config.grid,
                      grid_progress)
    timings.update(result.timings)

    advance("describe", 0.9)
    t0 = time.perf_counter()
    descriptions = describe_solutions(pairs, result, config)
    timings["describe"] = time.perf_counter() - t0

    manifest = build_manifest(data_path, images_root, config, table, pairs, embeddings,
                              result, timings)
    t0 = time.perf_counter()
    write_outputs(out, manifest, pairs, embeddings, result, descriptions, table.report,
                  embed_failures, figure_formats=config.figure_formats)
    timings["write_outputs_and_report"] = time.perf_counter() - t0
    timings["total"] = time.perf_counter() - started
    manifest["timings"] = {k: round(v, 3) for k, v in timings.items()}
    manifest = write_manifest(out, manifest)
    advance("done", 1.0)
    return manifest


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
    elif needs_joint and config.joint_model != "rcca":
        raise ConfigError(f"joint model must be 'rcca' or 'clip:<spec>', got "
                          f"{config.joint_model!r}")

    keep = np.ones(len(pairs), dtype=bool)
    keep[list(failed)] = False
    failures = pairs.loc[~keep, ["pair_id", "image"]].assign(reason="image_decode_failed")
    pairs = pairs.loc[keep].reset_index(drop=True)
    text, image = np.asarray(text)[keep], np.asarray(image)[keep]

    joint = None
    if needs_joint:
        if clip_pairs is not None:   # each row is normalised on its own: dropping rows after is the same
            joint = np.asarray(clip_pairs)[keep]
        else:
            rcca = RegularizedCCA(n_components=config.rcca_components, reg=config.rcca_reg,
                                  combine=config.joint_combine)
            joint = rcca.fit_transform(text, image)
            models["joint"] = {"name": "rcca", "model_id": RCCA_LABEL,
                               "fitted_on": "this data set's text and image embeddings",
                               "params": rcca.get_params(), "dim": int(joint.shape[1]),
                               "top_correlations": [round(float(c), 4)
                                                    for c in rcca.correlations_[:10]]}
    embeddings = Embeddings(pairs["pair_id"].tolist(), text, image, joint, models)
    return pairs, embeddings, failures


def describe_solutions(pairs: pd.DataFrame, result: GridResult, config: EngineConfig) -> dict:
    """Per solution and cluster: size, share, top c-TF-IDF terms, representative pair ids."""
    texts = pairs["text"].tolist()
    ids = pairs["pair_id"].tolist()
    stop_words = None
    if config.stop_words_file:
        stop_words = Path(config.stop_words_file).read_text(encoding="utf-8").split()
    tokens = describe.tokenize_corpus(texts, language=config.language, stop_words=stop_words)
    out = {}
    for s in result.solutions + result.modality_solutions:
        terms = describe.ctfidf_terms(texts, s.labels, top_n=config.top_terms, tokens=tokens)
        space = result.spaces[s.space or COMMON_SPACE]
        reps = describe.representatives(space, s.labels, n=config.representatives,
                                        seed=config.grid.seed)
        values, counts = np.unique(s.labels[s.labels >= 0], return_counts=True)
        order = np.argsort(-counts, kind="stable")
        out[s.id] = [{"cluster": int(values[j]), "size": int(counts[j]),
                      "share": round(float(counts[j]) / len(s.labels), 6),
                      "top_terms": [[t, round(float(w), 6)] for t, w in
                                    terms.get(int(values[j]), [])],
                      "representatives": [ids[r] for r in reps.get(int(values[j]), [])]}
                     for j in order]
    return out


def build_manifest(data_path, images_root, config: EngineConfig, table, pairs, embeddings,
                   result: GridResult, timings) -> dict:
    return {
        "format": "diptych-engine-run/1",
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
        "evaluation_spaces": {
            "own": "the reduced space each solution was clustered in (none for label-level)",
            "common": COMMON_SPACE_LABEL},
        "distinct": {**distinct_counts(embeddings.text, embeddings.image, embeddings.joint),
                     "multiplicity": {"kmeans": KMEANS_MULTIPLICITY,
                                      "hdbscan": HDBSCAN_MULTIPLICITY}},
        "reductions": result.reductions,
        "ami_diagnostic": result.ami_diagnostic,
        "k_selection": result.k_selection,
        "solutions": [s.summary() for s in result.solutions],
        "modality_solutions": [s.summary() for s in result.modality_solutions],
        "timings": {k: round(v, 3) for k, v in timings.items()},
    }
