"""A test-only embedder that sleeps per item, so a worker can be killed in the middle of a
shard; deterministic vectors (text: from its sha256; image: from its pixels).

Registered in the engine's registry as ``test-slow`` when this module is imported: the test
process imports it, and the Celery workers import it with ``--include tests.scale.fake_embedder``.
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


sys.modules.setdefault("clustering_engine.embedders.test_slow", sys.modules[__name__])
embedders._FAMILIES.setdefault("test-slow", embedders._Family(
    "pair", "test_slow", "SlowEmbedder", "", (), "test only", "test-only slow fake embedder"))
