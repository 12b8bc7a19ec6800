"""The paper's image model: ResNet-18 trained on Places365 (CSAIL checkpoint), 512-d avgpool features.

Spec: "places365-resnet18:<path to resnet18_places365.pth.tar>". The checkpoint is not on PyPI;
users download it by hand. Preprocessing follows the paper's appendix B.2: resize to 224x224,
ImageNet mean/std normalisation.
"""

from __future__ import annotations

import os

import numpy as np

from ..errors import ModelUnavailableError
from .base import (Embedder, as_float32_rows, file_sha256, fold_batchnorms, package_version,
                   resolve_device)
from .image_efficientnet import images_to_uint8_batch

CSAIL_URL = "http://places2.csail.mit.edu/models_places365/resnet18_places365.pth.tar"
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], np.float32)
IMAGE_SIZE = 224


def _missing(path: str, why: str) -> ModelUnavailableError:
    return ModelUnavailableError(
        f"model 'places365-resnet18' (ResNet-18 Places365, CSAIL) is unavailable: {why}. "
        f"Download the checkpoint by hand from {CSAIL_URL} (about 45 MB) and pass its path: "
        f"'places365-resnet18:/path/to/resnet18_places365.pth.tar'.")


class Places365ResNet18Embedder(Embedder):
    """torchvision resnet18(num_classes=365) with the CSAIL weights; avgpool output (512-d)."""

    modality = "image"
    model_id = "csail/resnet18_places365"
    dim = 512
    image_size = IMAGE_SIZE

    def __init__(self, checkpoint: str = "", *, device: str = "auto", batch_size: int = 32):
        super().__init__()
        self.name = "places365-resnet18"
        if not checkpoint:
            raise _missing("", "no checkpoint path was given")
        path = os.path.abspath(os.path.expanduser(checkpoint))
        if not os.path.isfile(path):
            raise _missing(path, f"checkpoint file {path!r} does not exist")
        import torch
        import torchvision

        self._torch = torch
        self.device = resolve_device(device)
        self.batch_size = int(batch_size)
        try:
            # weights_only: a checkpoint is data; never run pickled code from a downloaded file.
            checkpoint_obj = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:
            raise _missing(path, f"{path!r} is not a readable PyTorch checkpoint "
                                 f"({type(exc).__name__}: {str(exc)[:200]})") from exc
        state_dict = checkpoint_obj.get("state_dict", checkpoint_obj) \
            if isinstance(checkpoint_obj, dict) else None
        if not isinstance(state_dict, dict):
            raise _missing(path, f"{path!r} holds no state_dict")
        # CSAIL trained with DataParallel, hence the "module." prefix on every key.
        state_dict = {k.replace("module.", "", 1) if k.startswith("module.") else k: v
                      for k, v in state_dict.items()}
        model = torchvision.models.resnet18(num_classes=365)
        try:
            model.load_state_dict(state_dict)
        except RuntimeError as exc:
            raise _missing(path, f"{path!r} does not fit resnet18(num_classes=365): "
                                 f"{str(exc)[:200]}") from exc
        model.fc = torch.nn.Identity()  # keep the 512-d avgpool features
        model.eval()
        pairs = [(model, "conv1", "bn1")]
        for layer in (model.layer1, model.layer2, model.layer3, model.layer4):
            for block in layer:
                pairs += [(block, "conv1", "bn1"), (block, "conv2", "bn2")]
                if block.downsample is not None:
                    pairs.append((block.downsample, "0", "1"))
        fold_batchnorms(pairs)
        self._model = model.eval().to(self.device, memory_format=torch.channels_last)
        self.weights_path = path
        self.weights_sha256 = file_sha256(path)
        self.version = (f"torchvision=={package_version('torchvision')}"
                        f"+weights.{self.weights_sha256[:12]}+resize{IMAGE_SIZE}")
        self.options = {"image_size": IMAGE_SIZE, "normalisation": "imagenet", "resize": "squash"}

    def preprocess(self, images):
        batch = images_to_uint8_batch(images, IMAGE_SIZE).astype(np.float32) / 255.0
        batch = (batch - IMAGENET_MEAN) / IMAGENET_STD
        return self._torch.from_numpy(np.ascontiguousarray(batch.transpose(0, 3, 1, 2)))

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
                out.append(self._model(x).float().cpu().numpy())
        return as_float32_rows(np.concatenate(out), len(images), self.dim, self.name)
