"""A content's embedding must not depend on its batch companions, the batch size, the number of
decoding workers or what an earlier run put in the cache (same machine: identical bits)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from clustering_engine.cache import EmbeddingCache
from clustering_engine.embed import (FILLER_TEXT, call_sizes, embed_images, embed_texts,
                                     precision_policy)
from clustering_engine.embedders.base import Embedder

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "mediaeval2016_vmu"


class ShapeRecordingEmbedder(Embedder):
    """Fake text model that records how many texts each call received."""

    name, modality, model_id, version, dim = "shape-recorder", "text", "fake/shapes", "1", 4
    text_call_size = 5

    def __init__(self):
        super().__init__()
        self.call_lengths: list[int] = []
        self.seen: list[str] = []

    def embed_texts(self, texts):
        self.call_lengths.append(len(texts))
        self.seen.extend(texts)
        return np.array([[len(t), t.count("a"), 1.0, 0.0] for t in texts], np.float32)


def test_every_model_call_has_the_declared_shape():
    emb = ShapeRecordingEmbedder()
    texts = [f"text {'a' * i}" for i in range(12)]
    vectors = embed_texts(emb, texts, batch_size=7, progress=False)
    # runner batches of 7 and 5 -> calls of 5+5 (second padded by 3) and 5: always 5 items
    assert emb.call_lengths == [5, 5, 5]
    assert emb.seen.count(FILLER_TEXT) == 3
    np.testing.assert_array_equal(vectors[:, 1], [t.count("a") for t in texts])  # filler dropped


def test_embedders_without_a_declared_call_size_get_one_item_per_call():
    class Plain:
        pass

    assert call_sizes(Plain()) == (1, 1)


@pytest.fixture(scope="module")
def shared_items():
    if not (DATA / "pairs.csv").exists():
        pytest.skip(f"shared data not found at {DATA}")
    pairs = pd.read_csv(DATA / "pairs.csv")
    texts = pairs["text"].drop_duplicates().tolist()[:60]
    images = [str(DATA / p) for p in pairs["image"].drop_duplicates().tolist()[:30]]
    return texts, images


def _bits(a: np.ndarray) -> bytes:
    return np.ascontiguousarray(a, dtype=np.float32).tobytes()


def test_default_models_give_identical_bits_cold_warm_and_after_a_shuffled_superset(
        shared_items, tmp_path):
    from clustering_engine.embedders import get_embedder

    texts, images = shared_items
    subset_t, subset_i = texts[:40], images[:20]
    text_model = get_embedder("use-multilingual", device="cpu")
    image_model = get_embedder("efficientnet-lite0", device="cpu")

    # Run 1: cold cache, small batches, no decoding workers.
    cold = EmbeddingCache(tmp_path / "cold")
    t_cold = embed_texts(text_model, subset_t, cache=cold, batch_size=8, progress=False)
    i_cold, failed = embed_images(image_model, subset_i, cache=cold, batch_size=5, workers=0,
                                  progress=False)
    assert failed == []

    # Run 2: another cache first filled by a run over a shuffled superset, large batches, 2 workers;
    # then the subset is served from that warm cache.
    rng = np.random.default_rng(7)
    other = EmbeddingCache(tmp_path / "other")
    embed_texts(text_model, [texts[j] for j in rng.permutation(len(texts))], cache=other,
                batch_size=64, progress=False)
    embed_images(image_model, [images[j] for j in rng.permutation(len(images))], cache=other,
                 batch_size=32, workers=2, progress=False)
    t_warm = embed_texts(text_model, subset_t, cache=other, batch_size=8, progress=False)
    i_warm, _ = embed_images(image_model, subset_i, cache=other, batch_size=5, workers=0,
                             progress=False)

    # Run 3: no cache at all, yet another batch size, reversed order.
    t_none = embed_texts(text_model, subset_t[::-1], batch_size=3, progress=False)[::-1]
    i_none, _ = embed_images(image_model, subset_i[::-1], batch_size=3, workers=0,
                             progress=False)

    assert _bits(t_cold) == _bits(t_warm) == _bits(t_none)
    assert _bits(i_cold) == _bits(i_warm) == _bits(i_none[::-1])
    assert np.abs(t_cold).sum() > 0 and np.abs(i_cold).sum() > 0

    policy = precision_policy(image_model)
    assert policy["dtype"] == "float32" and policy["image_call_size"] == 16
    assert precision_policy(text_model)["text_call_size"] == 1


def test_resizing_in_the_decoding_workers_gives_the_same_bits(shared_items):
    from clustering_engine.embed import _ImageFiles, squash_size
    from clustering_engine.embedders import get_embedder

    _, images = shared_items
    image_model = get_embedder("efficientnet-lite0", device="cpu")
    assert squash_size(image_model) == 224
    decoded = _ImageFiles(images[:3], squash_size(image_model))[0][1]
    assert decoded.size == (224, 224)
    in_workers, _ = embed_images(image_model, images[:18], workers=2, batch_size=6,
                                 progress=False)
    in_model, _ = embed_images(image_model, images[:18], workers=2, batch_size=6,
                               progress=False, resize_in_workers=False)
    assert _bits(in_workers) == _bits(in_model)
    assert np.abs(in_workers).sum() > 0


def test_models_with_their_own_preprocessing_are_not_resized_for_them():
    from clustering_engine.embed import squash_size

    class Cropping(Embedder):
        image_size = 224

    cropping = Cropping()
    cropping.options = {"resize": "shortest side, centre crop"}
    assert squash_size(cropping) is None
    assert squash_size(Cropping()) is None


def test_an_image_that_fails_to_resize_in_a_worker_is_reported_not_raised(shared_items,
                                                                         monkeypatch):
    from PIL import Image

    from clustering_engine.embed import _ImageFiles

    _, images = shared_items

    def broken(self, *args, **kwargs):
        raise OSError("image file is truncated")

    monkeypatch.setattr(Image.Image, "resize", broken)
    index, image, error = _ImageFiles(images[:1], 224)[0]
    assert (index, image) == (0, None) and error == "OSError: image file is truncated"
