"""The Embedder interface shared by every model family, and small helpers they use.

An embedder turns texts and/or PIL images into float32 row vectors. Its identity
(`model_id`, `version`) keys the embedding cache and is written into run manifests, so
`version` must change whenever the vectors could change (package version, weights file,
options that alter the output).
"""

from __future__ import annotations

import hashlib
import os

import numpy as np

from ..errors import ConfigError, EngineError, ModelUnavailableError
from ..hashing import file_sha256  # noqa: F401  (re-exported for the embedder modules)
from ..hashing import text_sha256
from ..spec import COMBINES
from ..vectors import l2_normalise  # noqa: F401  (re-exported for the embedder modules)
from ..versions import installed_version

OFFLINE_ENV_VARS = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "DIPTYCH_OFFLINE")


class Embedder:
    """Base class: subclasses set the attributes and override the embed methods they support."""

    name: str = ""
    modality: str = ""  # "text" | "image" | "pair"
    model_id: str = ""
    version: str = ""
    dim: int = 0
    device: str = "cpu"
    weights_path: str | None = None
    weights_sha256: str | None = None

    def __init__(self):
        self.options: dict = {}

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        """Embed texts as float32 (n, dim)."""
        raise ConfigError(f"embedder {self.name!r} ({self.modality}) does not embed texts")

    def embed_images(self, images: list) -> np.ndarray:
        """Embed PIL images (already RGB) as float32 (n, dim)."""
        raise ConfigError(f"embedder {self.name!r} ({self.modality}) does not embed images")

    def describe(self) -> dict:
        """What a run manifest records about this model."""
        return {
            "name": self.name,
            "modality": self.modality,
            "model_id": self.model_id,
            "version": self.version,
            "dim": int(self.dim),
            "device": self.device,
            "weights": {"path": self.weights_path, "sha256": self.weights_sha256},
            "options": dict(self.options),
        }

    def __repr__(self):
        return f"<{type(self).__name__} {self.name} {self.model_id} dim={self.dim}>"


def resolve_device(device: str = "auto") -> str:
    """'auto' -> 'cuda' when torch sees a GPU, else 'cpu'; anything else is passed through."""
    if device in (None, "", "auto"):
        import torch

        if not torch.cuda.is_available():
            return "cpu"
        full_float32(torch)
        return "cuda"
    if str(device).startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise ConfigError(f"device {device!r} requested but torch sees no CUDA GPU")
        full_float32(torch)
    return str(device)


def full_float32(torch) -> None:
    """Vectors in full float32 on a GPU too: cuDNN convolutions default to TF32 (10-bit
    mantissa), which moved EfficientNet-Lite0 features by up to 0.016 from the CPU's
    (docs/performance.md, GPU section)."""
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False


def squashed(img, size: int):
    """An RGB PIL image as a size x size square: the whole image resized (bilinear), no crop.
    The one resize of the squashing image models, whether their runner's decoding workers or
    the model call does it (the same call, so the same bits)."""
    from PIL import Image

    if img.mode != "RGB":
        img = img.convert("RGB")
    return img if img.size == (size, size) else img.resize((size, size), Image.BILINEAR)


def is_offline() -> bool:
    """True when the environment says no model hub may be contacted."""
    return any(os.environ.get(v, "").strip().lower() in ("1", "true", "yes", "on")
               for v in OFFLINE_ENV_VARS)


def package_version(dist_name: str) -> str:
    return installed_version(dist_name) or "unknown"


def dir_sha256(path: str, suffixes=(".bin", ".safetensors", ".pt", ".pth", ".json", ".txt",
                                    ".model")) -> str:
    """sha256 over the weight/config files of a model folder (names + contents), stable order."""
    digest = hashlib.sha256()
    for root, dirs, files in os.walk(path):
        dirs.sort()
        for fname in sorted(files):
            if fname.endswith(suffixes):
                full = os.path.join(root, fname)
                digest.update(os.path.relpath(full, path).encode())
                digest.update(file_sha256(full).encode())
    return digest.hexdigest()


def options_fingerprint(options: dict) -> str:
    """Short stable hash of the options that change the vectors (goes into `version`)."""
    text = repr(sorted((k, repr(v)) for k, v in options.items()))
    return text_sha256(text)[:8]


def require_module(module: str, *, model: str, pip_name: str, extra: str = ""):
    """Import a module or raise ModelUnavailableError saying what to pip install."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ModelUnavailableError(
            f"model {model!r} needs the Python package {pip_name!r}, which is not installed "
            f"({exc}). Install it with: pip install {pip_name}{extra}") from exc


def as_float32_rows(vectors, n: int, dim: int, model: str) -> np.ndarray:
    """Check a model's output has the promised shape and is finite; return C-contiguous float32."""
    out = np.ascontiguousarray(np.asarray(vectors, dtype=np.float32))
    if out.shape != (n, dim):
        raise EngineError(f"model {model!r} returned shape {out.shape}, expected {(n, dim)}")
    if not np.isfinite(out).all():
        raise EngineError(f"model {model!r} returned non-finite values")
    return out


PAIR_COMBINES = COMBINES


def combine_pair_vectors(text_vectors: np.ndarray, image_vectors: np.ndarray,
                         combine: str = "concat") -> np.ndarray:
    """Join a pair's text and image vectors after L2-normalising each half.

    "concat" -> [t/|t| ; i/|i|] (each half unit-norm); "mean" -> (t/|t| + i/|i|) / 2, which needs
    both vectors in one space (CLIP).
    """
    if combine not in PAIR_COMBINES:
        raise ConfigError(f"combine must be one of {PAIR_COMBINES}, not {combine!r}")
    t, i = l2_normalise(text_vectors), l2_normalise(image_vectors)
    if t.shape[0] != i.shape[0]:
        raise ConfigError(f"{t.shape[0]} text vectors but {i.shape[0]} image vectors")
    if combine == "concat":
        return np.ascontiguousarray(np.concatenate([t, i], axis=1))
    if t.shape[1] != i.shape[1]:
        raise ConfigError(f"combine='mean' needs one shared space; got dims {t.shape[1]} and {i.shape[1]}")
    return (t + i) / 2.0


def fold_batchnorms(pairs) -> None:
    """Fold eval-mode BatchNorms into the convolutions before them, in place.

    `pairs` = [(owner module, conv attribute, bn attribute)]: the conv gets the BN's scale and shift
    and the BN becomes Identity. Same outputs (to float rounding), ~1/3 less CPU time for a small CNN.
    """
    from torch import nn
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    for owner, conv_name, bn_name in pairs:
        conv, bn = getattr(owner, conv_name), getattr(owner, bn_name)
        if isinstance(bn, nn.BatchNorm2d):
            setattr(owner, conv_name, fuse_conv_bn_eval(conv.eval(), bn.eval()))
            setattr(owner, bn_name, nn.Identity())
