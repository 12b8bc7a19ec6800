"""Embedding cache and the batched runner, with small fake embedders that count their calls."""

import hashlib
import os

import numpy as np
import pytest
from PIL import Image

from clustering_engine.cache import EmbeddingCache, file_hash, model_key, text_hash
from clustering_engine.embed import embed_images, embed_pairs, embed_texts
from clustering_engine.embedders.base import Embedder
from clustering_engine.errors import EngineError


class CountingTextEmbedder(Embedder):
    """Deterministic fake: a text's vector comes from its hash; counts every text it embeds."""

    name, modality, model_id, version, dim = "fake-text", "text", "fake/text", "1", 8

    def __init__(self, fail_after_calls=None):
        super().__init__()
        self.embedded: list[str] = []
        self.calls = 0
        self.fail_after_calls = fail_after_calls

    def embed_texts(self, texts):
        if self.fail_after_calls is not None and self.calls >= self.fail_after_calls:
            raise KeyboardInterrupt("killed mid-run")
        self.calls += 1
        self.embedded.extend(texts)
        return np.stack([np.frombuffer(hashlib.sha256(t.encode()).digest()[:32], np.uint8)[:8]
                         .astype(np.float32) / 255 for t in texts])


class MeanColourEmbedder(Embedder):
    """Fake image model: the mean RGB plus size, so different images get different vectors."""

    name, modality, model_id, version, dim = "fake-image", "pair", "fake/image", "1", 3

    def __init__(self):
        super().__init__()
        self.embedded = 0

    def embed_images(self, images):
        self.embedded += len(images)
        return np.stack([np.asarray(img, np.float32).mean(axis=(0, 1)) / 255 + 0.01 for img in images])

    def embed_texts(self, texts):
        return np.stack([[len(t), 1.0, 0.5] for t in texts]).astype(np.float32)


def _texts(n, offset=0):
    return [f"tweet number {i}" for i in range(offset, offset + n)]


def test_store_lookup_roundtrip_and_memmap(tmp_path):
    cache = EmbeddingCache(tmp_path / "cache")
    hashes = [text_hash(t) for t in _texts(5)]
    vectors = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    assert cache.store("m-1", hashes[:3], vectors[:3]) == 3
    assert cache.store("m-1", hashes[1:], vectors[1:]) == 2  # only the two new rows
    found_vectors, found = cache.lookup("m-1", [hashes[4], "f" * 64, hashes[0]])
    assert found.tolist() == [True, False, True]
    np.testing.assert_array_equal(found_vectors, vectors[[4, 0]])
    shards = cache.shard_arrays("m-1")
    assert len(shards) == 2 and all(isinstance(s, np.memmap) for s in shards)
    assert not shards[0].flags.writeable
    assert sorted(os.listdir(cache.model_dir("m-1"))) == [
        "shard-00000.keys", "shard-00000.npy", "shard-00001.keys", "shard-00001.npy"]
    # a second cache object (another process) sees the same shards
    other = EmbeddingCache(tmp_path / "cache")
    assert other.count("m-1") == 5 and other.contains("m-1", hashes).all()
    with pytest.raises(EngineError, match="dim"):
        cache.store("m-1", ["a" * 64], np.zeros((1, 7), np.float32))


def test_shard_without_keys_or_with_bad_keys_is_ignored(tmp_path):
    cache = EmbeddingCache(tmp_path)
    cache.store("m", ["a" * 64], np.ones((1, 2), np.float32))
    folder = cache.model_dir("m")
    np.save(os.path.join(folder, "shard-00001.npy"), np.full((1, 2), 9, np.float32))  # killed: no keys
    np.save(os.path.join(folder, "shard-00002.npy"), np.full((2, 2), 9, np.float32))
    with open(os.path.join(folder, "shard-00002.keys"), "w") as fh:
        fh.write("b" * 64 + "\n")  # 1 key for 2 rows
    fresh = EmbeddingCache(tmp_path)
    with pytest.warns(UserWarning, match="inconsistent shard"):
        assert fresh.count("m") == 1
    assert fresh.store("m", ["c" * 64], np.zeros((1, 2), np.float32)) == 1
    assert os.path.exists(os.path.join(folder, "shard-00003.keys"))  # never reuses a number


def test_model_key_separates_versions_and_towers():
    a, b = CountingTextEmbedder(), CountingTextEmbedder()
    b.version = "2"
    assert model_key(a, "text") != model_key(b, "text")
    assert model_key(a, "text") != model_key(a, "image")
    assert model_key(a, "text").startswith("fake-text-text-")


def test_rerun_embeds_nothing_and_new_rows_only(tmp_path):
    cache = EmbeddingCache(tmp_path)
    texts = _texts(10) + ["tweet number 3"]  # a duplicate is embedded once
    first = CountingTextEmbedder()
    vectors = embed_texts(first, texts, cache=cache, batch_size=4, progress=False)
    assert len(first.embedded) == 10 and vectors.shape == (11, 8)
    np.testing.assert_array_equal(vectors[10], vectors[3])
    second = CountingTextEmbedder()
    again = embed_texts(second, texts, cache=cache, batch_size=4, progress=False)
    assert second.embedded == [] and second.calls == 0
    np.testing.assert_array_equal(again, vectors)
    third = CountingTextEmbedder()
    grown = embed_texts(third, texts + _texts(3, offset=100), cache=cache, progress=False)
    assert third.embedded == _texts(3, offset=100)
    np.testing.assert_array_equal(grown[:11], vectors)
    # a new model version sees none of it
    fourth = CountingTextEmbedder()
    fourth.version = "2"
    embed_texts(fourth, texts, cache=cache, progress=False)
    assert len(fourth.embedded) == 10


def test_interrupted_run_resumes(tmp_path):
    cache = EmbeddingCache(tmp_path)
    texts = _texts(40)
    # one text per model call (the runner's default call size), batches of 4, flush every 8 items
    crashing = CountingTextEmbedder(fail_after_calls=28)
    with pytest.raises(KeyboardInterrupt):
        embed_texts(crashing, texts, cache=cache, batch_size=4, flush_rows=8, progress=False)
    assert len(crashing.embedded) == 28
    key = model_key(crashing, "text")
    assert len(cache.shard_arrays(key)) == 3 and cache.count(key) == 24  # 3 full chunks flushed
    resumed = CountingTextEmbedder()
    vectors = embed_texts(resumed, texts, cache=cache, batch_size=4, flush_rows=8, progress=False)
    assert resumed.embedded == texts[24:]
    np.testing.assert_array_equal(vectors, embed_texts(CountingTextEmbedder(), texts, progress=False))


def _save_images(folder, n):
    paths = []
    for i in range(n):
        path = os.path.join(folder, f"im{i}.png")
        Image.new("RGB", (8 + i, 6), (10 * i, 255 - 10 * i, 7)).save(path)
        paths.append(path)
    return paths


def test_image_runner_uses_cache_and_given_hashes(tmp_path):
    cache = EmbeddingCache(tmp_path / "cache")
    paths = _save_images(tmp_path, 6)
    paths.append(paths[2])  # same file twice
    emb = MeanColourEmbedder()
    vectors, failed = embed_images(emb, paths, cache=cache, batch_size=4, workers=0, progress=False)
    assert failed == [] and emb.embedded == 6 and vectors.shape == (7, 3)
    np.testing.assert_array_equal(vectors[6], vectors[2])
    emb2 = MeanColourEmbedder()
    hashes = [file_hash(p) for p in paths]
    again, failed = embed_images(emb2, paths, cache=cache, content_hashes=hashes, progress=False)
    assert emb2.embedded == 0 and failed == []
    np.testing.assert_array_equal(again, vectors)


def test_failed_images_are_not_cached_and_pairs_keep_text(tmp_path):
    cache = EmbeddingCache(tmp_path / "cache")
    paths = _save_images(tmp_path, 3)
    broken = os.path.join(tmp_path, "broken.jpg")
    with open(broken, "wb") as fh:
        fh.write(b"garbage")
    paths.insert(1, broken)
    emb = MeanColourEmbedder()
    with pytest.warns(UserWarning, match="1 of 4 images"):
        pairs, failed = embed_pairs(emb, ["a", "bb", "ccc", "dddd"], paths, cache=cache,
                                    workers=0, progress=False)
    assert failed == [1] and pairs.shape == (4, 6)
    assert not pairs[1, 3:].any() and np.isclose(np.linalg.norm(pairs[1, :3]), 1)
    assert not cache.contains(model_key(emb, "image"), [file_hash(broken)]).any()
