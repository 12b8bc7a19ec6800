"""The PI's codebook page: themes of one pass with their use, merges (in this pass or in all
passes), merges suggested from the other passes, rename, and delete when unused."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from .forms import MergeForm
from .models import PASS_ORDER, Theme, ThemeMerge
from .services import access
from .services.codebook import CodebookError, codebook, merge_themes
from .services.codebook_passes import (delete_unused, merge_in_all_passes, merge_suggestions,
                                       same_name_elsewhere)

PASS_VALUES = [p.value for p in PASS_ORDER]


def _back(pk, modality):
    return redirect(f"{reverse('annotation:codebook', args=[pk])}?modality={modality}")


def _theme_or_404(project, request):
    theme = Theme.objects.filter(project=project, pk=request.POST.get("theme")).first()
    if theme is None:
        raise Http404("not found")
    return theme


@login_required
def codebook_page(request, pk):
    project = access.managed_project_or_404(request.user, pk)
    modality = request.GET.get("modality") or request.POST.get("modality") or "text"
    if modality not in PASS_VALUES:
        raise Http404("not found")
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
    themes = list(codebook(project, modality))
    elsewhere = same_name_elsewhere(project, modality)
    for theme in themes:
        theme.elsewhere = elsewhere.get(theme.name.lower(), [])
    merges = ThemeMerge.objects.filter(source__project=project, source__modality=modality
                                       ).select_related("source", "target", "merged_by")
    return render(request, "annotation/codebook.html", {
        "project": project, "modality": modality, "themes": themes, "merges": merges,
        "form": form, "suggestions": merge_suggestions(project, modality),
        "modalities": [(p.value, p.label) for p in PASS_ORDER]})


@login_required
@require_POST
def theme_rename(request, pk):
    """The PI fixes a theme's spelling (codes follow: the id is unchanged)."""
    project = access.managed_project_or_404(request.user, pk)
    theme = _theme_or_404(project, request)
    name = " ".join(request.POST.get("name", "").split())
    limit = Theme._meta.get_field("name").max_length
    if not name or len(name) > limit:
        messages.error(request, f"A theme name has 1 to {limit} characters.")
    elif Theme.objects.filter(project=project, modality=theme.modality, name__iexact=name
                              ).exclude(pk=theme.pk).exists():
        messages.error(request, f"Another {theme.modality} theme is called “{name}”: merge them "
                                "instead.")
    else:
        old, theme.name = theme.name, name
        theme.save(update_fields=["name"])
        messages.success(request, f"“{old}” renamed “{name}”.")
    return _back(pk, theme.modality)


@login_required
@require_POST
def theme_delete(request, pk):
    project = access.managed_project_or_404(request.user, pk)
    theme = _theme_or_404(project, request)
    try:
        delete_unused(theme)
        messages.success(request, f"“{theme.name}” deleted.")
    except CodebookError as exc:
        messages.error(request, str(exc))
    return _back(pk, theme.modality)
