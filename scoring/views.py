"""Scoring pages: the comparison dashboard, its plot, choices, exports. Thin: the work is in
services; access in services.access (coders get 404)."""
import hashlib
import io
import json
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import FileResponse, Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from projects.models import Solution
from projects.services import access as project_access
from projects.tables import Table

from .services import access
from .services.choices import ChoiceError, set_choice
from .services.comparison import comparison
from .services.exports import ExportRefused, start_export
from .services.figures import plot_cluster_consistency, plot_mean_consistency
from .services.snapshots import COMPARISON_TABLES, stored_scores
from .services.solution_comparisons import MIN_CODERS_RESAMPLED
from .services.table_columns import PAIRS, RANKING, comparison_columns, intrusion_columns

PLOT_TYPES = {"png": "image/png", "svg": "image/svg+xml"}
SCREEN_DPI, PRINT_DPI = 100, 150
PLOT_CACHE_SECONDS = 24 * 3600


def _filters(request) -> dict:
    return {key: request.GET.get(key, "") for key in ("method", "algorithm", "sort")}


@login_required
def comparison_page(request, pk):
    project = access.readable_project_or_404(request.user, pk)
    filters = _filters(request)
    stored = stored_scores(project)
    table = comparison(project, scores=stored.scores, **filters)
    intrusion = table["intrusion"]
    return render(request, "scoring/comparison.html", {
        "project": project, "table": table, "score_state": stored, "filters": filters,
        "comparison_table": Table(
            "comparison", comparison_columns(table["rows"]), table["rows"],
            css_for=lambda row: "chosen" if row["chosen"] else "",
            attrs_for=lambda row: {"solution": row["solution_id"]}, sort=filters["sort"],
            query={"method": filters["method"], "algorithm": filters["algorithm"]},
            foldable=True),
        "intrusion_table": Table(
            "intrusion-table", intrusion_columns(intrusion["has_truth"]), intrusion["rows"],
            attrs_for=lambda row: {"solution": row["solution_id"], "kind": row["kind"]}),
        "ranking_table": Table("solution-ranking", RANKING, table["solution_ranking"]["rows"]),
        "pairs_table": Table("solution-pairs", PAIRS, table["solution_comparisons"]["rows"],
                             css_for=lambda row: "chosen" if row["distinguishable"] else ""),
        "fixed_coders": MIN_CODERS_RESAMPLED,
        "can_manage": project_access.can_manage(request.user, project)})


def _plot(fmt: str, clusters: bool, rows: list[dict], scores, dpi: int) -> bytes:
    figure = (plot_cluster_consistency(scores.cluster_means, rows) if clusters   # figure E.1
              else plot_mean_consistency(rows))                                  # figure 9
    buffer = io.BytesIO()
    figure.savefig(buffer, format=fmt, dpi=dpi, bbox_inches="tight")
    return buffer.getvalue()


@login_required
def comparison_plot(request, pk, fmt):
    project = access.readable_project_or_404(request.user, pk)
    if fmt not in PLOT_TYPES:
        raise Http404("no such format")
    clusters = request.GET.get("figure") == "clusters"
    stored = stored_scores(project, (*COMPARISON_TABLES, "cluster_means") if clusters
                           else COMPARISON_TABLES)
    rows = comparison(project, scores=stored.scores, **_filters(request))["rows"]
    download = "download" in request.GET
    # Drawing takes seconds at the demo's size and depends only on the scores snapshot and the
    # rows shown: kept per snapshot, so reloading the page does not draw it again. The page's
    # own image is drawn at screen resolution; downloads at print resolution.
    dpi = PRINT_DPI if download else SCREEN_DPI
    key = "comparison-plot:" + hashlib.sha256(json.dumps(
        [project.pk, fmt, clusters, dpi, stored.version, str(stored.computed_at), rows],
        sort_keys=True, default=str).encode()).hexdigest()
    body = cache.get(key)
    if body is None:
        body = _plot(fmt, clusters, rows, stored.scores, dpi)
        cache.set(key, body, PLOT_CACHE_SECONDS)
    response = HttpResponse(body, content_type=PLOT_TYPES[fmt])
    if download:
        name = "cluster-consistency" if clusters else "consistency"
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
        try:
            job = start_export(project, request.user)
        except ExportRefused as exc:
            messages.error(request, f"No new export: {exc}.")
            return redirect("scoring:exports", pk=project.pk)
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
