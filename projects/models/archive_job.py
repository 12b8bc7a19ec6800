from django.conf import settings
from django.db import models

from .project import Project


class ArchiveJob(models.Model):
    """A project archive (projects.archive) built in the background for the PI to download."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Ready"
        FAILED = "failed", "Failed"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="archive_jobs")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+")
    with_images = models.BooleanField(default=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    file_path = models.CharField(max_length=1000, blank=True, help_text="the zip, when ready")
    size_bytes = models.BigIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"archive {self.pk} of {self.project}"

    @property
    def is_ready(self) -> bool:
        return self.status == self.Status.SUCCEEDED and bool(self.file_path)
