"""The engine's vocabulary in one place: names, defaults, formats and the rules built on them.

Everything that names a method, an algorithm, a reducer, a mode or a format, every default
the CLI, the Python API and the platform's forms share, how a solution id is written and read,
and which solution counts as "chosen" lives here. No heavy imports: the web forms read it.
"""
from __future__ import annotations

import re
from typing import Iterable, Mapping

# Methods. The design card's full vocabulary: ``text`` and ``image`` cluster one modality alone,
# ``label`` / ``vector`` / ``joint`` are the paper's three combinations, ``cca`` clusters the
# regularised-CCA joint space directly. Only METHODS run as grid methods today; ``text`` and
# ``image`` appear as the label-level building blocks ("modality solutions").
METHOD_VOCABULARY = ("text", "image", "label", "vector", "joint", "cca")
METHODS = ("label", "vector", "joint")
MODALITIES = ("text", "image")
METHOD_TITLES = {"text": "text only", "image": "image only",
                 "label": "label-level combination", "vector": "vector-level combination",
                 "joint": "joint embedding", "cca": "regularised-CCA space"}

ALGORITHMS = ("kmeans", "hdbscan", "hdbscan_flat")
DEFAULT_ALGORITHMS = ("kmeans", "hdbscan")
REDUCERS = ("umap", "pca", "none")
DEFAULT_REDUCER = "umap"
DEFAULT_N_COMPONENTS = 50
CHECK_MODES = ("full", "header", "none")   # how deeply each image is checked on import
DEFAULT_CHECK_MODE = "full"
COMBINES = ("concat", "mean")              # a pair vector: [text ; image] or their mean
DEFAULT_COMBINE = "concat"
FIGURE_FORMATS = ("png", "svg", "pdf")     # SVG is always made (the HTML report inlines it)
DEFAULT_KS = (9, 16, 25, 36, 49, 64, 81, 100)   # the paper's grid: squares, K_t = K_i = sqrt(K)
DEFAULT_TEXT_MODEL = "use-multilingual"
DEFAULT_IMAGE_MODEL = "efficientnet-lite0"
DEFAULT_JOINT_MODEL = "rcca"               # "rcca" (offline, learned from the pairs) or "clip:<spec>"
DEFAULT_SEED = 0

# Pairs table file suffix -> reader. .txt: the delimiter is read from the header.
EXTENSION_FORMATS = {
    ".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".txt": "csv",
    ".jsonl": "jsonl", ".ndjson": "jsonl",
    ".parquet": "parquet", ".pq": "parquet",
}
TABLE_FORMATS = ("csv", "tsv", "jsonl", "parquet")

# Space names (keys of GridResult.spaces) and the common evaluation space.
COMMON_SPACE = "vector"
COMMON_SPACE_LABEL = ("common space: L2-normalised text+image concatenation "
                      "after the same reduction (vector-level space)")


# ------------------------------------------------------------------ solution ids

_SOLUTION_ID = re.compile(r"^(?P<method>[a-z_]+)-(?P<algorithm>[a-z_]+)(?:-k(?P<k>\d+))?$")


def solution_id(method: str, algorithm: str, k: int | None) -> str:
    """``<method>-<algorithm>-k<K>``, or ``<method>-<algorithm>`` when the algorithm picks K."""
    return f"{method}-{algorithm}" if k is None else f"{method}-{algorithm}-k{k}"


def parse_solution_id(value: str) -> tuple[str, str, int | None]:
    """(method, algorithm, K or None) of a solution id; ValueError when it is not one."""
    match = _SOLUTION_ID.match(value or "")
    if match is None:
        raise ValueError(f"not a solution id: {value!r}")
    k = match["k"]
    return match["method"], match["algorithm"], (int(k) if k is not None else None)


# ------------------------------------------------------------------ the chosen solution

def chosen_solutions(k_selection: Mapping[str, dict]) -> dict[str, str]:
    """Per method, the K-Means solution at the K chosen by marginal gain in the common space
    (``k_selection`` as in the manifest); our convention for "the" solution of a method."""
    chosen = {}
    for sel in (k_selection or {}).values():
        if sel.get("space") == "common" and sel.get("algorithm") == "kmeans" and sel.get("chosen_k"):
            chosen[sel["method"]] = solution_id(sel["method"], "kmeans", sel["chosen_k"])
    return chosen


# ------------------------------------------------------------------ models a run needs

def models_for(config) -> list[tuple[str, str]]:
    """(embedder spec, what it embeds: "text" | "image" | "both") an EngineConfig's embed stage
    uses: the text and image models always; a CLIP model for the joint method when the joint
    model is ``clip:<spec>`` (the rcca space is learned from the text and image vectors)."""
    models = [(config.text_model, "text"), (config.image_model, "image")]
    if "joint" in config.grid.methods and config.joint_model.startswith("clip:"):
        models.append((config.joint_model, "both"))
    return models


def names(values: Iterable[str]) -> str:
    """``a, b, c`` for messages and help texts."""
    return ", ".join(values)
