"""Sharded embedding without workers: the plan gives every distinct item to one shard, claims
respect the lease, finished shards are skipped, progress is counted, failures and cancels end
the run visibly. (The real two-worker kill test is test_sharded_embedding.py.)"""
import csv
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from clustering_engine.errors import ModelUnavailableError
from projects.models import Dataset, EmbeddingShard, EngineRun, RunStatus
from projects.services import sharded_embedding as se
from projects.services.run_config import normalise_options
from projects.services.runs import execute_run

from . import fake_embedder
from tests.fixtures.platform import DATA

N = 60


@pytest.fixture
def sharded_run(project, tmp_path, settings, monkeypatch):
    if not (DATA / "pairs.csv").exists():
        pytest.skip(f"the MediaEval data is not at {DATA}")
    fake_embedder.register(monkeypatch)
    monkeypatch.setattr(fake_embedder, "DELAY_S", 0.0)
    settings.DIPTYCH_EMBEDDING_SHARD_SIZE = 8
    settings.DIPTYCH_EMBEDDING_CACHE = tmp_path / "cache"
    settings.DIPTYCH_MODEL_CHOICES = {"text": ["test-slow"], "image": ["test-slow"],
                                      "joint": ["rcca"]}
    se._embedders.clear()
    with open(DATA / "pairs.csv", encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        rows = [row for _, row in zip(range(N), reader)]
    table = tmp_path / "pairs.csv"
    with open(table, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=reader.fieldnames)
        writer.writeheader()
        writer.writerows(rows)
    dataset = Dataset.objects.create(project=project, name="d", source="folder",
                                     table_path=str(table), images_root=str(DATA),
                                     n_rows_read=N, n_pairs_valid=N)
    options = normalise_options({"text_model": "test-slow", "image_model": "test-slow",
                                 "methods": ["label", "vector"], "ks": [4],
                                 "reduction": "pca", "n_components": 4})
    run = EngineRun.objects.create(project=project, dataset=dataset, config=options,
                                   status=RunStatus.RUNNING, stage=f"{se.STAGE_PREFIX}: planning",
                                   output_dir=str(tmp_path / "media" / "runs" / "run-x"),
                                   celery_task_id="engine-task")
    yield run, rows
    se._embedders.clear()


@pytest.mark.django_db
def test_plan_gives_every_item_to_exactly_one_shard(sharded_run, settings):
    run, rows = sharded_run
    assert se.should_shard(run)
    shards = se.plan_shards(run)
    assert [s.index for s in shards] == list(range(8)) and shards[-1].stop == N
    assert sum(s.n_texts for s in shards) == len({r["text"] for r in rows})
    images = sum(s.n_images for s in shards)
    assert 0 < images <= len({r["image"] for r in rows})
    EmbeddingShard.objects.filter(run=run, index=0).update(status="done")
    assert [s.status for s in se.plan_shards(run)][:2] == ["done", "pending"], "idempotent"
    settings.DIPTYCH_EMBEDDING_SHARD_SIZE = 20
    assert [s.status for s in se.plan_shards(run)] == ["pending"] * 3, "re-planned on a new size"


@pytest.mark.django_db
def test_shards_fill_the_cache_once_and_count_progress(sharded_run, settings):
    run, _ = sharded_run
    shards = se.plan_shards(run)
    se.update_progress(run.pk)
    assert EngineRun.objects.get(pk=run.pk).stage == f"{se.STAGE_PREFIX} 0/8"
    for shard in shards:
        assert se.embed_shard(run.pk, shard.index, worker="w1@test") == "done"
        assert se.embed_shard(run.pk, shard.index, worker="w2@test") == "already done"
    run.refresh_from_db()
    assert (run.stage, run.progress) == (f"{se.STAGE_PREFIX} 8/8", 1.0)
    assert se.shard_counts(run.pk) == (8, 8)
    done = list(EmbeddingShard.objects.filter(run=run))
    assert all(s.attempts == 1 and s.worker == "w1@test" for s in done)
    assert sum(s.n_embedded for s in done) == sum(s.n_texts + s.n_images for s in done)
    keys = Counter()
    for path in settings.DIPTYCH_EMBEDDING_CACHE.rglob("shard-*.keys"):
        keys.update(path.read_text().split())
    assert keys and max(keys.values()) == 1
    assert sum(keys.values()) == sum(s.n_texts + s.n_images for s in done)
    # progress never moves back
    EngineRun.objects.filter(pk=run.pk).update(progress=1.0, stage=f"{se.STAGE_PREFIX} 8/8")
    EmbeddingShard.objects.filter(run=run, index=0).update(status="pending")
    se.update_progress(run.pk)
    assert EngineRun.objects.get(pk=run.pk).stage == f"{se.STAGE_PREFIX} 8/8"


@pytest.mark.django_db
def test_a_live_holder_keeps_its_shard_a_dead_one_loses_it(sharded_run, settings):
    run, _ = sharded_run
    se.plan_shards(run)
    EmbeddingShard.objects.filter(run=run, index=0).update(
        status="running", worker="alive@test", heartbeat_at=timezone.now())
    with pytest.raises(se.ShardBusy):
        se.embed_shard(run.pk, 0, worker="other@test")
    EmbeddingShard.objects.filter(run=run, index=0).update(
        heartbeat_at=timezone.now() - timedelta(seconds=settings.DIPTYCH_EMBEDDING_LEASE_S + 1))
    assert se.embed_shard(run.pk, 0, worker="other@test") == "done"
    shard = EmbeddingShard.objects.get(run=run, index=0)
    assert (shard.status, shard.worker, shard.attempts) == ("done", "other@test", 1)


@pytest.mark.django_db
def test_a_failing_shard_fails_the_run(sharded_run, monkeypatch):
    run, _ = sharded_run
    se.plan_shards(run)

    def missing(spec):
        raise ModelUnavailableError("no weights here")

    monkeypatch.setattr(se, "_embedder", missing)
    assert se.embed_shard(run.pk, 1, worker="w@test") == "failed"
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and "no weights here" in run.error_message
    assert EmbeddingShard.objects.get(run=run, index=1).status == "pending"
    assert se.embed_shard(run.pk, 2, worker="w@test") == "skipped"
    assert execute_run(run.pk, task_id="engine-task") == RunStatus.FAILED


@pytest.mark.django_db
def test_cancel_during_shards_cancels_the_run(sharded_run):
    run, _ = sharded_run
    se.plan_shards(run)
    EngineRun.objects.filter(pk=run.pk).update(cancel_requested=True)
    assert se.embed_shard(run.pk, 0, worker="w@test") == "skipped"
    assert EmbeddingShard.objects.get(run=run, index=0).status == "pending"
    assert execute_run(run.pk, task_id="engine-task") == RunStatus.CANCELLED
    assert EngineRun.objects.get(pk=run.pk).status == RunStatus.CANCELLED
