from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from .project import Project


class DataRootGrant(models.Model):
    """An administrator lets the PIs of one project import folders under one configured data
    root (``DIPTYCH_ALLOWED_DATA_ROOTS``) in place. Without a grant only staff may import server
    folders: a root is never open to every user."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="data_root_grants")
    root = models.CharField(max_length=1000, help_text="one of DIPTYCH_ALLOWED_DATA_ROOTS")
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    granted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "root"],
                                               name="one_grant_per_project_and_root")]

    def __str__(self):
        return f"{self.project} · {self.root}"

    def clean(self):
        configured = {str(r) for r in settings.DIPTYCH_ALLOWED_DATA_ROOTS}
        if self.root not in configured:
            raise ValidationError({"root": "not a configured data root; configured: "
                                           + (", ".join(sorted(configured)) or "none")})
