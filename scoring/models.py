"""Scoring models: the PI's chosen solutions, background export jobs, and stored scores.

Scores are computed from the codes (services.consistency / services.reliability) by a
background job and stored as a snapshot under the project's score version; database triggers
(migration 0002) bump that version in the same transaction as every write that changes a score
(codes, themes and merges, rounds, adjudications, intrusion answers), bulk writes included, so a
snapshot is known to be current exactly when its version is the project's (services.snapshots).
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

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


class ScoreVersion(models.Model):
    """A project's score version: bumped by database triggers on every write a score reads.

    No foreign-key constraint: a trigger fired while a project is being deleted may write the
    row again after Django's cascade removed it, and must not fail the deletion."""

    project = models.OneToOneField(Project, primary_key=True, on_delete=models.CASCADE,
                                   db_constraint=False, related_name="+")
    version = models.BigIntegerField(default=0)
    changed_at = models.DateTimeField(null=True, blank=True)
    # the version a recomputation was last sent for, and when (one job per version at a time)
    recompute_requested = models.BigIntegerField(null=True, blank=True)
    recompute_requested_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"scores of project {self.project_id} at version {self.version}"


class ScoreSnapshot(models.Model):
    """Every score table of a project as computed from the codes at ``version``."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="score_snapshots")
    version = models.BigIntegerField()
    computed_at = models.DateTimeField(default=timezone.now)
    seconds = models.FloatField(help_text="time the computation took")
    n_post_codes = models.PositiveIntegerField(default=0)
    n_intrusion_answers = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-version", "-id"]
        get_latest_by = "version"

    def __str__(self):
        return f"scores of project {self.project_id} at version {self.version}"


class ScoreTable(models.Model):
    """One table of a snapshot (pages load only the tables they show): Parquet, or for a name
    ending in ``.json`` the JSON document an API sends as it is."""

    snapshot = models.ForeignKey(ScoreSnapshot, on_delete=models.CASCADE, related_name="tables")
    name = models.CharField(max_length=40)
    data = models.BinaryField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["snapshot", "name"],
                                               name="one_table_per_snapshot_name")]
