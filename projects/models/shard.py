from django.db import models

from .run import EngineRun


class EmbeddingShard(models.Model):
    """One chunk of a run's pairs embedded by one Celery task (services/sharded_embedding.py).

    A row per (run, index) — a unique constraint, so a redelivered or duplicated planning never
    adds a shard twice. The run's shard progress is counted from these rows (done / total),
    never kept in a counter. ``heartbeat_at`` is refreshed while a worker embeds the shard: a
    delivery may take over a running shard only once the heartbeat is older than the lease
    (its worker died), so two live workers never embed one shard at once.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        DONE = "done", "Done"

    run = models.ForeignKey(EngineRun, on_delete=models.CASCADE, related_name="embedding_shards")
    index = models.PositiveIntegerField()
    start = models.PositiveIntegerField(help_text="first pair (row of the validated pairs)")
    stop = models.PositiveIntegerField(help_text="one past the last pair")
    n_texts = models.PositiveIntegerField(default=0, help_text="distinct texts this shard owns")
    n_images = models.PositiveIntegerField(default=0, help_text="distinct images this shard owns")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    worker = models.CharField(max_length=255, blank=True)
    n_embedded = models.PositiveIntegerField(default=0,
                                             help_text="vectors newly written to the cache")
    n_failed = models.PositiveIntegerField(default=0, help_text="images that could not be embedded")
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "index"]
        constraints = [models.UniqueConstraint(fields=["run", "index"],
                                               name="one_embedding_shard_per_run_and_index")]
        indexes = [models.Index(fields=["run", "status"])]

    def __str__(self):
        return f"run {self.run_id} shard {self.index} ({self.status})"
