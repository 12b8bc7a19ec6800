"""Scoring models: the PI's chosen solutions and background export jobs.

Scores themselves are not stored: they are computed from the codes on demand
(services.consistency / services.reliability), so they can never drift from the codes or the
codebook's merges.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models

from projects.models import Project, Solution


class SolutionChoice(models.Model):
    """The PI marks a solution as the one the paper goes with (several may be marked)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="solution_choices")
    solution = models.ForeignKey(Solution, on_delete=models.CASCADE, related_name="+")
    note = models.TextField(blank=True)
    chosen_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                  related_name="+")
    chosen_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-chosen_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["project", "solution"],
                                               name="one_choice_per_solution")]

    def __str__(self):
        return f"{self.solution} chosen"


class ExportJob(models.Model):
    """A paper-ready export bundle (zip) built by a Celery task."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Ready"
        FAILED = "failed", "Failed"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="export_jobs")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    stage = models.CharField(max_length=60, blank=True)
    file_path = models.CharField(max_length=1000, blank=True, help_text="the zip, when ready")
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"export {self.pk} of {self.project}"

    @property
    def is_ready(self) -> bool:
        return self.status == self.Status.SUCCEEDED and bool(self.file_path)
