"""CLIP loading from local weights, with tiny randomly initialised models built here (no network)."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np
import pytest
from PIL import Image

from clustering_engine.embedders import get_embedder
from clustering_engine.errors import ConfigError, ModelUnavailableError

torch = pytest.importorskip("torch")
open_clip = pytest.importorskip("open_clip")

from tests.engine.tiny_clip import EMBED_DIM, TINY_ARCH, build_tiny_hf_clip, build_tiny_open_clip  # noqa: E402

TEXTS = ["a red square", "a blue circle", "波士顿马拉松"]


def _images():
    rng = np.random.default_rng(0)
    return [Image.fromarray(rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)) for _ in range(3)]


@pytest.fixture(scope="module")
def tiny_open_clip(tmp_path_factory):
    return build_tiny_open_clip(tmp_path_factory.mktemp("openclip"))


@pytest.fixture(scope="module")
def tiny_hf_clip(tmp_path_factory):
    return build_tiny_hf_clip(tmp_path_factory.mktemp("hfclip"))


def _unit(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _check_pair_embedder(emb):
    assert emb.modality == "pair" and emb.dim == EMBED_DIM
    texts, images = emb.embed_texts(TEXTS), emb.embed_images(_images())
    assert texts.shape == (3, EMBED_DIM) and images.shape == (3, EMBED_DIM)
    assert texts.dtype == np.float32 and images.dtype == np.float32
    np.testing.assert_allclose(emb.embed_texts(TEXTS), texts, atol=1e-6)  # deterministic
    pairs = emb.embed_pairs(TEXTS, _images(), combine="concat")
    assert pairs.shape == (3, 2 * EMBED_DIM) == (3, emb.pair_dim("concat"))
    np.testing.assert_allclose(np.linalg.norm(pairs[:, :EMBED_DIM], axis=1), 1, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(pairs[:, EMBED_DIM:], axis=1), 1, atol=1e-5)
    mean = emb.embed_pairs(TEXTS, _images(), combine="mean")
    np.testing.assert_allclose(mean, (pairs[:, :EMBED_DIM] + pairs[:, EMBED_DIM:]) / 2, atol=1e-5)
    with pytest.raises(ConfigError):
        emb.embed_pairs(TEXTS, _images(), combine="sum")
    return texts, images


def test_open_clip_local_file(tiny_open_clip):
    model, weights = tiny_open_clip
    emb = get_embedder(f"clip:{TINY_ARCH}@{weights}", device="cpu")
    texts, images = _check_pair_embedder(emb)
    # the saved weights were really loaded: same outputs as the in-memory model
    tokenizer = open_clip.get_tokenizer(TINY_ARCH)
    with torch.no_grad():
        expected = model.encode_text(tokenizer(TEXTS)).numpy()
    np.testing.assert_allclose(texts, _unit(expected), atol=1e-5)
    d = emb.describe()
    assert d["weights"]["path"] == str(weights) and len(d["weights"]["sha256"]) == 64
    assert d["weights"]["sha256"][:12] in emb.version


def test_clip_image_tower_only(tiny_open_clip):
    _, weights = tiny_open_clip
    emb = get_embedder(f"clip-image:{TINY_ARCH}@{weights}", device="cpu")
    assert emb.modality == "image"
    assert emb.embed_images(_images()).shape == (3, EMBED_DIM)
    with pytest.raises(ConfigError):
        emb.embed_texts(TEXTS)


def test_transformers_local_folder(tiny_hf_clip):
    model, folder = tiny_hf_clip
    emb = get_embedder(f"clip:hf:{folder}", device="cpu")
    texts, _ = _check_pair_embedder(emb)
    inputs = emb._backend.processor.tokenizer(TEXTS, padding=True, return_tensors="pt")
    with torch.no_grad():
        out = model.get_text_features(**inputs)
    expected = (out if hasattr(out, "shape") else out.pooler_output).numpy()
    np.testing.assert_allclose(texts, _unit(expected), atol=1e-5)


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a connection fails loudly, so a hub call could not go unnoticed."""
    import socket

    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def test_hub_tag_offline_is_refused_without_download(no_network):
    with pytest.raises(ModelUnavailableError) as info:
        get_embedder("clip:ViT-B-32@openai", device="cpu")
    message = str(info.value)
    assert "ViT-B-32@openai" in message and "offline" in message and "hf:/path" in message


def test_missing_clip_weights(no_network, tmp_path):
    with pytest.raises(ModelUnavailableError, match="does not exist"):
        get_embedder(f"clip:ViT-B-32@{tmp_path}/missing.bin", device="cpu")
    with pytest.raises(ModelUnavailableError, match="does not exist"):
        get_embedder(f"clip:hf:{tmp_path}/nothing-here", device="cpu")
    with pytest.raises(ModelUnavailableError, match="no weights"):
        get_embedder("clip:ViT-B-32", device="cpu")
