from django.conf import settings
from django.db import models


class Role(models.TextChoices):
    PI = "pi", "PI (owner)"
    CODER = "coder", "Coder"
    VIEWER = "viewer", "Viewer"


class Project(models.Model):
    """A research project; who sees what is decided in services/access.py by Membership."""

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    # Coders see the project only under this name (the real name and description can name
    # the data set, which a coder holding the public data could use to rerun the engine).
    name_for_coders = models.CharField(
        max_length=200, blank=True,
        help_text='the name coders see; empty: "Study <number>"')
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.name

    @property
    def coder_facing_name(self) -> str:
        return self.name_for_coders or f"Study {self.pk}"


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="memberships")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "project"],
                                               name="one_membership_per_user_and_project")]

    def __str__(self):
        return f"{self.user} · {self.project} · {self.role}"
