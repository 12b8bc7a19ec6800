"""Who may see and do what in a project.

Roles: the PI owns the project (imports, runs, members); a viewer reads everything; a coder
reaches only the coding work (the annotation app) and the images of posts assigned to them (by
opaque id), never engine internals (runs, solutions, clusters, method or K). Objects of
projects a user is not a member of behave as absent: every lookup goes through ``visible_*``
querysets, so the answer is 404, not 403.
"""
from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.http import Http404

from ..models import ClusterSummary, Dataset, EngineRun, Membership, Project, Role, Solution

READ_INTERNALS = (Role.PI, Role.VIEWER)   # datasets, runs, solutions, clusters, figures
MANAGE = (Role.PI,)                       # import, start/cancel/resume runs, members


def member_project_ids(user, roles=None):
    if not user.is_authenticated:
        return Membership.objects.none().values("project_id")
    memberships = Membership.objects.filter(user=user)
    if roles is not None:
        memberships = memberships.filter(role__in=roles)
    return memberships.values("project_id")


def visible_projects(user):
    return Project.objects.filter(pk__in=member_project_ids(user))


def visible_datasets(user):
    return Dataset.objects.filter(project__in=member_project_ids(user, READ_INTERNALS))


def visible_runs(user):
    return EngineRun.objects.filter(project__in=member_project_ids(user, READ_INTERNALS))


def visible_solutions(user):
    return Solution.objects.filter(run__project__in=member_project_ids(user, READ_INTERNALS))


def visible_clusters(user):
    return ClusterSummary.objects.filter(
        solution__run__project__in=member_project_ids(user, READ_INTERNALS))


def role_in(user, project) -> str | None:
    if not user.is_authenticated:
        return None
    return Membership.objects.filter(user=user, project=project).values_list(
        "role", flat=True).first()


def can_manage(user, project) -> bool:
    return role_in(user, project) in MANAGE


def can_read_internals(user, project) -> bool:
    return role_in(user, project) in READ_INTERNALS


def project_name_for(user, project) -> str:
    """The project's name as this user may see it: a coder gets the name its PIs chose for
    coders (the real one can name the data set: docs/reliability.md, threat model)."""
    return project.name if can_read_internals(user, project) else project.coder_facing_name


def get_visible_or_404(queryset, **lookup):
    obj = queryset.filter(**lookup).first()
    if obj is None:
        raise Http404("not found")
    return obj


def require_manager(user, project) -> None:
    """PI only; others who can see the project get 404 too (no hint that the action exists)."""
    if not can_manage(user, project):
        raise Http404("not found")


def add_member(project: Project, user, role: str) -> Membership:
    membership, _ = Membership.objects.update_or_create(project=project, user=user,
                                                        defaults={"role": role})
    return membership


def can_create_projects(user) -> bool:
    """DIPTYCH_PROJECT_CREATORS: "pi-group" (default: staff and members of the group named
    DIPTYCH_PI_GROUP) or "anyone" (every logged-in user). A project's PIs invite its members."""
    if not user.is_authenticated:
        return False
    if settings.DIPTYCH_PROJECT_CREATORS == "anyone" or user.is_staff:
        return True
    return user.groups.filter(name=settings.DIPTYCH_PI_GROUP).exists()


def server_folder_roots(user, project) -> list[Path]:
    """The configured data roots this user may import folders from into this project: all of
    them for staff; for a PI, those an administrator granted the project; else none."""
    configured = [Path(r).resolve() for r in settings.DIPTYCH_ALLOWED_DATA_ROOTS]
    if user.is_staff:
        return configured
    if not can_manage(user, project):
        return []
    granted = {Path(r).resolve() for r in project.data_root_grants.values_list("root", flat=True)}
    return [r for r in configured if r in granted]


def create_project(owner, name: str, description: str = "", name_for_coders: str = "") -> Project:
    project = Project.objects.create(name=name, description=description, created_by=owner,
                                     name_for_coders=name_for_coders)
    Membership.objects.create(project=project, user=owner, role=Role.PI)
    return project
