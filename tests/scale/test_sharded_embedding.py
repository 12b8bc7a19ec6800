"""Sharded embedding with two real Celery worker processes against Redis and PostgreSQL: one
worker is killed (SIGKILL, its whole process group) while it embeds a shard, and later the
other worker's pool process is killed mid-shard too; the run still completes, every text and
image is in the embedding cache exactly once, both interrupted shards were redelivered and
finished, no finished shard ran twice, and the engine run afterwards embedded nothing.

Only the model is a fake (tests/scale/fake_embedder.py: sleeps per item, deterministic vectors);
the workers, broker, result backend, database and data (120 MediaEval pairs, read in place) are
real.
"""
import csv
import os
import signal
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest

from clustering_engine.cache import SHARD_RE
from projects.models import Dataset, EmbeddingShard, EngineRun, RunStatus
from projects.services.runs import start_run

from tests.fixtures.celery import on_broker
from tests.fixtures.platform import DATA

from .conftest import REPO, base_env, need_services, start_process, stop_process

N_PAIRS, SHARD_SIZE = 120, 10
REDIS_URL = "redis://127.0.0.1:6379/12"
TIMEOUT_S = 150
OPTIONS = {"text_model": "test-slow", "image_model": "test-slow", "methods": ["label", "vector"],
           "ks": [4], "algorithms": ["kmeans"], "reduction": "pca", "n_components": 8,
           "ami_permutations": 10, "seed": 0}


@pytest.fixture
def pairs_table(tmp_path):
    """The first 120 MediaEval rows; images stay in ../shared/data (images_root)."""
    if not (DATA / "pairs.csv").exists():
        pytest.skip(f"the MediaEval data is not at {DATA}")
    with open(DATA / "pairs.csv", encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        rows = [row for _, row in zip(range(N_PAIRS), reader)]
    path = tmp_path / "pairs.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=reader.fieldnames)
        writer.writeheader()
        writer.writerows(rows)
    return path, DATA


@pytest.fixture
def two_workers(transactional_db, settings, tmp_path):
    need_services()
    from diptych.celery import app

    queue, embed_queue = f"scale-{uuid.uuid4().hex[:8]}", f"scale-embed-{uuid.uuid4().hex[:8]}"
    cache = tmp_path / "cache"
    embed_log = tmp_path / "embed-calls.log"
    env = base_env(REDIS_URL=REDIS_URL, DIPTYCH_CELERY_QUEUE=queue,
                   DIPTYCH_EMBEDDING_QUEUE=embed_queue, DIPTYCH_EMBEDDING_SHARD_SIZE=SHARD_SIZE,
                   DIPTYCH_EMBEDDING_LEASE_S=3, DIPTYCH_BROKER_VISIBILITY_TIMEOUT=8,
                   DIPTYCH_BROKER_RESTORE_INTERVAL=1, DIPTYCH_MEDIA_ROOT=settings.MEDIA_ROOT,
                   DIPTYCH_EMBEDDING_CACHE=cache, DIPTYCH_ENGINE_WORKERS=1,
                   DIPTYCH_TEXT_MODELS="test-slow", DIPTYCH_IMAGE_MODELS="test-slow",
                   DIPTYCH_TEST_EMBED_LOG=embed_log, DIPTYCH_TEST_EMBED_DELAY=0.1,
                   DIPTYCH_TEST_FAKE_EMBEDDER=1,
                   DIPTYCH_ALLOWED_DATA_ROOTS=REPO.parent / "shared" / "data")
    workers = {}
    for name in ("victim", "survivor"):
        log_path = tmp_path / f"{name}.log"
        workers[name] = (start_process(
            [sys.executable, "-m", "celery", "-A",
             "diptych", "worker", "-P", "prefork", "-c", "1", "-Q", f"{queue},{embed_queue}",
             "-n", f"{name}@%h", "-I", "tests.scale.fake_embedder", "--loglevel=INFO",
             "--without-mingle", "--without-gossip", "--without-heartbeat"], env, log_path),
            log_path)
    settings.DIPTYCH_RUNS_IN_THREAD = False
    settings.DIPTYCH_EMBEDDING_SHARD_SIZE = SHARD_SIZE
    settings.DIPTYCH_EMBEDDING_QUEUE = embed_queue
    settings.DIPTYCH_EMBEDDING_CACHE = cache
    settings.DIPTYCH_MODEL_CHOICES = {"text": ["test-slow"], "image": ["test-slow"],
                                      "joint": ["rcca"]}
    try:
        with on_broker(app, REDIS_URL, queue):
            try:
                yield workers, cache, embed_log
            finally:
                for process, _ in workers.values():
                    stop_process(process)
    finally:
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        leftovers = [k for q in (queue, embed_queue) for k in client.keys(f"{q}*")]
        if leftovers:  # e.g. a redelivered copy nobody will consume: this queue name is unique
            client.delete(*leftovers)


def _logs(workers):
    return "\n".join(f"--- {name} ---\n{path.read_text(errors='replace')[-3000:]}"
                     for name, (_, path) in workers.items())


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _cache_key_counts(cache: Path) -> dict[str, Counter]:
    """Per model folder: how many valid cache shards hold each hash."""
    counts = {}
    for folder in cache.iterdir():
        counter = Counter()
        for keys in folder.glob("shard-*.keys"):
            assert SHARD_RE.match(keys.name)
            counter.update(keys.read_text(encoding="ascii").split())
        counts[folder.name] = counter
    return counts


def test_killed_worker_loses_only_its_shard(project, users, pairs_table, two_workers):
    workers, cache, embed_log = two_workers
    table, images_root = pairs_table
    dataset = Dataset.objects.create(project=project, name="mediaeval 120", source="folder",
                                     table_path=str(table), images_root=str(images_root),
                                     n_rows_read=N_PAIRS, n_pairs_valid=N_PAIRS)
    run = start_run(project, dataset, OPTIONS, user=users["pi"])  # dispatched on commit
    engine_task_id = EngineRun.objects.get(pk=run.pk).celery_task_id
    assert engine_task_id, "the engine task id is fixed at dispatch"

    victim, survivor = workers["victim"][0], workers["survivor"][0]
    deadline = time.monotonic() + TIMEOUT_S
    killed_shard = child_killed_shard = None
    stages = set()
    while time.monotonic() < deadline:
        current = EngineRun.objects.get(pk=run.pk)
        stages.add(current.stage)
        if current.is_finished:
            break
        done = EmbeddingShard.objects.filter(run=run, status="done").count()
        if killed_shard is None and done >= 2:
            # 1. A whole worker dies (machine lost): its shard comes back after the broker's
            #    visibility timeout, and is taken once its heartbeat is older than the lease.
            held = EmbeddingShard.objects.filter(run=run, status="running",
                                                 worker__startswith="victim@").first()
            if held is not None:
                os.killpg(victim.pid, signal.SIGKILL)  # the worker and its pool child
                victim.wait()
                killed_shard = held.index
        elif killed_shard is not None and child_killed_shard is None and done >= 5:
            # 2. Only the survivor's pool process dies (OOM killer): reject_on_worker_lost
            #    requeues its shard at once; the survivor's new pool process finishes it.
            held = (EmbeddingShard.objects.filter(run=run, status="running",
                                                  worker__startswith="survivor@")
                    .exclude(index=killed_shard).first())
            children = _children(survivor.pid)
            if held is not None and len(children) == 1:
                os.kill(children[0], signal.SIGKILL)
                child_killed_shard = held.index
        if survivor.poll() is not None:
            pytest.fail(f"the surviving worker exited:\n{_logs(workers)}")
        time.sleep(0.05)
    run = EngineRun.objects.get(pk=run.pk)
    assert run.is_finished, f"still {run.status} ({run.stage}) after {TIMEOUT_S}s\n{_logs(workers)}"
    assert run.status == RunStatus.SUCCEEDED, \
        f"{run.error_message}\n{run.log[-3000:]}\n{_logs(workers)}"
    assert killed_shard is not None, f"the victim never held a shard mid-run:\n{_logs(workers)}"
    assert child_killed_shard is not None, f"no pool process was killed:\n{_logs(workers)}"
    assert "exited with 'signal 9 (SIGKILL)'" in workers["survivor"][1].read_text()

    # Every shard done; the killed one taken again (by the survivor, after the lease).
    shards = list(EmbeddingShard.objects.filter(run=run).order_by("index"))
    assert len(shards) == N_PAIRS // SHARD_SIZE
    assert all(s.status == "done" for s in shards)
    for index in (killed_shard, child_killed_shard):
        redone = next(s for s in shards if s.index == index)
        assert redone.attempts >= 2 and redone.worker.startswith("survivor@"), redone
    assert all(s.attempts == 1 for s in shards if s.index not in (killed_shard,
                                                                  child_killed_shard)), \
        "finished shards are never recomputed"
    # Progress counted shards on the run while they ran.
    assert any(s and s.startswith("embedding shards ") and s.endswith(f"/{len(shards)}")
               for s in stages), stages

    # The cache holds every distinct text and image exactly once.
    import pandas as pd

    pairs = pd.read_parquet(Path(run.output_dir) / "pairs.parquet")
    counts = _cache_key_counts(cache)
    text_folder = next(k for k in counts if k.startswith("test-slow-text"))
    image_folder = next(k for k in counts if k.startswith("test-slow-image"))
    from clustering_engine.cache import text_hash

    want_texts = {text_hash(t) for t in pairs["text"]}
    assert set(counts[text_folder]) == want_texts
    assert set(counts[image_folder]) == set(pairs["image_sha256"])
    for folder, counter in counts.items():
        duplicated = {h: n for h, n in counter.items() if n != 1}
        assert not duplicated, f"{folder}: hashes cached more than once: {duplicated}"
    assert sum(s.n_texts for s in shards) == len(want_texts)
    assert sum(s.n_images for s in shards) == len(set(pairs["image_sha256"]))

    # Embedding happened only in shard tasks; the engine run found everything cached.
    calls = [line.split() for line in embed_log.read_text().splitlines()]
    assert calls and {c[1] for c in calls} == {"projects.embed_shard"}, Counter(c[1] for c in calls)
    assert "embed" in run.log and run.progress == 1.0
