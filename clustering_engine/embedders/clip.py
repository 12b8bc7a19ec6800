"""CLIP (joint text-image space) from local weights, through open_clip or transformers.

Specs (after "clip:" or "clip-image:"):
  "ViT-B-32@/path/file.bin"   open_clip architecture + local checkpoint file
  "local-dir:/path/folder"    open_clip folder with open_clip_config.json + weights
  "hf:/path/folder"           transformers CLIPModel + CLIPProcessor folder (local_files_only)
  "ViT-B-32@openai"           open_clip pretrained tag: downloads, so only when online
  "ViT-B-32@random"           random weights (seed 0): for benchmarks and tests only
No CLIP weights ship on PyPI; offline, a hub tag is refused before any download is attempted.
"""

from __future__ import annotations

import os

import numpy as np

from ..errors import ConfigError, ModelUnavailableError
from .base import (Embedder, as_float32_rows, combine_pair_vectors, dir_sha256, file_sha256,
                   is_offline, l2_normalise, package_version, require_module, resolve_device)

SPEC_HELP = ("Pass local weights: 'clip:ViT-B-32@/path/open_clip_model.bin' (open_clip architecture "
             "+ checkpoint file), 'clip:local-dir:/path/folder' (open_clip folder), or "
             "'clip:hf:/path/folder' (a transformers CLIP folder saved with save_pretrained). "
             "Download the weights on a machine with internet, e.g. the file "
             "'open_clip_pytorch_model.bin' of the Hugging Face repo "
             "'timm/vit_base_patch32_clip_224.openai', or the folder 'openai/clip-vit-base-patch32'.")


def _unavailable(spec: str, why: str) -> ModelUnavailableError:
    return ModelUnavailableError(f"CLIP model {spec!r} is unavailable: {why}. {SPEC_HELP}")


class _OpenClipBackend:
    """open_clip model + its eval transform + tokenizer."""

    def __init__(self, spec: str, device: str, model_config: str | None):
        import torch

        open_clip = require_module("open_clip", model=f"clip:{spec}", pip_name="open-clip-torch")
        if model_config:
            open_clip.add_model_config(model_config)  # register a custom architecture JSON
        self.torch = torch
        if spec.startswith("local-dir:"):
            folder = spec[len("local-dir:"):]
            if not os.path.isdir(folder):
                raise _unavailable(spec, f"folder {folder!r} does not exist")
            model_name, pretrained, self.arch = spec, None, spec
            self.weights_path = os.path.abspath(folder)
            self.weights_sha256 = dir_sha256(folder)
        else:
            if "@" not in spec:
                raise _unavailable(spec, "no weights were named (expected ARCH@WEIGHTS)")
            self.arch, weights = spec.split("@", 1)
            if self.arch not in open_clip.list_models():
                raise ConfigError(f"unknown open_clip architecture {self.arch!r}; known ones include "
                                  f"{', '.join(sorted(open_clip.list_models())[:8])}, ...")
            model_name = self.arch
            looks_like_path = os.sep in weights or os.path.splitext(weights)[1] in (
                ".bin", ".pt", ".pth", ".safetensors", ".ckpt")
            if weights == "random":
                pretrained = None
                self.weights_path, self.weights_sha256 = None, "random-seed0"
                torch.manual_seed(0)  # reproducible "random" weights, so cached vectors stay valid
            elif looks_like_path or os.path.isfile(weights):
                if not os.path.isfile(weights):
                    raise _unavailable(spec, f"weights file {weights!r} does not exist")
                pretrained = os.path.abspath(weights)
                self.weights_path = pretrained
                self.weights_sha256 = file_sha256(pretrained)
            else:
                if is_offline():
                    raise _unavailable(spec, f"pretrained tag {weights!r} needs a download from the "
                                             "model hub and this environment is offline")
                pretrained = weights
                self.weights_path, self.weights_sha256 = None, f"tag:{weights}"
        try:
            model, _, self.preprocess = open_clip.create_model_and_transforms(
                model_name, pretrained=pretrained, device=device)
            self.tokenizer = open_clip.get_tokenizer(model_name)
        except (OSError, RuntimeError, ValueError) as exc:
            raise _unavailable(spec, f"{type(exc).__name__}: {str(exc)[:300]}") from exc
        self.model = model.eval()
        self.device = device
        self.library = f"open_clip=={package_version('open-clip-torch')}"

    def encode_texts(self, texts):
        with self.torch.inference_mode():
            tokens = self.tokenizer(texts).to(self.device)
            return self.model.encode_text(tokens).float().cpu().numpy()

    def encode_images(self, images):
        with self.torch.inference_mode():
            x = self.torch.stack([self.preprocess(img) for img in images]).to(self.device)
            return self.model.encode_image(x).float().cpu().numpy()


class _HfClipBackend:
    """transformers CLIPModel + CLIPProcessor from a local folder; never touches the hub."""

    def __init__(self, folder: str, device: str):
        import torch

        transformers = require_module("transformers", model=f"clip:hf:{folder}", pip_name="transformers")
        if not os.path.isdir(folder):
            raise _unavailable(f"hf:{folder}", f"folder {folder!r} does not exist")
        self.torch = torch
        try:
            self.model = transformers.CLIPModel.from_pretrained(folder, local_files_only=True).eval()
            self.processor = transformers.CLIPProcessor.from_pretrained(folder, local_files_only=True)
        except (OSError, ValueError) as exc:
            raise _unavailable(f"hf:{folder}", f"{type(exc).__name__}: {str(exc)[:300]}") from exc
        self.model.to(device)
        self.device = device
        self.arch = f"hf:{os.path.basename(os.path.abspath(folder))}"
        self.weights_path = os.path.abspath(folder)
        self.weights_sha256 = dir_sha256(folder)
        self.max_length = int(self.model.config.text_config.max_position_embeddings)
        self.library = f"transformers=={package_version('transformers')}"

    @staticmethod
    def _features(output):
        # transformers >= 5 returns a model output whose pooler_output is the projected feature.
        return output if hasattr(output, "shape") else output.pooler_output

    def encode_texts(self, texts):
        inputs = self.processor.tokenizer(list(texts), padding=True, truncation=True,
                                          max_length=self.max_length, return_tensors="pt")
        with self.torch.inference_mode():
            out = self.model.get_text_features(input_ids=inputs["input_ids"].to(self.device),
                                               attention_mask=inputs["attention_mask"].to(self.device))
            return self._features(out).float().cpu().numpy()

    def encode_images(self, images):
        pixels = self.processor.image_processor(images=list(images), return_tensors="pt")["pixel_values"]
        with self.torch.inference_mode():
            out = self.model.get_image_features(pixel_values=pixels.to(self.device))
            return self._features(out).float().cpu().numpy()


class ClipEmbedder(Embedder):
    """CLIP text and image towers; vectors are L2-normalised (cosine geometry, as CLIP is trained)."""

    image_size = 224

    def __init__(self, spec: str = "", *, device: str = "auto", image_only: bool = False,
                 normalize: bool = True, batch_size: int = 64, model_config: str | None = None):
        super().__init__()
        prefix = "clip-image" if image_only else "clip"
        self.name = f"{prefix}:{spec}"
        self.modality = "image" if image_only else "pair"
        if not spec:
            raise _unavailable(spec, "no model was named")
        self.device = resolve_device(device)
        if spec.startswith("hf:"):
            self._backend = _HfClipBackend(os.path.expanduser(spec[3:]), self.device)
        else:
            self._backend = _OpenClipBackend(spec, self.device, model_config)
        self.normalize = bool(normalize)
        self.batch_size = int(batch_size)
        self.weights_path = self._backend.weights_path
        self.weights_sha256 = self._backend.weights_sha256
        self.model_id = f"clip:{self._backend.arch}"
        self.dim = int(self._backend.encode_texts(["dimension probe"]).shape[1])
        self.version = (f"{self._backend.library}+weights.{str(self.weights_sha256)[:12]}"
                        f"+norm{int(self.normalize)}")
        self.options = {"normalize": self.normalize}
        if model_config:
            self.options["model_config"] = model_config

    def _batched(self, encode, items) -> np.ndarray:
        parts = [encode(items[i:i + self.batch_size]) for i in range(0, len(items), self.batch_size)]
        vectors = np.concatenate(parts) if parts else np.zeros((0, self.dim), np.float32)
        return l2_normalise(vectors) if self.normalize else vectors

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        if self.modality == "image":
            return super().embed_texts(texts)
        texts = [str(t) for t in texts]
        return as_float32_rows(self._batched(self._backend.encode_texts, texts),
                               len(texts), self.dim, self.name)

    def embed_images(self, images) -> np.ndarray:
        images = [img if img.mode == "RGB" else img.convert("RGB") for img in images]
        return as_float32_rows(self._batched(self._backend.encode_images, images),
                               len(images), self.dim, self.name)

    def embed_pairs(self, texts: list[str], images, combine: str = "concat") -> np.ndarray:
        """[unit text ; unit image] (2*dim) for combine="concat", or their mean (dim)."""
        if self.modality != "pair":
            raise ConfigError(f"embedder {self.name!r} embeds images only; use 'clip:' for pairs")
        return combine_pair_vectors(self.embed_texts(texts), self.embed_images(images), combine)

    def pair_dim(self, combine: str = "concat") -> int:
        return 2 * self.dim if combine == "concat" else self.dim
