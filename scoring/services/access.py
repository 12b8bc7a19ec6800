"""Who reaches scoring: the PI and viewers read scores and the comparison; only the PI marks
choices and builds or downloads exports. Everyone else — coders included, to keep coding blind —
gets 404, as if the pages did not exist (projects.services.access)."""
from __future__ import annotations

from django.http import Http404

from projects.models import Role
from projects.services import access as project_access

from ..models import ExportJob


def readable_project_or_404(user, pk: int):
    return project_access.get_visible_or_404(
        project_access.visible_projects(user).filter(
            pk__in=project_access.member_project_ids(user, project_access.READ_INTERNALS)),
        pk=pk)


def managed_project_or_404(user, pk: int):
    project = readable_project_or_404(user, pk)
    project_access.require_manager(user, project)
    return project


def export_job_or_404(user, pk: int) -> ExportJob:
    job = ExportJob.objects.filter(
        pk=pk, project__in=project_access.member_project_ids(user, (Role.PI,))
    ).select_related("project").first()
    if job is None:
        raise Http404("not found")
    return job
