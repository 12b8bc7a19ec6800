"""Text models through sentence-transformers, e.g. the paper's distiluse-base-multilingual-cased-v1.

Spec: "sentence-transformers:<local folder | hub name>". A local folder always works offline. A hub
name is tried only from the local Hugging Face cache when the environment is offline
(HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE), and a failed load becomes a ModelUnavailableError that
says how to supply the weights by hand.
"""

from __future__ import annotations

import os

import numpy as np

from ..errors import ConfigError, ModelUnavailableError
from .base import (Embedder, as_float32_rows, dir_sha256, is_offline, package_version,
                   require_module, resolve_device)

PAPER_MODEL = "sentence-transformers/distiluse-base-multilingual-cased-v1"


def _supply_weights_help(model: str) -> str:
    return (f"To use {model!r} on a machine without internet, download the model folder on a "
            f"machine that has it (e.g. `huggingface-cli download {model} --local-dir "
            f"./{model.split('/')[-1]}`, or `SentenceTransformer('{model}').save('<folder>')`), copy "
            f"the folder here and pass its path: 'sentence-transformers:/path/to/folder'.")


class SentenceTransformersEmbedder(Embedder):
    """Any SentenceTransformer model from a local folder (or the hub when online)."""

    modality = "text"

    def __init__(self, model: str, *, device: str = "auto", normalize: bool = False,
                 batch_size: int = 64):
        super().__init__()
        if not model:
            raise ConfigError("sentence-transformers needs a model: 'sentence-transformers:<path or name>'")
        self.name = f"sentence-transformers:{model}"
        st = require_module("sentence_transformers", model=self.name, pip_name="sentence-transformers")
        self.device = resolve_device(device)
        self.normalize = bool(normalize)
        self.batch_size = int(batch_size)
        local = os.path.isdir(os.path.expanduser(model))
        if local:
            path = os.path.abspath(os.path.expanduser(model))
            self._model = self._load(st, path, self.device, local_files_only=True, model=model)
            self.weights_path = path
            self.weights_sha256 = dir_sha256(path)
            self.model_id = f"sentence-transformers:{os.path.basename(path.rstrip(os.sep))}"
        else:
            looks_like_path = model.startswith(("/", ".", "~")) or model.count("/") > 1
            if looks_like_path:
                raise ModelUnavailableError(
                    f"sentence-transformers model folder {model!r} does not exist. "
                    + _supply_weights_help(PAPER_MODEL))
            hub_name = model if "/" in model else f"sentence-transformers/{model}"
            # Offline: only the local HF cache may be used, so the hub is never contacted.
            self._model = self._load(st, hub_name, self.device, local_files_only=is_offline(),
                                     model=hub_name)
            self.weights_path = None
            self.weights_sha256 = None
            self.model_id = hub_name
        self.dim = self._embedding_dim()
        fingerprint = self.weights_sha256[:12] if self.weights_sha256 else "hub"
        self.version = (f"sentence-transformers=={package_version('sentence-transformers')}"
                        f"+weights.{fingerprint}+norm{int(self.normalize)}")
        self.options = {"normalize": self.normalize}

    @staticmethod
    def _load(st, name_or_path: str, device: str, *, local_files_only: bool, model: str):
        try:
            return st.SentenceTransformer(name_or_path, device=device,
                                          local_files_only=local_files_only)
        except Exception as exc:  # network, missing files, bad folder: all end the same for the user
            raise ModelUnavailableError(
                f"could not load sentence-transformers model {model!r} "
                f"({type(exc).__name__}: {str(exc)[:200]}). " + _supply_weights_help(model)) from exc

    def _embedding_dim(self) -> int:
        for getter in ("get_embedding_dimension", "get_sentence_embedding_dimension"):
            fn = getattr(self._model, getter, None)
            if fn is not None:
                dim = fn()
                if dim:
                    return int(dim)
        return int(self._encode(["dimension probe"]).shape[1])

    def _encode(self, texts):
        return self._model.encode(list(texts), batch_size=self.batch_size, convert_to_numpy=True,
                                  normalize_embeddings=self.normalize, show_progress_bar=False)

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        texts = [str(t) for t in texts]
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return as_float32_rows(self._encode(texts), len(texts), self.dim, self.name)
