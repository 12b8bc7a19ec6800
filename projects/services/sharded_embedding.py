"""Sharded embedding: a large run's embeddings computed by many Celery workers, then the run.

Design note
-----------
* **Plan** (task ``projects.plan_embedding``, one per run): read the pairs table once (existence
  check and content hashes, no decoding), cut the pairs into shards of
  ``DIPTYCH_EMBEDDING_SHARD_SIZE`` rows and give every *distinct* text and image to the first
  shard whose pairs use it, so no two shards ever embed the same content (a viral image posted
  10,000 times is embedded once). Each shard's items go to a small parquet file beside the run
  folder (``<output_dir>.shards/shard-NNNNN.parquet``); one ``EmbeddingShard`` row per
  (run, index) — unique, so planning again (a redelivery, a resume) adds nothing twice.
* **Fan out** with a Celery chord: header = one ``projects.embed_shard`` task per shard not done
  yet, on ``DIPTYCH_EMBEDDING_QUEUE`` (GPU workers listen there); body = the normal
  ``projects.run_engine`` task, whose id was fixed at dispatch and stored on the run, so it claims
  the run as before. Its embed stage reads the installation's ``EmbeddingCache`` and finds every
  vector there: nothing is embedded twice.
* **Shard task**: acks_late + reject_on_worker_lost. A shard is claimed by a conditional UPDATE:
  pending, or running with a heartbeat older than ``DIPTYCH_EMBEDDING_LEASE_S`` (its worker died).
  A delivery that finds the shard done returns at once (finished shards are never recomputed); one
  that finds it held by a live worker retries later. Items are embedded in sub-batches written to
  the cache as they finish (the cache's shards are immutable, linked into place with ``os.link``,
  safe with concurrent writers), with a heartbeat and a cancel check between sub-batches, so a
  killed worker loses at most one sub-batch of work.
* **Progress** is counted, never kept: ``done / total`` over the shard rows, written to the run's
  ``stage``/``progress`` by each finishing shard with a guard (``progress < new``) so a slower
  writer never moves it back.
* **Errors**: a shard that fails (model missing, disk full) marks the run failed and returns
  normally, so the chord still completes and the engine task finds a failed run and stops.
"""
from __future__ import annotations

import logging
import threading
import uuid
from datetime import timedelta
from pathlib import Path

import pandas as pd
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Concat, Right
from django.utils import timezone

from clustering_engine.errors import EngineError
from clustering_engine.spec import models_for

from ..models import EmbeddingShard, EngineRun, RunStatus
from . import task_names
from .run_config import engine_config

log = logging.getLogger(__name__)
STAGE_PREFIX = "embedding shards"
SUB_BATCH = 512  # items per cache write / heartbeat inside a shard


def shard_size() -> int:
    return int(settings.DIPTYCH_EMBEDDING_SHARD_SIZE)


def should_shard(run: EngineRun) -> bool:
    """Shard when sharding is on and the data set needs more than one shard."""
    size = shard_size()
    return size > 0 and run.dataset.n_pairs_valid > size


def plan_dir(run: EngineRun) -> Path:
    return Path(f"{run.output_dir.rstrip('/')}.shards")


def shard_counts(run_id: int) -> tuple[int, int]:
    """(shards done, shards planned) for a run, counted from the shard rows."""
    shards = EmbeddingShard.objects.filter(run_id=run_id)
    return shards.filter(status=EmbeddingShard.Status.DONE).count(), shards.count()


# ----------------------------------------------------------------- dispatch and plan

def dispatch(run_id: int) -> str:
    """Send the planning task; the engine task id is fixed now so the chord's body can claim
    the run. Returns the engine task id (stored on the run)."""
    engine_task_id = str(uuid.uuid4())
    EngineRun.objects.filter(pk=run_id).update(celery_task_id=engine_task_id)
    task_names.task(task_names.PLAN_EMBEDDING, run_id, engine_task_id).apply_async()
    return engine_task_id


def _append_log(run_id: int, message: str, *, only_running: bool = False, **fields) -> None:
    runs = EngineRun.objects.filter(pk=run_id)
    if only_running:
        runs = runs.filter(status=RunStatus.RUNNING)
    runs.update(log=Right(Concat(F("log"), Value(message.rstrip() + "\n")), 200_000), **fields)


def _fail(run_id: int, message: str) -> None:
    """Fail a running run (once: a run already finished is left as it is)."""
    _append_log(run_id, f"error: {message}", only_running=True, status=RunStatus.FAILED,
                error_message=message, finished_at=timezone.now())


def plan_and_dispatch(run_id: int, engine_task_id: str) -> str:
    """Claim a queued run, plan its shards, and launch chord(shards) -> run_engine."""
    from celery import chord

    claimed = EngineRun.objects.filter(pk=run_id, status=RunStatus.QUEUED, cancel_requested=False,
                                       celery_task_id=engine_task_id).update(
        status=RunStatus.RUNNING, started_at=timezone.now(), stage=f"{STAGE_PREFIX}: planning",
        progress=0.0)
    run = EngineRun.objects.select_related("dataset").filter(pk=run_id).first()
    if run is None:
        return "missing"
    if not claimed:
        # This task again (acks_late) after its worker died before the chord was sent.
        redelivered = (run.status == RunStatus.RUNNING and run.celery_task_id == engine_task_id
                       and run.stage == f"{STAGE_PREFIX}: planning" and not run.cancel_requested)
        if not redelivered:
            if run.status == RunStatus.QUEUED and run.cancel_requested:
                EngineRun.objects.filter(pk=run_id).update(status=RunStatus.CANCELLED,
                                                           stage="cancelled",
                                                           finished_at=timezone.now())
            return run.status
    try:
        shards = plan_shards(run)
    except EngineError as exc:
        _fail(run_id, f"planning the embedding shards failed: {exc}")
        return RunStatus.FAILED
    except Exception as exc:  # noqa: BLE001 - the run must end in a visible state
        log.exception("planning shards of run %s failed", run_id)
        _fail(run_id, f"planning the embedding shards failed ({type(exc).__name__}: {exc})")
        return RunStatus.FAILED
    pending = [s.index for s in shards if s.status != EmbeddingShard.Status.DONE]
    _append_log(run_id, f"[{timezone.now():%H:%M:%S}] embedding in {len(shards)} shards of "
                        f"{shard_size()} pairs ({len(shards) - len(pending)} already done) on "
                        f"queue {settings.DIPTYCH_EMBEDDING_QUEUE}")
    body = task_names.task(task_names.RUN_ENGINE, run_id).set(task_id=engine_task_id)
    if pending:
        header = [task_names.task(task_names.EMBED_SHARD, run_id, i).set(
            queue=settings.DIPTYCH_EMBEDDING_QUEUE) for i in pending]
        chord(header)(body)
    else:
        body.apply_async()
    update_progress(run_id)  # leaves the "planning" stage: a redelivery will not plan again
    return "dispatched"


def plan_shards(run: EngineRun) -> list[EmbeddingShard]:
    """Write one item file per shard and create the shard rows (idempotent)."""
    from clustering_engine.data import load_pairs

    size = shard_size()
    table = load_pairs(run.dataset.table_path, run.dataset.images_root, check_images="none",
                       hash_images=True, workers=None)
    pairs = table.pairs
    first_text = ~pairs["text_sha256"].duplicated().to_numpy()
    first_image = ~pairs["image_sha256"].duplicated().to_numpy()
    folder = plan_dir(run)
    folder.mkdir(parents=True, exist_ok=True)
    specs = []
    for index, start in enumerate(range(0, len(pairs), size)):
        stop = min(start + size, len(pairs))
        block = pairs.iloc[start:stop]
        texts = block[first_text[start:stop]]
        images = block[first_image[start:stop]]
        items = pd.DataFrame({
            "kind": ["text"] * len(texts) + ["image"] * len(images),
            "hash": list(texts["text_sha256"]) + list(images["image_sha256"]),
            "value": list(texts["text"].fillna("").astype(str)) + list(images["image_path"])})
        tmp = folder / f".shard-{index:05d}.{uuid.uuid4().hex}.parquet"
        items.to_parquet(tmp, index=False)
        tmp.replace(folder / f"shard-{index:05d}.parquet")
        specs.append(dict(index=index, start=start, stop=stop, n_texts=len(texts),
                          n_images=len(images)))
    with transaction.atomic():
        existing = {s.index: s for s in EmbeddingShard.objects.select_for_update().filter(run=run)}
        if any(i not in existing or (existing[i].start, existing[i].stop) != (s["start"], s["stop"])
               for i, s in enumerate(specs)) or len(existing) != len(specs):
            # The shard size or the table changed: plan afresh (the cache keeps what was done).
            EmbeddingShard.objects.filter(run=run).delete()
            EmbeddingShard.objects.bulk_create([EmbeddingShard(run=run, **s) for s in specs])
    return list(EmbeddingShard.objects.filter(run=run).order_by("index"))


# ----------------------------------------------------------------- one shard

_embedders: dict[tuple[str, str], object] = {}
_embedders_lock = threading.Lock()


def _embedder(spec: str):
    """Embedders are loaded once per worker process (weights stay in memory / on the GPU)."""
    from clustering_engine.embedders import get_embedder

    key = (spec, settings.DIPTYCH_EMBEDDING_DEVICE)
    with _embedders_lock:
        if key not in _embedders:
            _embedders[key] = get_embedder(spec, device=settings.DIPTYCH_EMBEDDING_DEVICE)
        return _embedders[key]


class ShardBusy(Exception):
    """Another live worker holds the shard; the task retries later."""


class _Stopped(Exception):
    """The run was cancelled or ended while the shard was embedding."""


def _claim(run_id: int, index: int, worker: str) -> EmbeddingShard | None:
    now = timezone.now()
    stale = now - timedelta(seconds=settings.DIPTYCH_EMBEDDING_LEASE_S)
    claimable = Q(status=EmbeddingShard.Status.PENDING) | Q(
        status=EmbeddingShard.Status.RUNNING, heartbeat_at__lt=stale)
    if not EmbeddingShard.objects.filter(claimable, run_id=run_id, index=index).update(
            status=EmbeddingShard.Status.RUNNING, worker=worker[:255], heartbeat_at=now,
            attempts=F("attempts") + 1):
        return None
    return EmbeddingShard.objects.get(run_id=run_id, index=index)


def _run_active(run_id: int) -> bool:
    return EngineRun.objects.filter(pk=run_id, status=RunStatus.RUNNING,
                                    cancel_requested=False).exists()


def embed_shard(run_id: int, index: int, worker: str = "") -> str:
    """Embed one shard into the cache. Returns "done", "already done" or "skipped"; raises
    ShardBusy when a live worker holds it."""
    if not _run_active(run_id):
        return "skipped"
    worker = worker or "worker"
    shard = _claim(run_id, index, worker)
    if shard is None:
        current = EmbeddingShard.objects.filter(run_id=run_id, index=index).first()
        if current is None or current.status == EmbeddingShard.Status.DONE:
            return "already done"
        raise ShardBusy(f"shard {index} of run {run_id} is held by {current.worker}")
    run = EngineRun.objects.select_related("dataset").get(pk=run_id)

    def heartbeat():
        EmbeddingShard.objects.filter(pk=shard.pk, worker=worker[:255]).update(
            heartbeat_at=timezone.now())
        if not _run_active(run_id):
            raise _Stopped()

    try:
        embedded, failed = _embed_items(run, shard, heartbeat)
    except _Stopped:
        EmbeddingShard.objects.filter(pk=shard.pk, status=EmbeddingShard.Status.RUNNING).update(
            status=EmbeddingShard.Status.PENDING, heartbeat_at=None)
        return "skipped"
    except Exception as exc:  # noqa: BLE001 - a failed shard fails the run, visibly
        log.exception("shard %s of run %s failed", index, run_id)
        EmbeddingShard.objects.filter(pk=shard.pk, status=EmbeddingShard.Status.RUNNING).update(
            status=EmbeddingShard.Status.PENDING, heartbeat_at=None)
        detail = str(exc) if isinstance(exc, EngineError) else f"{type(exc).__name__}: {exc}"
        _fail(run_id, f"embedding shard {index} failed on {worker}: {detail}")
        return "failed"
    EmbeddingShard.objects.filter(pk=shard.pk).update(
        status=EmbeddingShard.Status.DONE, finished_at=timezone.now(), n_embedded=embedded,
        n_failed=failed, heartbeat_at=timezone.now())
    update_progress(run_id)
    return "done"


def _embed_items(run: EngineRun, shard: EmbeddingShard, heartbeat) -> tuple[int, int]:
    """Embed the shard's items with every model of the run; (vectors written, images failed)."""
    from clustering_engine.cache import EmbeddingCache, model_key
    from clustering_engine.embed import embed_images, embed_texts

    config = engine_config(run.config)
    items = pd.read_parquet(plan_dir(run) / f"shard-{shard.index:05d}.parquet")
    texts = items[items["kind"] == "text"]
    images = items[items["kind"] == "image"]
    cache = EmbeddingCache(settings.DIPTYCH_EMBEDDING_CACHE)
    embedded = failed = 0
    for spec, what in models_for(config):   # the models the run's embed stage will use
        embedder = _embedder(spec)
        if what in ("text", "both"):
            key = model_key(embedder, "text")
            for start in range(0, len(texts), SUB_BATCH):
                part = texts.iloc[start:start + SUB_BATCH]
                embedded += int((~cache.contains(key, part["hash"].tolist())).sum())
                embed_texts(embedder, part["value"].tolist(), cache=cache,
                            batch_size=config.text_batch_size, progress=False)
                heartbeat()
        if what in ("image", "both"):
            key = model_key(embedder, "image")
            for start in range(0, len(images), SUB_BATCH):
                part = images.iloc[start:start + SUB_BATCH]
                hashes = part["hash"].tolist()
                todo = int((~cache.contains(key, hashes)).sum())
                _, bad = embed_images(embedder, part["value"].tolist(), cache=cache,
                                      batch_size=config.image_batch_size,
                                      workers=settings.DIPTYCH_ENGINE_WORKERS, progress=False,
                                      content_hashes=hashes)
                embedded += todo - len(bad)
                failed += len(bad)
                heartbeat()
    return embedded, failed


def update_progress(run_id: int) -> None:
    """Write "embedding shards done/total" to the run; never moves progress back."""
    done, total = shard_counts(run_id)
    fraction = done / total if total else 0.0
    EngineRun.objects.filter(pk=run_id, status=RunStatus.RUNNING,
                             stage__startswith=STAGE_PREFIX).filter(
        Q(progress__lt=fraction) | Q(stage=f"{STAGE_PREFIX}: planning")).update(
        stage=f"{STAGE_PREFIX} {done}/{total}"[:60], progress=fraction)
