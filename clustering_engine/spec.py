"""The engine's vocabulary in one place: names, defaults, formats and the rules built on them.

Everything that names a method, an algorithm, a reducer, a mode or a format, every default
the CLI, the Python API and the platform's forms share, how a solution id is written and read,
and which solution counts as "chosen" lives here. No heavy imports: the web forms read it.
"""
from __future__ import annotations

import re
from typing import Iterable, Mapping

# Methods: one vocabulary for ids, tables, figures and pages. ``text`` and ``image`` cluster one
# modality alone (the baselines), ``label`` / ``vector`` / ``joint`` are the paper's three
# combinations (``joint`` only with a pretrained multimodal model such as CLIP), ``cca`` clusters
# the regularised-CCA space learned from the pairs (offline; keeps only what text and image
# share, so it is never called "joint").
METHOD_VOCABULARY = ("text", "image", "label", "vector", "joint", "cca")
METHODS = METHOD_VOCABULARY
DEFAULT_METHODS = ("text", "image", "label", "vector", "cca")   # offline: no CLIP weights needed
MODALITIES = ("text", "image")
METHOD_TITLES = {"text": "text only", "image": "image only",
                 "label": "label-level combination", "vector": "vector-level combination",
                 "joint": "joint embedding (pretrained multimodal model)",
                 "cca": "CCA space learned from the pairs (not joint embedding)"}
NO_JOINT_MODEL_NOTE = ("No pretrained multimodal model (CLIP) is configured, so this run has no "
                       "joint embedding: the paper's third method needs CLIP weights "
                       "(--joint-model clip:...). The offline `cca` method is a regularised CCA "
                       "space learned from the pairs; it keeps only what text and image share "
                       "and is no substitute for joint embedding.")

# Each method's own space (the space its solutions are clustered in, and the column of the
# S_Dbw matrix marked as its own). Label-level clusters text and images separately: its space
# is the reduced text space and the reduced image space side by side (the two spaces its
# K_t and K_i clusterings were made in; the raw vectors with ``label_space="raw"``).
SPACE_TITLES = {"text": "text space", "image": "image space",
                "label": "label-level space: text space and image space side by side",
                "vector": "vector-level space: L2-normalised text+image concatenation",
                "joint": "joint (CLIP) space", "cca": "CCA space learned from the pairs"}
LABEL_SPACES = ("reduced", "raw")   # where label-level clusters text and images
DEFAULT_LABEL_SPACE = "reduced"

# AMI: the paper's Eq. (1) divides by max{H(T), H(I)}; scikit-learn's arithmetic mean is an option.
AMI_NORMALISATIONS = ("max", "arithmetic")
DEFAULT_AMI_NORMALISATION = "max"

ALGORITHMS = ("kmeans", "hdbscan", "hdbscan_flat")
DEFAULT_ALGORITHMS = ("kmeans", "hdbscan")
HDBSCAN_BACKENDS = ("hdbscan", "fast_hdbscan", "cuml")   # plain HDBSCAN: reference, numba, GPU
REDUCERS = ("umap", "pca", "none")
# How UMAP places the pairs it was not fitted on (reduce.py): its own transform, or the start
# of that transform alone (membership-weighted mean of the fitted neighbours' positions).
UMAP_OUT_OF_SAMPLE = ("transform", "interpolate")
DEFAULT_UMAP_OUT_OF_SAMPLE = "transform"
DEFAULT_REDUCER = "umap"
DEFAULT_N_COMPONENTS = 50
CHECK_MODES = ("full", "header", "none")   # how deeply each image is checked on import
DEFAULT_CHECK_MODE = "full"
COMBINES = ("concat", "mean")              # a pair vector: [text ; image] or their mean
DEFAULT_COMBINE = "concat"
FIGURE_FORMATS = ("png", "svg", "pdf")     # SVG is always made (the HTML report inlines it)
GALLERY_FORMAT = "jpg"   # galleries are photographs: one compressed JPEG, never vector formats
DEFAULT_KS = (9, 16, 25, 36, 49, 64, 81, 100)   # the paper's grid: squares, K_t = K_i = sqrt(K)
DEFAULT_TEXT_MODEL = "use-multilingual"
DEFAULT_IMAGE_MODEL = "efficientnet-lite0"
DEFAULT_JOINT_MODEL = ""                   # "" (none) or "clip:<spec>"; "rcca": legacy, none
LEGACY_JOINT_MODELS = ("rcca",)            # before `cca` existed, the offline space ran as "joint"
DEFAULT_SEED = 0

# Pairs table file suffix -> reader. .txt: the delimiter is read from the header.
EXTENSION_FORMATS = {
    ".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".txt": "csv",
    ".jsonl": "jsonl", ".ndjson": "jsonl",
    ".parquet": "parquet", ".pq": "parquet",
}
TABLE_FORMATS = ("csv", "tsv", "jsonl", "parquet")

# ``s_dbw_common`` (kept for readers of older runs) is the S_Dbw column of the vector-level space;
# it is one column of the matrix, not "the" common space of every method.
COMMON_SPACE = "vector"
COMMON_SPACE_LABEL = ("vector-level space (L2-normalised text+image concatenation after the same "
                      "reduction); one column of the S_Dbw matrix, not a space every method shares")


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
    """Per method, the K-Means solution at the K chosen by marginal gain in the method's own
    space (``k_selection`` as in the manifest: the entries with ``selects_k``); our convention
    for "the" solution of a method."""
    chosen = {}
    for sel in (k_selection or {}).values():
        if sel.get("selects_k") and sel.get("algorithm") == "kmeans" and sel.get("chosen_k"):
            chosen[sel["method"]] = solution_id(sel["method"], "kmeans", sel["chosen_k"])
    return chosen


# What every page, table and printout says when no marginal gain fell below the threshold and
# the K shown is only the grid's largest (``select_k``'s fallback, not the rule's choice).
K_THRESHOLD_NEVER_MET = "threshold never met: largest K in the grid"


def k_choice_flag(selection: Mapping) -> str:
    """The flag a chosen K carries: '' when the marginal-gain rule chose it, else
    ``K_THRESHOLD_NEVER_MET`` (manifests from before the field: '')."""
    return "" if selection.get("threshold_met", True) else K_THRESHOLD_NEVER_MET


def has_joint_model(joint_model: str | None) -> bool:
    """Whether a pretrained multimodal model is configured (what the `joint` method needs)."""
    return bool(joint_model) and str(joint_model).startswith("clip:")


def runnable_methods(methods: Iterable[str], joint_model: str | None
                     ) -> tuple[tuple[str, ...], list[str]]:
    """Methods as asked, with runs saved before the `cca` method read the way they ran: the
    offline space ("rcca") was then the `joint` method, so without CLIP weights ``joint``
    becomes ``cca``. Returns (methods, notes)."""
    methods = tuple(dict.fromkeys(methods))
    notes = []
    if "joint" in methods and (joint_model or "") in LEGACY_JOINT_MODELS:
        methods = tuple(dict.fromkeys("cca" if m == "joint" else m for m in methods))
        notes.append("`joint` with the offline rcca space is now the `cca` method.")
    return methods, notes


# ------------------------------------------------------------------ models a run needs

def models_for(config) -> list[tuple[str, str]]:
    """(embedder spec, what it embeds: "text" | "image" | "both") an EngineConfig's embed stage
    uses: the text and image models always; a CLIP model for the joint method when the joint
    model is ``clip:<spec>`` (the cca space is learned from the text and image vectors)."""
    models = [(config.text_model, "text"), (config.image_model, "image")]
    if "joint" in config.grid.methods and has_joint_model(config.joint_model):
        models.append((config.joint_model, "both"))
    return models


def names(values: Iterable[str]) -> str:
    """``a, b, c`` for messages and help texts."""
    return ", ".join(values)
