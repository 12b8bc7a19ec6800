"""The codebook across passes: each pass (text, image, joint) has its own themes, but a PI who
merges two spellings in one pass usually means it in all of them.

* ``merge_in_all_passes``: the same merge, by name, in every pass where both names exist.
* ``merge_suggestions``: merges made in another pass that could be made in this one.
* ``same_name_elsewhere``: for each theme, the other passes that have a theme of that name.
"""
from __future__ import annotations

from collections import defaultdict

from django.db import transaction
from django.db.models.functions import Lower

from ..models import PASS_ORDER, Theme, ThemeMerge
from .codebook import merge_themes

PASS_VALUES = [p.value for p in PASS_ORDER]


def _by_name(project, modality: str, name: str) -> Theme | None:
    return Theme.objects.select_related("merged_into").filter(
        project=project, modality=modality, name__iexact=name).first()


@transaction.atomic
def merge_in_all_passes(source: Theme, target: Theme, user=None, note: str = ""
                        ) -> list[ThemeMerge]:
    """Merge ``source`` into ``target`` in their pass, then the themes of the same names in the
    other passes (where both exist and are not one already). Returns the merges made."""
    made = [merge_themes(source, target, user, note)]
    for modality in PASS_VALUES:
        if modality == source.modality:
            continue
        other_source = _by_name(source.project, modality, source.name)
        other_target = _by_name(source.project, modality, target.name)
        if other_source is None or other_target is None or other_source.merged_into_id or \
                other_source.pk == other_target.effective.pk:
            continue
        made.append(merge_themes(other_source, other_target.effective, user, note))
    return made


def merge_suggestions(project, modality: str) -> list[dict]:
    """Merges done in other passes whose two names are both still separate themes here."""
    here = {t.name.lower(): t for t in Theme.objects.select_related("merged_into").filter(
        project=project, modality=modality)}
    out, seen = [], set()
    done = ThemeMerge.objects.filter(source__project=project, undone_at__isnull=True)
    for merge in done.exclude(source__modality=modality).select_related("source", "target"):
        source, target = here.get(merge.source.name.lower()), here.get(merge.target.name.lower())
        if source is None or target is None or source.merged_into_id or \
                source.pk == target.effective.pk or (source.pk, target.pk) in seen:
            continue
        seen.add((source.pk, target.pk))
        out.append({"source": source, "target": target.effective, "from_pass": merge.source.modality})
    return out


def same_name_elsewhere(project, modality: str) -> dict[str, list[str]]:
    """lower-cased theme name -> the other passes with a theme of that name (pass order)."""
    passes = defaultdict(set)
    for name, other in Theme.objects.filter(project=project).exclude(modality=modality
                                                                     ).values_list(Lower("name"), "modality"):
        passes[name].add(other)
    return {name: [p for p in PASS_VALUES if p in found] for name, found in passes.items()}
