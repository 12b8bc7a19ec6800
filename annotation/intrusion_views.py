"""Pages of intrusion tasks: the coder's keyboard page (one task at a time), images by item
public id, and the PI's page that adds intrusion tasks to a round and shows their plan."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render

from projects.api_input import page_ids
from projects.services.images import ImageNotFound, thumbnail

from .intrusion_models import IntrusionAssignment, IntrusionPlan
from .services import access
from .services import intrusion_access
from .services.assignment import AssignmentError, eligible_coders
from .services.intrusion import IntrusionError, add_intrusion_tasks, assign_intrusion
from .services.intrusion_payloads import task_payloads

CODER_SIZES = ("thumb", "medium")   # never the original file: it keeps its name and metadata


@login_required
def code_intrusion(request, pk):
    validation_round = intrusion_access.intrusion_round_or_404(request.user, pk)
    tasks = (intrusion_access.my_tasks(request.user).filter(round=validation_round)
             .select_related("round").prefetch_related("items").order_by("order"))
    data = {"user": request.user.pk, "read_only": not validation_round.is_open,
            "tasks": task_payloads(tasks, request.user)}
    return render(request, "annotation/intrusion_code.html", {
        "round": validation_round, "project": validation_round.project, "data": data,
        "n_tasks": len(data["tasks"])})


@login_required
def intrusion_image(request, public_id):
    item = intrusion_access.assigned_item_or_404(request.user, public_id)
    size = request.GET.get("size", "thumb")
    if size not in CODER_SIZES or not item.image or item.task.kind not in ("image", "joint"):
        raise Http404("not found")
    try:
        file = thumbnail(item.task.round.dataset, item.image, size)
    except ImageNotFound:
        raise Http404("not found") from None
    # Bytes, not a FileResponse: no file name reaches the Content-Disposition header.
    response = HttpResponse(file.read_bytes(), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=86400"
    return response


@login_required
def manage_intrusion(request, pk):
    validation_round = access.managed_round_or_404(request.user, pk)
    coders = eligible_coders(validation_round.project)
    plan = IntrusionPlan.objects.filter(round=validation_round).first()
    if request.method == "POST":
        ids = page_ids(request.POST.getlist("coders"))
        if ids is None:
            messages.error(request, "coders: choose coders from the list.")
            return redirect("annotation:intrusion-manage", pk=pk)
        chosen = list(coders.filter(pk__in=ids))
        try:
            if plan is None:
                items = int(request.POST.get("items_per_task") or 5)
                calibration = int(request.POST.get("calibration_tasks") or 20)
                add_intrusion_tasks(validation_round, request.POST.getlist("kinds"),
                                    items_per_task=items, calibration_tasks=calibration,
                                    has_consistency=validation_round.samples.exists(),
                                    coders=chosen)
                messages.success(request, "Intrusion tasks created.")
            else:
                n = len(assign_intrusion(validation_round, chosen))
                messages.success(request, f"{n} intrusion assignments added.")
        except (IntrusionError, AssignmentError, ValueError) as exc:
            messages.error(request, str(exc))
        return redirect("annotation:intrusion-manage", pk=pk)
    tasks = list(validation_round.intrusion_tasks.select_related("solution").order_by("order"))
    assigned = {}
    for a in IntrusionAssignment.objects.filter(task__round=validation_round).select_related(
            "coder"):
        assigned.setdefault(a.task_id, []).append(a.coder.username)
    return render(request, "annotation/intrusion_manage.html", {
        "round": validation_round, "project": validation_round.project, "plan": plan,
        "coders": coders, "tasks": [{"task": t, "coders": assigned.get(t.pk, [])} for t in tasks],
        "kinds": [("term", "Term"), ("text", "Text"), ("image", "Image"), ("joint", "Joint")]})
