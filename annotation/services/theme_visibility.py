"""Which themes a coder is offered (autocomplete, digit keys) and may label with.

The rule (annotation/README.md, "Themes a coder sees"): a coder always sees their own themes
under their own spelling — never the name the PI merged them into. In a round with independent
coding a coder is offered only their own themes, whatever the PI does (opening adjudication,
merging, computing α). In a round without independent coding a coder is also offered the themes
the round's coders used in that round (never another round's) and the PI's codebook themes
(no owner). Nothing here reads merges: what the PI reconciles changes scores, not what coders see.
"""
from __future__ import annotations

from django.db.models import Max, Q

from ..models import ClusterCode, PostCode, Theme
from .coding import get_or_create_theme


def visible_themes(validation_round, coder, modality: str):
    """The themes of a pass this coder may be offered in this round."""
    themes = Theme.objects.filter(project_id=validation_round.project_id, modality=modality)
    mine = Q(owner=coder)
    if validation_round.independent_coding:
        return themes.filter(mine)
    used = Q(pk__in=PostCode.objects.filter(cluster_sample__round=validation_round,
                                            pass_name=modality).values("theme_id")) | \
        Q(pk__in=ClusterCode.objects.filter(cluster_sample__round=validation_round,
                                            pass_name=modality).values("theme_id"))
    return themes.filter(mine | Q(owner__isnull=True) | used)


def _preference(theme, coder) -> int:
    """Of themes with the same name, offer the coder's own, then the PI's, then another's."""
    return 0 if theme.owner_id == coder.pk else 1 if theme.owner_id is None else 2


def search_themes(validation_round, coder, modality: str, query: str,
                  limit: int = 12) -> list[Theme]:
    """Autocomplete: visible themes starting with the query, then containing it; one per name."""
    themes = visible_themes(validation_round, coder, modality)
    query = " ".join((query or "").split())
    if query:
        candidates = (list(themes.filter(name__istartswith=query).order_by("name")[:limit * 4])
                      + list(themes.filter(name__icontains=query).exclude(
                          name__istartswith=query).order_by("name")[:limit * 4]))
    else:
        candidates = list(themes.order_by("name")[:limit * 4])
    best: dict[str, Theme] = {}
    for theme in candidates:
        key = theme.name.lower()
        if key not in best or _preference(theme, coder) < _preference(best[key], coder):
            best[key] = theme
    seen, out = set(), []
    for theme in candidates:   # keep the query's order (prefix matches first)
        key = theme.name.lower()
        if key not in seen:
            seen.add(key)
            out.append(best[key])
    return out[:limit]


def recent_themes(project, coder, modality: str, limit: int = 9) -> list[Theme]:
    """The themes the coder labelled with most recently in a pass (for the digit keys), as the
    coder named them."""
    latest: dict[int, object] = {}
    for model in (PostCode, ClusterCode):
        for theme_id, at in (model.objects.filter(coder=coder, pass_name=modality,
                                                  theme__project=project)
                             .values("theme").annotate(at=Max("updated_at"))
                             .values_list("theme", "at")):
            if theme_id not in latest or at > latest[theme_id]:
                latest[theme_id] = at
    ids = sorted(latest, key=lambda t: latest[t], reverse=True)[:limit]
    themes = Theme.objects.in_bulk(ids)
    return [themes[pk] for pk in ids]


def theme_for_label(validation_round, coder, modality: str, public_id: str) -> Theme | None:
    """The theme a coder's label by id resolves to: their own or a PI codebook theme as it is;
    another coder's theme offered in a shared round becomes the coder's own theme of that name
    (so every coder labels with their own rows). None when the id is not one they may see."""
    theme = visible_themes(validation_round, coder, modality).filter(
        public_id=public_id).first()
    if theme is None or theme.owner_id in (None, coder.pk):
        return theme
    return get_or_create_theme(validation_round.project, modality, theme.name, coder)
