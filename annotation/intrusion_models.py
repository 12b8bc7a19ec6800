"""Intrusion tests (Chang et al. 2009; the oolong package's design): the coder picks the odd one
out of k items of one cluster plus one intruder from another cluster.

Imported at the end of ``annotation.models`` so Django registers the models with the app; it
refers to ``ValidationRound`` by name, so it never imports ``annotation.models`` (no cycle).

Blinding: a coder meets ``IntrusionTask.public_id`` and ``IntrusionItem.public_id`` only (random
tokens from the same alphabet as the cluster tokens); which item is the intruder, the solution,
the cluster labels and the pair ids never leave the server. Items are stored in their shown
(shuffled) order; ``position`` starts at 1, as the keys the coder presses.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models

from projects.models import Solution

from .tokens import new_token


def task_token() -> str:
    return new_token("Q")


def item_token() -> str:
    return new_token("R")


class IntrusionKind(models.TextChoices):
    """What the items are: top c-TF-IDF terms, or posts shown in one of the three passes."""
    TERM = "term", "Term intrusion"
    TEXT = "text", "Post intrusion, text only"
    IMAGE = "image", "Post intrusion, image only"
    JOINT = "joint", "Post intrusion, text and image"


INTRUSION_KINDS = [k.value for k in IntrusionKind]
POST_KINDS = [IntrusionKind.TEXT.value, IntrusionKind.IMAGE.value, IntrusionKind.JOINT.value]
DEFAULT_ITEMS_PER_TASK = 5   # k items of the cluster; the task shows k + 1


class IntrusionPlan(models.Model):
    """The intrusion part of a round: which kinds, k, and the generation report."""

    round = models.OneToOneField("annotation.ValidationRound", on_delete=models.CASCADE,
                                 related_name="intrusion_plan")
    kinds = models.JSONField(default=list, help_text="subset of term, text, image, joint")
    items_per_task = models.PositiveIntegerField(default=DEFAULT_ITEMS_PER_TASK,
                                                 help_text="k items of the cluster (+1 intruder)")
    has_consistency = models.BooleanField(default=True,
                                          help_text="the round also holds consistency coding")
    report = models.JSONField(default=dict, blank=True,
                              help_text="per solution and kind: tasks made, clusters skipped, why")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"intrusion plan of round {self.round_id}"


class IntrusionTask(models.Model):
    """One task: k items of ``cluster_label`` plus one of ``intruder_label`` (same solution)."""

    round = models.ForeignKey("annotation.ValidationRound", on_delete=models.CASCADE,
                              related_name="intrusion_tasks")
    solution = models.ForeignKey(Solution, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=8, choices=IntrusionKind.choices)
    cluster_label = models.IntegerField()
    intruder_label = models.IntegerField()
    intruder_position = models.PositiveIntegerField(help_text="1-based position of the intruder")
    n_items = models.PositiveIntegerField(help_text="k + 1")
    nearest_label = models.IntegerField(null=True, blank=True,
                                        help_text="the nearest cluster by centroid, excluded")
    space = models.CharField(max_length=30, blank=True,
                             help_text="space of the centroid distances ('' = none available)")
    public_id = models.CharField(max_length=16, unique=True, default=task_token, editable=False)
    order = models.PositiveIntegerField()
    is_calibration = models.BooleanField(default=False)

    class Meta:
        ordering = ["round", "order"]
        constraints = [
            models.UniqueConstraint(fields=["round", "solution", "kind", "cluster_label"],
                                    name="one_intrusion_task_per_cluster_and_kind"),
            models.UniqueConstraint(fields=["round", "order"], name="unique_intrusion_order"),
        ]

    def __str__(self):
        return self.public_id


class IntrusionItem(models.Model):
    """One shown item: a term, or a post (text, image, language copied once)."""

    task = models.ForeignKey(IntrusionTask, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveIntegerField(help_text="1 .. k + 1, as shown")
    public_id = models.CharField(max_length=16, unique=True, default=item_token, editable=False)
    is_intruder = models.BooleanField(default=False)
    term = models.CharField(max_length=200, blank=True)
    pair_id = models.CharField(max_length=200, blank=True)
    post_id = models.CharField(max_length=200, blank=True)
    text = models.TextField(blank=True)
    image = models.CharField(max_length=1000, blank=True)
    lang = models.CharField(max_length=16, blank=True)

    class Meta:
        ordering = ["task", "position"]
        constraints = [models.UniqueConstraint(fields=["task", "position"],
                                               name="unique_intrusion_item_position")]


class IntrusionAssignment(models.Model):
    task = models.ForeignKey(IntrusionTask, on_delete=models.CASCADE, related_name="assignments")
    coder = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name="intrusion_assignments")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["task__order", "coder_id"]
        constraints = [models.UniqueConstraint(fields=["task", "coder"],
                                               name="one_intrusion_assignment_per_coder")]


class IntrusionAnswer(models.Model):
    """A coder's pick (``choice`` = shown position) or "unsure" (no choice); edits bump
    ``version``. ``lead_time_s``: seconds from the task being shown to this answer's save, as
    the browser measured it."""

    task = models.ForeignKey(IntrusionTask, on_delete=models.CASCADE, related_name="answers")
    coder = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    choice = models.PositiveIntegerField(null=True, blank=True)
    unsure = models.BooleanField(default=False)
    lead_time_s = models.FloatField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["task__order", "coder_id"]
        constraints = [
            models.UniqueConstraint(fields=["task", "coder"], name="one_intrusion_answer_per_coder"),
            models.CheckConstraint(condition=(models.Q(choice__isnull=False, unsure=False)
                                              | models.Q(choice__isnull=True, unsure=True)),
                                   name="intrusion_answer_pick_or_unsure"),
        ]


class IntrusionAnswerHistory(models.Model):
    """Every attempted write of an answer: created / changed / refused (stale version)."""

    answer = models.ForeignKey(IntrusionAnswer, on_delete=models.CASCADE, related_name="history")
    choice = models.PositiveIntegerField(null=True, blank=True)
    unsure = models.BooleanField(default=False)
    lead_time_s = models.FloatField(null=True, blank=True)
    version = models.PositiveIntegerField()
    base_version = models.PositiveIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=10)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+")
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["changed_at", "id"]
