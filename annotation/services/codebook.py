"""Codebook (themes per project and modality), merges with an audit trail and adjudication
decisions (the disagreements to decide are found by services.adjudication).

Merges are flattened: after merging A into B, every theme that pointed at A points at B, so
``Theme.effective`` is one hop. Codes keep their raw theme; scores and disagreement checks use the
effective (merged) theme.
"""
from __future__ import annotations

from django.db import transaction
from django.db.models import Count, Max

from ..models import Adjudication, ClusterCode, PostCode, Theme, ThemeMerge


class CodebookError(Exception):
    pass


def codebook(project, modality: str):
    """Themes of one modality with how often they are used (raw codes, all coders)."""
    return (Theme.objects.filter(project=project, modality=modality)
            .select_related("merged_into")
            .annotate(n_posts=Count("post_codes", distinct=True),
                      n_clusters=Count("cluster_codes", distinct=True))
            .order_by("merged_into_id", "name"))


@transaction.atomic
def merge_themes(source: Theme, target: Theme, user=None, note: str = "") -> ThemeMerge:
    source = Theme.objects.select_for_update().get(pk=source.pk)
    target = Theme.objects.select_for_update().get(pk=target.pk).effective
    if source.project_id != target.project_id or source.modality != target.modality:
        raise CodebookError("only themes of the same project and modality can be merged")
    if source.pk == target.pk or source.merged_into_id == target.pk:
        raise CodebookError("these themes are already one")
    if source.merged_into_id is not None:
        raise CodebookError(f"“{source.name}” is already merged into “{source.merged_into.name}”")
    Theme.objects.filter(merged_into=source).update(merged_into=target)
    source.merged_into = target
    source.save(update_fields=["merged_into"])
    return ThemeMerge.objects.create(source=source, target=target, note=note, merged_by=user)


def effective_theme_map(project) -> dict[int, int]:
    """theme id -> id of the theme it scores as (after merges), for every theme of a project."""
    return {pk: merged or pk for pk, merged in
            Theme.objects.filter(project=project).values_list("pk", "merged_into")}


def recent_themes(project, coder, modality: str, limit: int = 9) -> list[Theme]:
    """The coder's most recently used themes of a modality (for the digit keys)."""
    latest: dict[int, object] = {}
    for model in (PostCode, ClusterCode):
        for theme_id, at in (model.objects.filter(coder=coder, pass_name=modality,
                                                  theme__project=project)
                             .values("theme").annotate(at=Max("updated_at"))
                             .values_list("theme", "at")):
            if theme_id not in latest or at > latest[theme_id]:
                latest[theme_id] = at
    ids = sorted(latest, key=lambda t: latest[t], reverse=True)
    themes = {t.pk: t.effective for t in Theme.objects.filter(pk__in=ids).select_related("merged_into")}
    out, seen = [], set()
    for tid in ids:
        theme = themes[tid]
        if theme.pk not in seen:
            seen.add(theme.pk)
            out.append(theme)
    return out[:limit]


def own_theme_ids(project, coder, modality: str) -> set[int]:
    """Themes a coder typed or coded with (independent coding: all that coder may be offered)."""
    ids = set(Theme.objects.filter(project=project, modality=modality, created_by=coder)
              .values_list("pk", flat=True))
    for model in (PostCode, ClusterCode):
        ids |= set(model.objects.filter(coder=coder, pass_name=modality, theme__project=project)
                   .values_list("theme_id", flat=True))
    return ids


def search_themes(project, modality: str, query: str, limit: int = 12,
                  only_of=None) -> list[Theme]:
    """Autocomplete; ``only_of``: a coder who may see only their own themes (independent
    coding, before the PI opens adjudication)."""
    themes = Theme.objects.active().filter(project=project, modality=modality)
    if only_of is not None:
        themes = themes.filter(pk__in=own_theme_ids(project, only_of, modality))
    query = " ".join((query or "").split())
    if query:
        starts = list(themes.filter(name__istartswith=query).order_by("name")[:limit])
        more = themes.filter(name__icontains=query).exclude(
            pk__in=[t.pk for t in starts]).order_by("name")[:limit - len(starts)]
        return starts + list(more)
    return list(themes.order_by("name")[:limit])


@transaction.atomic
def record_decision(cluster_sample, pass_name: str, theme: Theme, user, note: str = "",
                    sampled_post=None) -> Adjudication:
    if theme.project_id != cluster_sample.round.project_id or theme.modality != pass_name:
        raise CodebookError("that theme belongs to another codebook")
    if sampled_post is not None and sampled_post.cluster_sample_id != cluster_sample.pk:
        raise CodebookError("that post is not in this cluster")
    adj, _ = Adjudication.objects.update_or_create(
        cluster_sample=cluster_sample, pass_name=pass_name, sampled_post=sampled_post,
        defaults={"theme": theme.effective, "note": note, "decided_by": user})
    return adj

