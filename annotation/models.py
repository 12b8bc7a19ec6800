"""Human validation (paper §3.4.3, appendix E): rounds, sampling plans, assignments, codebook, codes.

Blinding: a coder only ever meets ``ClusterSample.public_id``, ``SampledPost.public_id`` and
``Theme.public_id`` (random tokens from an alphabet without K, L, O, I, U — no method, K, algorithm, solution or
cluster id can be spelled by chance). Rows are created in the interleaved (shuffled) order, so
even primary keys do not group the clusters of one solution.

Scoring reads ``PostCode`` (one row per sampled post × coder × pass, theme FK) and
``ClusterCode`` (one row per cluster sample × coder × pass, the common theme); a code scores as
``services.codebook.effective_theme_map`` says (merges, then same-named themes as one category).
"""
from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

from projects.models import Dataset, Project, Solution

from .passes import PASS_ORDER, Pass  # noqa: F401  (PASS_ORDER: re-exported for callers)

from .tokens import TOKEN_ALPHABET, new_token  # noqa: F401  (TOKEN_ALPHABET re-exported)


def new_sampling_secret() -> str:
    """256 random bits (hex) mixed into a round's sampling seed (services.sampling)."""
    return secrets.token_hex(32)


def cluster_token() -> str:
    return new_token("C")


def post_token() -> str:
    return new_token("P")



class ValidationRound(models.Model):
    class Overlap(models.TextChoices):
        CALIBRATION = "calibration", "Calibration set coded by every coder, the rest split"
        FULL = "full", "Every coder codes every cluster"

    class Status(models.TextChoices):
        OPEN = "open", "Open (coders code)"
        CLOSED = "closed", "Closed (read-only)"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="validation_rounds")
    name = models.CharField(max_length=200, help_text="shown to the PI only")
    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="+",
                                help_text="the data set the solutions' runs clustered (images)")
    solutions = models.ManyToManyField(Solution, related_name="validation_rounds")
    posts_per_cluster = models.PositiveIntegerField(default=10)
    seed = models.IntegerField(default=0)
    sampling_secret = models.CharField(
        max_length=64, blank=True, default=new_sampling_secret, editable=False,
        help_text="server-side secret mixed into the seed; for the PI only ('' = made before)")
    calibration_clusters = models.PositiveIntegerField(default=10)
    overlap = models.CharField(max_length=12, choices=Overlap.choices,
                               default=Overlap.CALIBRATION)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    independent_coding = models.BooleanField(
        default=True, help_text="each coder is offered only their own themes, all round long")
    adjudication_open = models.BooleanField(
        default=False, help_text="opened by the PI to decide disagreements; coders see no change")
    plan_report = models.JSONField(default=dict, blank=True,
                                   help_text="per solution: clusters, noise excluded, small clusters")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.name

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class ClusterSample(models.Model):
    """One sampled cluster of one solution, under an opaque id; ``order`` = interleaved order."""

    round = models.ForeignKey(ValidationRound, on_delete=models.CASCADE, related_name="samples")
    solution = models.ForeignKey(Solution, on_delete=models.PROTECT, related_name="+")
    cluster_label = models.IntegerField()
    cluster_size = models.PositiveIntegerField(help_text="pairs in the cluster (all, not sampled)")
    public_id = models.CharField(max_length=16, unique=True, default=cluster_token, editable=False)
    order = models.PositiveIntegerField()
    is_calibration = models.BooleanField(default=False)
    name = models.CharField(max_length=200, blank=True,
                            help_text="the cluster's name, chosen by the PI from the coded themes")

    class Meta:
        ordering = ["round", "order"]
        constraints = [
            models.UniqueConstraint(fields=["round", "solution", "cluster_label"],
                                    name="one_sample_per_cluster_and_round"),
            models.UniqueConstraint(fields=["round", "order"], name="unique_sample_order"),
        ]

    def __str__(self):
        return self.public_id


class SampledPost(models.Model):
    """One sampled pair; text, image and language are copied once so pages never read parquet."""

    cluster_sample = models.ForeignKey(ClusterSample, on_delete=models.CASCADE, related_name="posts")
    public_id = models.CharField(max_length=16, unique=True, default=post_token, editable=False)
    pair_id = models.CharField(max_length=200)
    post_id = models.CharField(max_length=200)
    position = models.PositiveIntegerField()
    text = models.TextField(blank=True)
    image = models.CharField(max_length=1000, blank=True,
                             help_text="path as written in the table (relative to images root)")
    lang = models.CharField(max_length=16, blank=True)

    class Meta:
        ordering = ["cluster_sample", "position"]
        constraints = [
            models.UniqueConstraint(fields=["cluster_sample", "position"], name="unique_post_position"),
            models.UniqueConstraint(fields=["cluster_sample", "pair_id"], name="unique_pair_in_sample"),
        ]

    def __str__(self):
        return self.public_id


class Assignment(models.Model):
    round = models.ForeignKey(ValidationRound, on_delete=models.CASCADE, related_name="assignments")
    coder = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name="coding_assignments")
    cluster_sample = models.ForeignKey(ClusterSample, on_delete=models.CASCADE,
                                       related_name="assignments")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["round", "cluster_sample__order", "coder_id"]
        constraints = [models.UniqueConstraint(fields=["coder", "cluster_sample"],
                                               name="one_assignment_per_coder_and_sample")]

    def __str__(self):
        return f"{self.coder} · {self.cluster_sample}"


class ThemeQuerySet(models.QuerySet):
    def active(self):
        """Themes not merged into another (what the PI's merge form offers)."""
        return self.filter(merged_into__isnull=True)


def theme_token() -> str:
    return new_token("T")


class Theme(models.Model):
    """A codebook entry of a project for one modality (= pass), owned by the coder who named it.

    ``owner`` empty = a PI codebook theme (made on the codebook or adjudication page). Two coders
    who type the same name get two rows, so a theme id never tells a coder what another typed;
    scores count themes of the same name as one category (services.codebook.effective_theme_map).
    Coders meet only ``public_id`` (random ``T…`` token), never the sequential key.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="themes")
    modality = models.CharField(max_length=8, choices=Pass.choices)
    name = models.CharField(max_length=200)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.CASCADE, related_name="+",
                              help_text="the coder whose theme this is; empty = PI codebook theme")
    public_id = models.CharField(max_length=16, unique=True, default=theme_token, editable=False)
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="merged_from",
                                    help_text="always the final theme (merges are flattened)")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ThemeQuerySet.as_manager()

    class Meta:
        ordering = ["project", "modality", Lower("name")]
        constraints = [
            models.UniqueConstraint(Lower("name"), "project", "modality", "owner",
                                    condition=models.Q(owner__isnull=False),
                                    name="unique_theme_name_per_owner"),
            models.UniqueConstraint(Lower("name"), "project", "modality",
                                    condition=models.Q(owner__isnull=True),
                                    name="unique_codebook_theme_name"),
        ]

    def __str__(self):
        return self.name

    @property
    def effective(self) -> "Theme":
        """The theme this one was merged into, else itself (scores also join same-named
        themes: services.codebook.effective_theme_map)."""
        return self.merged_into or self


class ThemeMerge(models.Model):
    """Audit trail of codebook merges; ``repointed`` makes a merge reversible (unmerge)."""

    source = models.ForeignKey(Theme, on_delete=models.PROTECT, related_name="merges_out")
    target = models.ForeignKey(Theme, on_delete=models.PROTECT, related_name="merges_in")
    note = models.TextField(blank=True)
    repointed = models.JSONField(
        default=list, blank=True,
        help_text="[theme id, merged_into id before the merge] of every theme the merge moved")
    merged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                  related_name="+")
    merged_at = models.DateTimeField(auto_now_add=True)
    undone_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-merged_at", "-id"]


class ThemeRename(models.Model):
    """Audit trail of the PI's renames (a rename is undone by renaming back)."""

    theme = models.ForeignKey(Theme, on_delete=models.CASCADE, related_name="renames")
    old_name = models.CharField(max_length=200)
    new_name = models.CharField(max_length=200)
    renamed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+")
    renamed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-renamed_at", "-id"]


class PostCode(models.Model):
    """A coder's theme for one sampled post in one pass (one row, edits bump ``version``)."""

    sampled_post = models.ForeignKey(SampledPost, on_delete=models.CASCADE, related_name="codes")
    cluster_sample = models.ForeignKey(ClusterSample, on_delete=models.CASCADE,
                                       related_name="post_codes")
    coder = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    pass_name = models.CharField("pass", max_length=8, choices=Pass.choices)
    theme = models.ForeignKey(Theme, on_delete=models.PROTECT, related_name="post_codes")
    lead_time_s = models.FloatField(
        null=True, blank=True,
        help_text="seconds from the item being selected to this label, as the browser measured")
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["cluster_sample", "sampled_post__position", "coder_id", "pass_name"]
        constraints = [models.UniqueConstraint(fields=["sampled_post", "coder", "pass_name"],
                                               name="one_code_per_post_coder_pass")]
        indexes = [models.Index(fields=["cluster_sample", "coder", "pass_name"])]


class ClusterCode(models.Model):
    """A coder's common theme for a cluster sample in one pass."""

    cluster_sample = models.ForeignKey(ClusterSample, on_delete=models.CASCADE,
                                       related_name="cluster_codes")
    coder = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    pass_name = models.CharField("pass", max_length=8, choices=Pass.choices)
    theme = models.ForeignKey(Theme, on_delete=models.PROTECT, related_name="cluster_codes")
    lead_time_s = models.FloatField(
        null=True, blank=True,
        help_text="seconds from the item being selected to this label, as the browser measured")
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["cluster_sample", "coder_id", "pass_name"]
        constraints = [models.UniqueConstraint(fields=["cluster_sample", "coder", "pass_name"],
                                               name="one_common_theme_per_sample_coder_pass")]


class CodeHistory(models.Model):
    """Every attempted change of a post code or a common theme, accepted or refused (conflict).

    Exactly one of ``post_code`` / ``cluster_code`` is set. A refused write (stale client
    version) is kept here too, so no label a coder ever typed is lost.
    """

    class Outcome(models.TextChoices):
        CREATED = "created", "Created"
        CHANGED = "changed", "Changed"
        CONFLICT = "conflict", "Refused: stale version"

    post_code = models.ForeignKey(PostCode, null=True, blank=True, on_delete=models.CASCADE,
                                  related_name="history")
    cluster_code = models.ForeignKey(ClusterCode, null=True, blank=True, on_delete=models.CASCADE,
                                     related_name="history")
    theme = models.ForeignKey(Theme, on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField(help_text="version after the change (or current, if refused)")
    base_version = models.PositiveIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+")
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["changed_at", "id"]
        constraints = [models.CheckConstraint(
            condition=(models.Q(post_code__isnull=False, cluster_code__isnull=True)
                       | models.Q(post_code__isnull=True, cluster_code__isnull=False)),
            name="history_of_exactly_one_code")]



class Adjudication(models.Model):
    """The PI's decision on a disagreement: the cluster's common theme (``sampled_post`` empty)
    or one post's theme, for one pass."""

    cluster_sample = models.ForeignKey(ClusterSample, on_delete=models.CASCADE,
                                       related_name="adjudications")
    sampled_post = models.ForeignKey(SampledPost, null=True, blank=True, on_delete=models.CASCADE,
                                     related_name="adjudications")
    pass_name = models.CharField("pass", max_length=8, choices=Pass.choices)
    theme = models.ForeignKey(Theme, on_delete=models.PROTECT, related_name="adjudications")
    note = models.TextField(blank=True)
    # Nullable (no default): decisions made before it was kept have none, and on SQLite a
    # nullable column is added in place, keeping the table's score-version triggers.
    options_shown = models.JSONField(
        null=True, blank=True,
        help_text="the row's options when decided: [{coder, theme}] in the page's coder order")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+")
    decided_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["cluster_sample__order", "pass_name"]
        constraints = [
            models.UniqueConstraint(fields=["cluster_sample", "pass_name"],
                                    condition=models.Q(sampled_post__isnull=True),
                                    name="one_cluster_decision_per_pass"),
            models.UniqueConstraint(fields=["cluster_sample", "pass_name", "sampled_post"],
                                    condition=models.Q(sampled_post__isnull=False),
                                    name="one_post_decision_per_pass"),
        ]


class AdjudicationHistory(models.Model):
    """Every change of a decision: made, revised (another theme or note) or undone. Kept when
    the decision itself is undone (deleted), so a row's whole story stays readable."""

    class Action(models.TextChoices):
        CREATED = "created", "Decided"
        REVISED = "revised", "Revised"
        UNDONE = "undone", "Undone"

    cluster_sample = models.ForeignKey(ClusterSample, on_delete=models.CASCADE,
                                       related_name="adjudication_history")
    sampled_post = models.ForeignKey(SampledPost, null=True, blank=True, on_delete=models.CASCADE,
                                     related_name="adjudication_history")
    pass_name = models.CharField("pass", max_length=8, choices=Pass.choices)
    action = models.CharField(max_length=8, choices=Action.choices)
    # The theme as text too: the history stays readable whatever later happens to the theme.
    theme = models.ForeignKey(Theme, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    theme_name = models.CharField(max_length=200, help_text="decided (or undone) theme")
    note = models.TextField(blank=True)
    options_shown = models.JSONField(default=list, blank=True)
    acted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                 related_name="+")
    acted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["acted_at", "id"]
        indexes = [models.Index(fields=["cluster_sample", "pass_name"],
                                name="adj_history_sample_pass")]


# Intrusion tests live in their own module; imported here so Django registers them.
from .intrusion_models import (IntrusionAnswer, IntrusionAnswerHistory,  # noqa: E402,F401
                               IntrusionAssignment, IntrusionItem, IntrusionKind, IntrusionPlan,
                               IntrusionTask)
from .keymap_models import CoderKeymap  # noqa: E402,F401  (per-user coding keys)
