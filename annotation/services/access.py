"""Who reaches what in the annotation app (built on projects.services.access).

Coders reach only the cluster samples assigned to them, by public id; anything else — another
coder's cluster, a round of a project they left, a PI page — answers 404, never 403, so nothing
hints at its existence. PIs manage the rounds of their projects.
"""
from __future__ import annotations

from django.http import Http404

from projects.models import Role
from projects.services import access as project_access

from ..models import Assignment, ClusterSample, SampledPost, ValidationRound
from .assignment import CODING_ROLES


def _coding_project_ids(user):
    return project_access.member_project_ids(user, CODING_ROLES)


def my_assignments(user):
    """The user's assignments in projects where they still code."""
    if not user.is_authenticated:
        return Assignment.objects.none()
    return Assignment.objects.filter(coder=user, round__project__in=_coding_project_ids(user))


def assigned_sample_or_404(user, public_id: str) -> ClusterSample:
    sample = (ClusterSample.objects.select_related("round__project", "round__dataset")
              .filter(public_id=public_id,
                      pk__in=my_assignments(user).values("cluster_sample_id")).first())
    if sample is None:
        raise Http404("not found")
    return sample


def assigned_post_or_404(user, public_id: str) -> SampledPost:
    post = (SampledPost.objects.select_related("cluster_sample__round__project")
            .filter(public_id=public_id,
                    cluster_sample__in=my_assignments(user).values("cluster_sample_id")).first())
    if post is None:
        raise Http404("not found")
    return post


def coder_round_or_404(user, pk: int) -> ValidationRound:
    validation_round = ValidationRound.objects.filter(
        pk=pk, pk__in=my_assignments(user).values("round_id")).select_related("project").first()
    if validation_round is None:
        raise Http404("not found")
    return validation_round


def codes_only(user) -> bool:
    """A user whose only part in Diptych is coding: a coder somewhere, PI or viewer nowhere, and
    not allowed to create projects. Their home is their rounds, not the projects page."""
    if not user.is_authenticated or project_access.can_create_projects(user):
        return False
    return set(user.memberships.values_list("role", flat=True)) == {Role.CODER}


def managed_project_or_404(user, pk: int):
    project = project_access.get_visible_or_404(project_access.visible_projects(user), pk=pk)
    project_access.require_manager(user, project)
    return project


def managed_round_or_404(user, pk: int) -> ValidationRound:
    validation_round = ValidationRound.objects.filter(
        pk=pk, project__in=project_access.member_project_ids(user, (Role.PI,))
    ).select_related("project", "dataset").first()
    if validation_round is None:
        raise Http404("not found")
    return validation_round
