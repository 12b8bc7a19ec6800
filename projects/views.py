"""Server-rendered pages. Thin: lookups go through services.access (404 outside one's
projects), work through the other services."""
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from .api_input import page_id
from .forms import DatasetUploadForm, MemberForm, ProjectForm, RunForm, ServerFolderForm
from .models import Role, Solution
from .services import access, run_queries, run_tables
from .services.datasets import DatasetImportError, import_server_folder, import_uploaded_dataset
from .services.images import ImageNotFound, image_path, thumbnail
from .services.paths import shown_for_run
from .services.run_config import RunConfigError, without_seed
from .services.run_timing import run_timing
from .services.runs import RunStateError, request_cancel, resume_run, start_run

CLUSTERS_PER_PAGE = 24
MATCHES_PER_CLUSTER = 5    # matching posts shown under each cluster of a search
MATCHES_PER_PAGE = 50      # one cluster's matching posts, page by page


def _project(request, pk):
    return access.get_visible_or_404(access.visible_projects(request.user), pk=pk)


def _managed_project(request, pk):
    project = _project(request, pk)
    access.require_manager(request.user, project)
    return project


@login_required
def project_list(request):
    can_create = access.can_create_projects(request.user)
    if request.method == "POST" and not can_create:
        raise PermissionDenied("creating projects is for PIs: ask an administrator")
    form = ProjectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        project = access.create_project(request.user, **form.cleaned_data)
        return redirect("projects:project-detail", pk=project.pk)
    projects = access.visible_projects(request.user).order_by("-created_at", "-id")
    return render(request, "projects/project_list.html", {"projects": projects, "form": form,
                                                          "can_create": can_create})


@login_required
def project_detail(request, pk):
    project = _project(request, pk)
    role = access.role_in(request.user, project)
    context = {"project": project, "role": role, "can_manage": role == Role.PI}
    if role in access.READ_INTERNALS:
        context.update(datasets=project.datasets.all(),
                       runs=project.runs.select_related("dataset"),
                       members=project.memberships.select_related("user").order_by("role"))
    return render(request, "projects/project_detail.html", context)


@login_required
def project_members(request, pk):
    project = _managed_project(request, pk)
    form = MemberForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        users = get_user_model().objects
        user = users.filter(username=form.cleaned_data["username"]).first()
        if user is None:
            user = users.create_user(form.cleaned_data["username"],
                                     password=form.cleaned_data["create_with_password"])
        access.add_member(project, user, form.cleaned_data["role"])
        messages.success(request, f"{user.username} is now a {form.cleaned_data['role']}")
        return redirect("projects:project-members", pk=project.pk)
    return render(request, "projects/members.html", {
        "project": project, "form": form,
        "members": project.memberships.select_related("user").order_by("role")})


@login_required
def dataset_import(request, pk):
    project = _managed_project(request, pk)
    roots = access.server_folder_roots(request.user, project)
    upload_form = DatasetUploadForm(prefix="upload")
    folder_form = ServerFolderForm(prefix="folder")
    if request.method == "POST":
        try:
            if "folder-folder" in request.POST:
                folder_form = ServerFolderForm(request.POST, prefix="folder")
                if folder_form.is_valid():
                    data = folder_form.cleaned_data
                    dataset = import_server_folder(project, data["name"], data["folder"],
                                                   data["table_name"], roots=roots)
                    return redirect("projects:dataset-detail", pk=dataset.pk)
            else:
                upload_form = DatasetUploadForm(request.POST, request.FILES, prefix="upload")
                if upload_form.is_valid():
                    data = upload_form.cleaned_data
                    dataset = import_uploaded_dataset(project, data["name"], data["table"],
                                                      data["table"].name, data.get("images_zip"),
                                                      user=request.user)
                    return redirect("projects:dataset-detail", pk=dataset.pk)
        except DatasetImportError as exc:
            messages.error(request, f"Import failed: {exc}")
    return render(request, "projects/dataset_import.html", {
        "project": project, "upload_form": upload_form, "folder_form": folder_form,
        "data_roots": roots})


@login_required
def dataset_detail(request, pk):
    dataset = access.get_visible_or_404(access.visible_datasets(request.user), pk=pk)
    report = dataset.validation_report
    rejected = Paginator(report.get("rejected", []), 200).get_page(request.GET.get("page"))
    return render(request, "projects/dataset_detail.html", {
        "dataset": dataset, "project": dataset.project, "report": report, "rejected": rejected,
        "can_manage": access.can_manage(request.user, dataset.project)})


@login_required
def dataset_image(request, pk, path):
    # PIs and viewers only: the path is the original file name, which can give away the event or
    # the label. Coders get images by opaque id (annotation.image_views).
    dataset = access.get_visible_or_404(access.visible_datasets(request.user), pk=pk)
    size = request.GET.get("size", "thumb")
    try:
        file = image_path(dataset, path) if size == "full" else thumbnail(dataset, path, size)
    except ImageNotFound:
        raise Http404("no such image") from None
    response = FileResponse(open(file, "rb"))
    response["Cache-Control"] = "private, max-age=86400"
    return response


@login_required
def run_new(request, pk):
    project = _managed_project(request, pk)
    datasets = project.datasets.filter(status="ready")
    form = RunForm(request.POST or None, datasets=datasets,
                   initial={"dataset": request.GET.get("dataset")})
    if request.method == "POST" and form.is_valid():
        try:
            run = start_run(project, form.cleaned_data["dataset"], form.options(), request.user)
            return redirect("projects:run-detail", pk=run.pk)
        except (RunConfigError, RunStateError) as exc:
            form.add_error(None, str(exc))
    return render(request, "projects/run_form.html", {"project": project, "form": form})


def _run(request, pk):
    return access.get_visible_or_404(access.visible_runs(request.user).select_related(
        "dataset", "project"), pk=pk)


@login_required
def run_detail(request, pk):
    run = _run(request, pk)
    # shown, not saved: what the engine wrote may name server folders
    run.log, run.error_message, run.config = shown_for_run(
        run, [run.log, run.error_message, run.config])
    can_manage = access.can_manage(request.user, run.project)
    if not can_manage:
        run.config = without_seed(run.config)   # not saved: the seed is for PIs only
    return render(request, "projects/run_detail.html", {
        "run": run, "project": run.project, "can_manage": can_manage})


@login_required
def run_status(request, pk):
    run = _run(request, pk)
    return JsonResponse({"status": run.status, "status_display": run.get_status_display(),
                         "stage": run.stage, "progress": run.progress,
                         "error_message": shown_for_run(run, run.error_message),
                         "finished": run.is_finished,
                         "log_tail": shown_for_run(run, run.log[-4000:]),
                         "timing": run_timing(run)})


@login_required
@require_POST
def run_cancel(request, pk):
    run = _run(request, pk)
    access.require_manager(request.user, run.project)
    try:
        request_cancel(run)
        messages.info(request, "Cancel requested: the run stops at the next stage.")
    except RunStateError as exc:
        messages.error(request, str(exc))
    return redirect("projects:run-detail", pk=run.pk)


@login_required
@require_POST
def run_resume(request, pk):
    run = _run(request, pk)
    access.require_manager(request.user, run.project)
    try:
        resume_run(run)
        messages.info(request, "Run queued again; embeddings already computed are reused.")
    except RunStateError as exc:
        messages.error(request, str(exc))
    return redirect("projects:run-detail", pk=run.pk)


@login_required
def run_dashboard(request, pk):
    run = _run(request, pk)
    if run.status != "succeeded":
        return redirect("projects:run-detail", pk=run.pk)
    chosen = run_queries.chosen_solution_ids(run)
    solutions = list(run.solutions.all())
    combined = [s for s in solutions if s.kind == Solution.Kind.COMBINED]
    figures = run_queries.figures(run)
    previews = run_queries.gallery_previews(run, solutions)
    for figure in figures:
        figure["gallery"] = previews.get(figure["name"])
    ami = run_queries.ami_card(run)
    return render(request, "projects/run_dashboard.html", {
        "run": run, "project": run.project, "ami": ami, "ami_table": run_tables.ami_table(ami),
        "figures": figures, "k_selection": run_queries.k_selection_rows(run),
        "k_table": run_tables.k_selection_table(run),
        "space_matrix": run_tables.space_matrix_table(run, combined),
        "solutions": run_tables.solutions_table(run, combined, chosen),
        "modality_solutions": [s for s in solutions if s.kind == Solution.Kind.MODALITY]})


@login_required
def run_figure(request, pk, filename):
    run = _run(request, pk)
    path = run_queries.figure_file(run, filename)
    if path is None:
        raise Http404("no such figure")
    response = FileResponse(open(path, "rb"), as_attachment="download" in request.GET,
                            filename=f"run{run.pk}-{path.name}")
    # An SVG opened directly is a document of this origin: allow it no scripts.
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    return response


def _cluster_label(value) -> int | None:
    value = str(value or "")   # labels start at 0; a bad one matches nothing
    return int(value) if value.isascii() and value.isdigit() and len(value) < 10 else None


@login_required
def solution_gallery(request, pk):
    solution = access.get_visible_or_404(
        access.visible_solutions(request.user).select_related("run__project", "run__dataset"),
        pk=pk)
    query = request.GET.get("q", "").strip()
    clusters = solution.clusters.all()
    matches = {}
    # One cluster's matching posts page by page ("all N matching" link), else a few per cluster.
    only = _cluster_label(request.GET.get("cluster")) if query else None
    if query:
        # Every pair's text (from the run's files) plus the clusters' top terms (database).
        matches = run_queries.rows_matching_text(solution, query)
        clusters = clusters.filter(Q(label__in=list(matches))
                                   | Q(search_text__contains=query.lower()))
        if only is not None:
            clusters = clusters.filter(label=only)
    page = Paginator(clusters, CLUSTERS_PER_PAGE).get_page(
        None if only is not None else request.GET.get("page"))
    posts_page = None
    for cluster in page:
        rows = matches[cluster.label].tolist() if cluster.label in matches else []
        cluster.n_matches = len(rows)
        if only is not None:
            posts_page = Paginator(rows, MATCHES_PER_PAGE).get_page(request.GET.get("page"))
            rows = posts_page.object_list
        cluster.matching = run_queries.matching_posts(solution, rows[:MATCHES_PER_CLUSTER]
                                                      if only is None else rows)
    return render(request, "projects/gallery.html", {
        "solution": solution, "run": solution.run, "project": solution.run.project,
        "dataset": solution.run.dataset, "page": page, "query": query, "only": only,
        "posts_page": posts_page})


@login_required
def solution_compare(request, pk):
    run = _run(request, pk)
    solutions = run.solutions.all()
    a = solutions.filter(pk=page_id(request.GET.get("a"))).first()
    b = solutions.filter(pk=page_id(request.GET.get("b"))).first()
    crosstab = run_queries.cross_tabulation(a, b) if a and b and a != b else None
    return render(request, "projects/compare.html", {
        "run": run, "project": run.project, "solutions": solutions, "a": a, "b": b,
        "table": run_tables.crosstab_table(a, b, crosstab) if crosstab else None})
