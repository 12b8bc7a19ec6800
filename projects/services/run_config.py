"""Run options: what the run form and the API accept, and how they become an EngineConfig.

Stored on EngineRun.config as plain JSON so a run can be shown, repeated and resumed exactly.

The seed is secret (docs/reliability.md, "Threat model for blinding"): a coder who knows the
data, the options and the seed can rerun the engine and read which method and K made each
cluster. A run without a seed from the PI gets a fresh one from the operating system's random
source, recorded in its config and manifest and shown to PIs only.
"""
from __future__ import annotations

import secrets

from django.conf import settings

from clustering_engine.errors import ConfigError
from clustering_engine.grid import GridConfig
from clustering_engine.pipeline import EngineConfig
from clustering_engine.reduce import ReductionConfig
from clustering_engine.spec import (ALGORITHMS, DEFAULT_ALGORITHMS, DEFAULT_KS, DEFAULT_METHODS,
                                    DEFAULT_N_COMPONENTS, DEFAULT_REDUCER, METHODS,
                                    NO_JOINT_MODEL_NOTE, REDUCERS, has_joint_model)

DEFAULT_OPTIONS = {
    "text_model": None,  # None = first configured choice (the offline default)
    "image_model": None,
    "joint_model": None,
    "methods": list(DEFAULT_METHODS),
    "ks": list(DEFAULT_KS),
    "algorithms": list(DEFAULT_ALGORITHMS),
    "reduction": DEFAULT_REDUCER,
    "n_components": DEFAULT_N_COMPONENTS,
    "fit_sample": None,
    "hdbscan_min_cluster_size": None,
    "ami_permutations": 100,
    "seed": None,           # None = a fresh secret seed for this run (fresh_seed)
    "truth_column": None,   # known groupings to score against; never used to cluster
}


# Upper bounds of every numeric option: one run may not hold the CPUs for days
# (ami_permutations=10**9 would). Lower bounds are in normalise_options.
OPTION_BOUNDS = {"ks": 5000, "n_ks": 64, "n_components": 1024, "fit_sample": 10_000_000,
                 "hdbscan_min_cluster_size": 1_000_000, "ami_permutations": 10_000,
                 "seed": 2 ** 31 - 1}   # EngineRun.seed is a 32-bit signed column


class RunConfigError(Exception):
    """Invalid run options; the message is for the user."""


def model_choices() -> dict[str, list[str]]:
    return settings.DIPTYCH_MODEL_CHOICES


def _int_list(value, name: str) -> list[int]:
    if isinstance(value, str):
        value = [v for v in value.replace(";", ",").split(",") if v.strip()]
    try:
        numbers = sorted({int(v) for v in value})
    except (TypeError, ValueError):
        raise RunConfigError(f"{name} must be whole numbers separated by commas") from None
    if not numbers:
        raise RunConfigError(f"give at least one value for {name}")
    if len(numbers) > OPTION_BOUNDS["n_ks"] or numbers[-1] > OPTION_BOUNDS["ks"]:
        raise RunConfigError(f"{name}: at most {OPTION_BOUNDS['n_ks']} values, each at most "
                             f"{OPTION_BOUNDS['ks']:,}")
    return numbers


def _str_list(value, name: str, allowed) -> list[str]:
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    chosen = list(dict.fromkeys(value or []))
    unknown = [v for v in chosen if v not in allowed]
    if unknown:
        raise RunConfigError(f"unknown {name}: {', '.join(unknown)}; choose from {', '.join(allowed)}")
    if not chosen:
        raise RunConfigError(f"choose at least one of the {name}")
    return chosen


def _optional_int(value, name: str, minimum: int, maximum: int) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise RunConfigError(f"{name} must be a whole number") from None
    if not minimum <= number <= maximum:
        raise RunConfigError(f"{name} must be between {minimum:,} and {maximum:,}")
    return number


def normalise_options(raw: dict) -> dict:
    """Fill defaults, validate, and check that the engine accepts the result."""
    options = {**DEFAULT_OPTIONS, **{k: v for k, v in (raw or {}).items() if k in DEFAULT_OPTIONS}}
    choices = model_choices()
    for modality in ("text", "image", "joint"):
        key = f"{modality}_model"
        options[key] = options[key] or choices[modality][0]
        if options[key] not in choices[modality]:
            raise RunConfigError(f"{modality} model {options[key]!r} is not configured on this "
                                 f"server; choose from {', '.join(choices[modality])}")
    options["methods"] = _str_list(options["methods"], "methods", METHODS)
    options["ks"] = _int_list(options["ks"], "K values")
    options["algorithms"] = _str_list(options["algorithms"], "algorithms", ALGORITHMS)
    if options["reduction"] not in REDUCERS:
        raise RunConfigError(f"reduction must be one of {', '.join(REDUCERS)}")
    bound = OPTION_BOUNDS
    options["n_components"] = (_optional_int(options["n_components"], "dimensions", 2,
                                             bound["n_components"]) or DEFAULT_N_COMPONENTS)
    options["fit_sample"] = _optional_int(options["fit_sample"], "fit sample", 100,
                                           bound["fit_sample"])
    options["hdbscan_min_cluster_size"] = _optional_int(
        options["hdbscan_min_cluster_size"], "HDBSCAN minimum cluster size", 2,
        bound["hdbscan_min_cluster_size"])
    options["ami_permutations"] = _optional_int(
        options["ami_permutations"], "AMI permutations", 1,
        bound["ami_permutations"]) or DEFAULT_OPTIONS["ami_permutations"]
    options["seed"] = _optional_int(options["seed"], "seed", 0, bound["seed"])
    if options["seed"] is None:
        options["seed"] = fresh_seed()
    column = options["truth_column"]
    options["truth_column"] = (str(column).strip() or None) if column is not None else None
    try:
        engine_config(options)
    except ConfigError as exc:
        raise RunConfigError(str(exc)) from None
    return options


def fresh_seed() -> int:
    """A seed no one can guess (not the engine's default 0, not the clock)."""
    return 1 + secrets.randbelow(OPTION_BOUNDS["seed"])


SEED_HIDDEN = "hidden (shown to the project's PIs only)"


def without_seed(value):
    """A run's config or manifest as a non-PI sees it: every ``seed`` entry masked."""
    if isinstance(value, dict):
        return {k: SEED_HIDDEN if k == "seed" else without_seed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_seed(v) for v in value]
    return value


def joint_model_notice() -> str | None:
    """What the run form says up front when no pretrained multimodal model is configured."""
    return None if any(has_joint_model(m) for m in model_choices()["joint"]) else NO_JOINT_MODEL_NOTE


def engine_config(options: dict) -> EngineConfig:
    """The EngineConfig for stored options; the embedding cache is the installation's."""
    grid = GridConfig(
        methods=tuple(options["methods"]), ks=tuple(options["ks"]),
        algorithms=tuple(options["algorithms"]),
        reduction=ReductionConfig(method=options["reduction"],
                                  n_components=options["n_components"],
                                  fit_sample=options["fit_sample"], seed=options["seed"]),
        hdbscan_min_cluster_size=options["hdbscan_min_cluster_size"],
        ami_permutations=options["ami_permutations"], seed=options["seed"])
    return EngineConfig(text_model=options["text_model"], image_model=options["image_model"],
                        joint_model=options["joint_model"], grid=grid,
                        truth_column=options.get("truth_column"),
                        cache_dir=str(settings.DIPTYCH_EMBEDDING_CACHE),
                        check_images=settings.DIPTYCH_IMPORT_CHECK_IMAGES,
                        workers=settings.DIPTYCH_ENGINE_WORKERS,
                        copy_embeddings=settings.DIPTYCH_RUN_COPY_EMBEDDINGS)
