from django.conf import settings
from django.db import models

from .dataset import Dataset
from .project import Project


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
