"""A test-only embedder that sleeps per item, so a worker can be killed in the middle of a
shard; deterministic vectors (text: from its sha256; image: from its pixels).

Registered in the engine's registry as ``test-slow`` only inside a test (``register``), or in
the Celery workers a test starts (``--include tests.scale.fake_embedder`` with
DIPTYCH_TEST_FAKE_EMBEDDER=1).
Every call is appended to the file in ``DIPTYCH_TEST_EMBED_LOG`` (pid, Celery task, kind, n) so
the test can tell who embedded what.
"""
import hashlib
import os
import sys
import time

import numpy as np

from clustering_engine import embedders
from clustering_engine.embedders.base import Embedder

DIM = 32
DELAY_S = float(os.environ.get("DIPTYCH_TEST_EMBED_DELAY", "0.1"))


def _log(kind: str, n: int) -> None:
    path = os.environ.get("DIPTYCH_TEST_EMBED_LOG")
    if not path:
        return
    try:
        from celery import current_task

        task = current_task.name if current_task else "-"
    except Exception:  # pragma: no cover
        task = "-"
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(f"{os.getpid()} {task} {kind} {n}\n")


class SlowEmbedder(Embedder):
    def __init__(self, *, device: str = "auto"):
        super().__init__()
        self.name = "test-slow"
        self.modality = "pair"
        self.model_id = "test-slow/1"
        self.version = "1"
        self.dim = DIM
        self.device = "cpu"

    def embed_texts(self, texts):
        _log("text", len(texts))
        time.sleep(DELAY_S * len(texts))
        out = [np.random.default_rng(int.from_bytes(
            hashlib.sha256(t.encode("utf-8")).digest()[:8], "little")).normal(size=DIM)
            for t in texts]
        return np.asarray(out, dtype=np.float32)

    def embed_images(self, images):
        _log("image", len(images))
        time.sleep(DELAY_S * len(images))
        out = [np.asarray(img.convert("L").resize((8, 4)), dtype=np.float32).ravel() / 255.0
               for img in images]
        return np.asarray(out, dtype=np.float32)


MODULE = "clustering_engine.embedders.test_slow"
FAMILY = embedders._Family("pair", "test_slow", "SlowEmbedder", "", (), "test only",
                           "test-only slow fake embedder")


def register(monkeypatch=None) -> None:
    """Put ``test-slow`` in the engine's registry (undone after the test with monkeypatch)."""
    if monkeypatch is not None:
        monkeypatch.setitem(sys.modules, MODULE, sys.modules[__name__])
        monkeypatch.setitem(embedders._FAMILIES, "test-slow", FAMILY)
    else:
        sys.modules.setdefault(MODULE, sys.modules[__name__])
        embedders._FAMILIES.setdefault("test-slow", FAMILY)


if os.environ.get("DIPTYCH_TEST_FAKE_EMBEDDER") == "1":  # the workers (celery -I this module)
    register()
