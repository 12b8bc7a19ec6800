from django.conf import settings
from django.db import models

from .project import Project


class Dataset(models.Model):
    """A pairs table and its images root, validated by the engine at import.

    The counts come from the validation report and never change afterwards (a data set is
    immutable once imported), so they cannot drift.
    """

    class Status(models.TextChoices):
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    class Source(models.TextChoices):
        UPLOAD = "upload", "Uploaded table + zip"
        SERVER_FOLDER = "folder", "Folder on the server"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="datasets")
    name = models.CharField(max_length=200)
    source = models.CharField(max_length=10, choices=Source.choices)
    table_path = models.CharField(max_length=1000, help_text="absolute path of the pairs table")
    images_root = models.CharField(max_length=1000, help_text="absolute folder image paths resolve in")
    storage_dir = models.CharField(max_length=1000, blank=True,
                                   help_text="folder owned by Diptych (uploads); empty for server folders")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.READY)
    validation_report = models.JSONField(default=dict, blank=True)
    n_rows_read = models.PositiveIntegerField(default=0)
    n_pairs_valid = models.PositiveIntegerField(default=0)
    n_rejected = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    stored_bytes = models.BigIntegerField(
        default=0, help_text="bytes Diptych stores for it (uploads; counts towards the quota)")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.name
