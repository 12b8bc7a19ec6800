import shutil
from pathlib import Path

from django.conf import settings
from django.db import models, transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from .dataset import Dataset
from .project import Project


RUNS_FOLDER = "runs"   # run outputs live in MEDIA_ROOT/runs/run-<id> (services.storage)


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class EngineRun(models.Model):
    """One engine run over a data set; its outputs live in ``output_dir`` (the engine's format)."""

    FINISHED = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED)

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="runs")
    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="runs")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+")
    config = models.JSONField(default=dict, help_text="run options (see services.run_config)")
    seed = models.IntegerField(default=0)
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    stage = models.CharField(max_length=60, blank=True)
    progress = models.FloatField(default=0.0)
    log = models.TextField(blank=True)
    error_message = models.TextField(blank=True)
    cancel_requested = models.BooleanField(default=False)
    output_dir = models.CharField(max_length=1000, blank=True)
    manifest = models.JSONField(default=dict, blank=True,
                                help_text="manifest.json without the per-solution list")
    celery_task_id = models.CharField(max_length=255, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["project", "status"])]

    def __str__(self):
        return f"run {self.pk} on {self.dataset}"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def can_resume(self) -> bool:
        return self.status in (RunStatus.FAILED, RunStatus.CANCELLED)

    @property
    def can_cancel(self) -> bool:
        return self.status in (RunStatus.QUEUED, RunStatus.RUNNING) and not self.cancel_requested


@receiver(post_delete, sender=EngineRun)
def _remove_output_folder(sender, instance, **kwargs):
    """A deleted run (admin, cascade from its project) takes its output folder with it; a worker
    still running it stops at its next progress report and removes what it wrote since."""
    transaction.on_commit(lambda: remove_output_folder(instance.output_dir))


def remove_output_folder(output_dir: str) -> None:
    """Delete a run's output folder: only ever one Diptych made under MEDIA_ROOT/runs."""
    if not output_dir:
        return
    folder = Path(output_dir).resolve()
    if (Path(settings.MEDIA_ROOT) / RUNS_FOLDER).resolve() in folder.parents and folder.is_dir():
        shutil.rmtree(folder, ignore_errors=True)
