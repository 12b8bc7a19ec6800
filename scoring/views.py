"""Scoring pages: the comparison dashboard, its plot, choices, exports. Thin: the work is in
services; access in services.access (coders get 404)."""
import io
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from projects.models import Solution
from projects.services import access as project_access

from .services import access
from .services.choices import ChoiceError, set_choice
from .services.comparison import METRIC_COLUMNS, PASSES, TRUTH_COLUMNS, comparison
from .services.exports import start_export
from .services.figures import plot_cluster_consistency, plot_mean_consistency
from .services.snapshots import COMPARISON_TABLES, stored_scores

PLOT_TYPES = {"png": "image/png", "svg": "image/svg+xml"}
# Table header: sort key -> label, in column order.
SORT_LINKS = [("solution_id", "Solution"), ("method", "Method"), ("algorithm", "Algorithm"),
              ("k", "K"), *METRIC_COLUMNS.items(), *TRUTH_COLUMNS.items(),
              *((f"consistency_{p}", f"Consistency {p}") for p in PASSES),
              *((f"alpha_{p}", f"α {p}") for p in PASSES)]


def _filters(request) -> dict:
    return {key: request.GET.get(key, "") for key in ("method", "algorithm", "sort")}


@login_required
def comparison_page(request, pk):
    project = access.readable_project_or_404(request.user, pk)
    filters = _filters(request)
    stored = stored_scores(project)
    return render(request, "scoring/comparison.html", {
        "project": project, "table": comparison(project, scores=stored.scores, **filters),
        "score_state": stored, "filters": filters,
        "sort_links": SORT_LINKS, "can_manage": project_access.can_manage(request.user, project)})


@login_required
def comparison_plot(request, pk, fmt):
    project = access.readable_project_or_404(request.user, pk)
    if fmt not in PLOT_TYPES:
        raise Http404("no such format")
    scores = stored_scores(project, (*COMPARISON_TABLES, "cluster_means")).scores
    rows = comparison(project, scores=scores, **_filters(request))["rows"]
    if request.GET.get("figure") == "clusters":      # figure E.1: one bar per cluster
        figure = plot_cluster_consistency(scores.cluster_means, rows)
        name = "cluster-consistency"
    else:                                             # figure 9: means with 95% intervals
        figure = plot_mean_consistency(rows)
        name = "consistency"
    buffer = io.BytesIO()
    figure.savefig(buffer, format=fmt, dpi=150, bbox_inches="tight")
    response = HttpResponse(buffer.getvalue(), content_type=PLOT_TYPES[fmt])
    if "download" in request.GET:
        response["Content-Disposition"] = f'attachment; filename="project{project.pk}-{name}.{fmt}"'
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response


@login_required
@require_POST
def choose_solution(request, pk):
    project = access.managed_project_or_404(request.user, pk)
    try:
        chosen = request.POST.get("chosen") == "1"
        solution_pk = int(request.POST.get("solution", 0) or 0)
        set_choice(project, solution_pk, request.user, chosen, request.POST.get("note", ""))
        name = Solution.objects.get(pk=solution_pk).solution_id
        messages.success(request, f"“{name}” is marked as chosen." if chosen
                         else f"“{name}” is no longer marked as chosen.")
    except (ChoiceError, ValueError) as exc:
        messages.error(request, str(exc))
    # Back to the table as it was filtered and sorted (only our own query keys survive).
    query = QueryDict(request.POST.get("query", "")).urlencode()
    target = reverse("scoring:comparison", args=[project.pk])
    return redirect(f"{target}?{query}" if query else target)


@login_required
def exports_page(request, pk):
    project = access.managed_project_or_404(request.user, pk)
    if request.method == "POST":
        job = start_export(project, request.user)
        job.refresh_from_db()       # without a broker or thread it is already built: say so
        if job.is_ready:
            messages.success(request, f"Export {job.pk} is ready: download it below.")
        elif job.status == "failed":
            messages.error(request, f"Export {job.pk} failed: see its error below.")
        else:
            messages.info(request, f"Export {job.pk} is {job.get_status_display().lower()}: "
                                   "its status below updates live; the download link appears "
                                   "when it is ready.")
        return redirect("scoring:exports", pk=project.pk)
    jobs = list(project.export_jobs.all()[:20])
    return render(request, "scoring/exports.html", {
        "project": project, "jobs": jobs,
        "refresh": any(j.status in ("queued", "running") for j in jobs)})


@login_required
def export_download(request, pk):
    job = access.export_job_or_404(request.user, pk)
    if not job.is_ready or not Path(job.file_path).is_file():
        raise Http404("not ready")
    return FileResponse(open(job.file_path, "rb"), as_attachment=True,
                        filename=f"diptych-project{job.project_id}-export{job.pk}.zip")
