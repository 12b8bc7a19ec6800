"""The PI's codebook: theme names, merges (reversible), renames, and the scoring key.

Each coder owns their themes (``Theme.owner``); themes of the same name in a pass — whoever typed
them — are one *category*, and the PI's codebook works on categories: a merge, rename or delete
acts on every theme of that name. Merges are flattened (``Theme.merged_into`` is always the final
theme, one hop) and record what they moved, so ``unmerge`` restores it exactly. Codes keep their
raw theme, which is what the coder sees; scores use ``effective_theme_map`` (the one home of the
scoring key). What coders are offered: services.theme_visibility.
"""
from __future__ import annotations

import unicodedata

from collections import defaultdict

from django.db import transaction
from django.db.models import Count, ProtectedError
from django.db.models.functions import Lower
from django.utils import timezone

from ..models import ClusterCode, PostCode, Theme, ThemeMerge, ThemeRename


class CodebookError(Exception):
    pass


THEME_NAME_MAX = 200
# Bidirectional controls (embeddings, overrides, isolates, marks) reorder what a PI or coder
# reads: a name could display as another theme's name.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
                          "\u200e\u200f\u061c")


def clean_theme_name(name) -> str:
    """The one check of a theme name wherever one enters (coding, adjudication, rename):
    whitespace collapsed; refused when empty, too long, or holding bidi or other control
    characters."""
    name = " ".join(str(name or "").split())
    if not name:
        raise CodebookError("a theme needs a name")
    if len(name) > THEME_NAME_MAX:
        raise CodebookError(f"theme names are at most {THEME_NAME_MAX} characters")
    if any(ch in BIDI_CONTROLS or unicodedata.category(ch) == "Cc" for ch in name):
        raise CodebookError("theme names cannot hold control or text-direction characters")
    return name


def namesakes(theme: Theme):
    """The themes of ``theme``'s category: the same name (any case) in its project and pass."""
    return Theme.objects.filter(project_id=theme.project_id, modality=theme.modality,
                                name__iexact=theme.name)


def effective_theme_map(project) -> dict[int, int]:
    """theme id -> the id of the category it scores as, for every theme of a project.

    A theme scores as the theme it was merged into (else itself); themes that then have the same
    (pass, lower-cased name) are one category, named by its lowest id. So two coders who both
    type "Shark" agree, although each has their own theme row."""
    rows = list(Theme.objects.filter(project=project).values_list(
        "pk", "merged_into", "modality", Lower("name")))
    category = {pk: (modality, name) for pk, _, modality, name in rows}
    effective = {pk: merged or pk for pk, merged, _, _ in rows}
    canonical: dict[tuple, int] = {}
    for pk in sorted(set(effective.values())):
        canonical.setdefault(category[pk], pk)
    return {pk: canonical[category[final]] for pk, final in effective.items()}


def category_heads(project, modality: str):
    """One theme per category not merged away (the lowest id): what the PI's forms offer."""
    heads = {}
    for pk, name in (Theme.objects.active().filter(project=project, modality=modality)
                     .order_by("pk").values_list("pk", Lower("name"))):
        heads.setdefault(name, pk)
    return Theme.objects.filter(pk__in=heads.values()).order_by(Lower("name"))


def codebook(project, modality: str) -> list[dict]:
    """One row per category of a pass: its themes, how many coders typed it, its own codes and
    the codes it scores (its own plus those of the categories merged into it), its merge."""
    themes = list(Theme.objects.filter(project=project, modality=modality)
                  .select_related("merged_into").order_by("pk"))
    # one grouped query per code table (joining both at once would multiply their rows)
    uses = {model: dict(model.objects.filter(theme__project=project, pass_name=modality)
                        .order_by().values("theme").annotate(n=Count("pk"))
                        .values_list("theme", "n"))
            for model in (PostCode, ClusterCode)}
    for theme in themes:
        theme.n_posts = uses[PostCode].get(theme.pk, 0)
        theme.n_clusters = uses[ClusterCode].get(theme.pk, 0)
    scoring = effective_theme_map(project)
    names = {t.pk: t.name.lower() for t in themes}
    rows: dict[str, dict] = {}
    scored = defaultdict(lambda: [0, 0])
    for theme in themes:
        row = rows.setdefault(theme.name.lower(), {
            "theme": theme, "name": theme.name, "coders": set(), "has_codebook_theme": False,
            "n_posts": 0, "n_clusters": 0, "merged_into": None, "n_themes": 0})
        row["n_themes"] += 1
        if theme.owner_id is None:
            row["has_codebook_theme"] = True
        else:
            row["coders"].add(theme.owner_id)
        row["n_posts"] += theme.n_posts
        row["n_clusters"] += theme.n_clusters
        if theme.merged_into is not None:
            row["merged_into"] = theme.merged_into.name
        counts = scored[names[scoring[theme.pk]]]
        counts[0] += theme.n_posts
        counts[1] += theme.n_clusters
    for key, row in rows.items():
        row["n_coders"] = len(row.pop("coders"))
        row["scored_posts"], row["scored_clusters"] = scored[key]
    return sorted(rows.values(), key=lambda r: (r["merged_into"] is not None, r["name"].lower()))


@transaction.atomic
def merge_themes(source: Theme, target: Theme, user=None, note: str = "") -> ThemeMerge:
    """Merge ``source``'s category into ``target``'s: every theme of the source's name, and
    every theme already merged into one of them, then scores as the target."""
    source = Theme.objects.select_for_update().order_by("pk").get(pk=source.pk)
    target = Theme.objects.select_related("merged_into").get(pk=target.pk).effective
    if source.project_id != target.project_id or source.modality != target.modality:
        raise CodebookError("only themes of the same project and modality can be merged")
    if source.name.lower() == target.name.lower():
        raise CodebookError("these themes are already one")
    target = category_heads(target.project_id, target.modality).get(name__iexact=target.name)
    sources = list(namesakes(source).select_for_update(of=("self",)).order_by("pk")
                   .select_related("merged_into"))
    open_sources = [t for t in sources if t.merged_into_id is None]
    if not open_sources:
        final = sources[0].merged_into
        if final.name.lower() == target.name.lower():
            raise CodebookError("these themes are already one")
        raise CodebookError(f"“{source.name}” is already merged into “{final.name}”")
    moved = open_sources + list(Theme.objects.select_for_update().order_by("pk").filter(
        merged_into__in=[t.pk for t in open_sources]))
    repointed = [[t.pk, t.merged_into_id] for t in moved]
    Theme.objects.filter(pk__in=[t.pk for t in moved]).update(merged_into=target)
    return ThemeMerge.objects.create(source=open_sources[0], target=target, note=note,
                                     repointed=repointed, merged_by=user)


@transaction.atomic
def unmerge(merge: ThemeMerge, user=None) -> ThemeMerge:
    """Undo a merge: every theme it moved points where it pointed before; themes of the
    source's name made after the merge (which joined it) are unmerged too."""
    merge = ThemeMerge.objects.select_for_update(of=("self",)).select_related("source").get(
        pk=merge.pk)
    if merge.undone_at is not None:
        raise CodebookError("this merge is already undone")
    if not merge.repointed:
        raise CodebookError("this merge was made before merges were recorded: merge again instead")
    before = {pk: previous for pk, previous in merge.repointed}
    moved = list(Theme.objects.select_for_update().order_by("pk").filter(pk__in=before))
    later = [t for t in moved if t.merged_into_id != merge.target_id]
    if later:
        raise CodebookError(f"“{later[0].name}” was merged again after this merge: undo that "
                            "merge first")
    for theme in moved:
        theme.merged_into_id = before[theme.pk]
    Theme.objects.bulk_update(moved, ["merged_into"])
    namesakes(merge.source).filter(merged_into_id=merge.target_id).exclude(
        pk__in=before).update(merged_into=None)
    merge.undone_at, merge.undone_by = timezone.now(), user
    merge.save(update_fields=["undone_at", "undone_by"])
    return merge


@transaction.atomic
def rename_theme(theme: Theme, new_name: str, user=None) -> ThemeRename:
    """The PI fixes a category's spelling: every theme of that name is renamed (codes follow,
    ids are unchanged). Refused when another category has the new name (merge instead)."""
    name = clean_theme_name(new_name)
    rows = list(namesakes(theme).select_for_update().order_by("pk"))
    if name == theme.name:
        raise CodebookError(f"“{name}” is already its name")
    if name.lower() != theme.name.lower() and Theme.objects.filter(
            project_id=theme.project_id, modality=theme.modality, name__iexact=name).exists():
        raise CodebookError(f"another {theme.modality} theme is called “{name}”: merge them "
                            "instead")
    Theme.objects.filter(pk__in=[t.pk for t in rows]).update(name=name)
    return ThemeRename.objects.create(theme=theme, old_name=theme.name, new_name=name,
                                      renamed_by=user)


def delete_unused(theme: Theme) -> None:
    """Delete a category nothing refers to (no code, history, decision or merge)."""
    try:
        with transaction.atomic():
            for row in namesakes(theme):
                row.delete()
    except ProtectedError:
        raise CodebookError(f"“{theme.name}” is in use (codes, decisions or merges): merge it "
                            "instead") from None


def history(project, modality: str) -> list[dict]:
    """The codebook's story in a pass, newest first: merges, unmerges and renames (who, when)."""
    events = []
    for merge in ThemeMerge.objects.filter(source__project=project, source__modality=modality
                                           ).select_related("source", "target", "merged_by",
                                                            "undone_by"):
        events.append({"kind": "merge", "at": merge.merged_at, "by": merge.merged_by,
                       "merge": merge, "what": f"“{merge.source.name}” → “{merge.target.name}”",
                       "note": merge.note})
        if merge.undone_at:
            events.append({"kind": "unmerge", "at": merge.undone_at, "by": merge.undone_by,
                           "merge": merge, "what": f"“{merge.source.name}” → “{merge.target.name}”",
                           "note": ""})
    for rename in ThemeRename.objects.filter(theme__project=project, theme__modality=modality
                                             ).select_related("renamed_by"):
        events.append({"kind": "rename", "at": rename.renamed_at, "by": rename.renamed_by,
                       "what": f"“{rename.old_name}” → “{rename.new_name}”", "note": ""})
    return sorted(events, key=lambda e: e["at"], reverse=True)
