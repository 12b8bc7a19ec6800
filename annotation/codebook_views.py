"""The PI's codebook page: one row per theme name of a pass with its use, merges (in this pass or
in all passes) and their undo, merges suggested from the other passes, rename, delete when
unused, and the history of all of it. Themes are named in forms by their public id."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from projects.api_input import page_id

from .forms import MergeForm
from .models import PASS_ORDER, Theme, ThemeMerge
from .services import access
from .services.codebook import (CodebookError, codebook, delete_unused, history, merge_themes,
                                rename_theme, unmerge)
from .services.codebook_passes import merge_in_all_passes, merge_suggestions, same_name_elsewhere

PASS_VALUES = [p.value for p in PASS_ORDER]


def _back(pk, modality):
    return redirect(f"{reverse('annotation:codebook', args=[pk])}?modality={modality}")


def _modality(request) -> str:
    modality = request.GET.get("modality") or request.POST.get("modality") or "text"
    if modality not in PASS_VALUES:
        raise Http404("not found")
    return modality


def _page(request, project, modality, form=None, errors=(), status=200):
    form = form or MergeForm(project=project, modality=modality)
    rows = codebook(project, modality)
    elsewhere = same_name_elsewhere(project, modality)
    for row in rows:
        row["elsewhere"] = elsewhere.get(row["name"].lower(), [])
    return render(request, "annotation/codebook.html", {
        "project": project, "modality": modality, "themes": rows, "form": form,
        "errors": errors, "history": history(project, modality),
        "suggestions": merge_suggestions(project, modality),
        "modalities": [(p.value, p.label) for p in PASS_ORDER]}, status=status)


@login_required
def codebook_page(request, pk):
    project = access.managed_project_or_404(request.user, pk)
    modality = _modality(request)
    form = MergeForm(request.POST or None, project=project, modality=modality)
    if request.method == "POST" and form.is_valid():
        source, target = form.cleaned_data["source"], form.cleaned_data["target"]
        try:
            if request.POST.get("all_passes") == "1":
                made = merge_in_all_passes(source, target, request.user, form.cleaned_data["note"])
                passes = ", ".join(m.source.modality for m in made)
                messages.success(request, f"“{source}” merged into “{target}” in {len(made)} "
                                          f"pass(es): {passes}.")
            else:
                merge_themes(source, target, request.user, form.cleaned_data["note"])
                messages.success(request, f"“{source}” merged into “{target}”.")
            return _back(pk, modality)
        except CodebookError as exc:
            form.add_error(None, str(exc))
    status = 400 if request.method == "POST" else 200
    return _page(request, project, modality, form, status=status)


def _theme(project, request) -> Theme | None:
    return Theme.objects.filter(project=project, public_id=str(request.POST.get("theme", ""))
                                ).first()


def _refused(request, project, field: str, message: str):
    """The codebook page again, answering 400 with the error naming its field."""
    return _page(request, project, _modality(request), errors=[f"{field}: {message}"],
                 status=400)


@login_required
@require_POST
def theme_rename(request, pk):
    """The PI fixes a theme name's spelling (codes follow: the ids are unchanged)."""
    project = access.managed_project_or_404(request.user, pk)
    theme = _theme(project, request)
    if theme is None:
        return _refused(request, project, "theme", "no such theme in this codebook")
    try:
        rename = rename_theme(theme, request.POST.get("name", ""), request.user)
    except CodebookError as exc:
        return _refused(request, project, "name", str(exc))
    messages.success(request, f"“{rename.old_name}” renamed “{rename.new_name}”.")
    return _back(pk, theme.modality)


@login_required
@require_POST
def theme_delete(request, pk):
    project = access.managed_project_or_404(request.user, pk)
    theme = _theme(project, request)
    if theme is None:
        return _refused(request, project, "theme", "no such theme in this codebook")
    try:
        delete_unused(theme)
    except CodebookError as exc:
        return _refused(request, project, "theme", str(exc))
    messages.success(request, f"“{theme.name}” deleted.")
    return _back(pk, theme.modality)


@login_required
@require_POST
def theme_unmerge(request, pk):
    """Undo a merge: every theme it moved scores as before."""
    project = access.managed_project_or_404(request.user, pk)
    merge = ThemeMerge.objects.filter(source__project=project,
                                      pk=page_id(request.POST.get("merge"))).first()
    if merge is None:
        return _refused(request, project, "merge", "no such merge in this codebook")
    try:
        unmerge(merge, request.user)
    except CodebookError as exc:
        return _refused(request, project, "merge", str(exc))
    messages.success(request, f"Merge of “{merge.source.name}” into “{merge.target.name}” "
                              "undone.")
    return _back(pk, merge.source.modality)
