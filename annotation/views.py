"""Pages of the annotation app.

Coder pages (``/code/…``) name clusters and posts only by their public ids and never mention a
method, K, algorithm, solution or cluster label; PI pages (``…/manage/``, codebook,
adjudication) show everything.
"""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse

from projects.api_input import page_ids

from .forms import ReassignForm, RoundForm
from .passes import PASS_ORDER, PASS_VALUES, SHOWS_IMAGE, SHOWS_TEXT, Pass
from .services import access, intrusion_access
from .services.assignment import (AssignmentError, assign_round, coder_progress,
                                  eligible_coders, reassign, sample_progress, without_sizes)
from .services.coder_state import coded_state, theme_json
from .services.coding import later_pass_begun
from .services.theme_visibility import recent_themes
from .services.intrusion import IntrusionError, create_round_with_tasks
from .services.sampling import SamplingError
from .services.suggestions import earlier_pass_themes


# ---------------------------------------------------------------- coder pages

@login_required
def my_work(request):
    rounds = {}
    assignments = access.my_assignments(request.user).select_related("round__project",
                                                                     "cluster_sample")
    for a in assignments:
        rounds.setdefault(a.round, []).append(a.cluster_sample)
    rows = []
    for validation_round, samples in rounds.items():
        progress = sample_progress(samples, request.user)
        complete = sum(p["complete"] for p in progress.values())
        # by clusters, not labels: a share of labels would tell the samples' sizes
        rows.append({"round": validation_round, "clusters": len(samples), "complete": complete,
                     "percent": round(100 * complete / len(samples)) if samples else 0})
    return render(request, "annotation/my_work.html", {
        "rows": rows, "intrusion_rows": intrusion_access.my_intrusion_rounds(request.user)})


def _coder_samples(user, validation_round):
    return [a.cluster_sample for a in access.my_assignments(user).filter(
        round=validation_round).select_related("cluster_sample").order_by("cluster_sample__order")]


@login_required
def coder_round(request, pk):
    validation_round = access.coder_round_or_404(request.user, pk)
    samples = _coder_samples(request.user, validation_round)
    progress = {pk: without_sizes(p) for pk, p in sample_progress(samples, request.user).items()}
    rows = [{"sample": s, "progress": progress[s.pk], "number": i}
            for i, s in enumerate(samples, start=1)]
    complete = sum(p["complete"] for p in progress.values())
    next_sample = next((r["sample"] for r in rows if not r["progress"]["complete"]), None)
    return render(request, "annotation/coder_round.html", {
        "round": validation_round, "project": validation_round.project, "rows": rows,
        "done": sum(p["done"] for p in progress.values()), "complete": complete,
        "next_sample": next_sample})


def _first_open_pass(progress) -> str:
    for p in PASS_VALUES:
        if not progress["passes"][p]["complete"]:
            return p
    return PASS_VALUES[-1]


@login_required
def code_cluster(request, public_id):
    sample = access.assigned_sample_or_404(request.user, public_id)
    progress = sample_progress([sample], request.user)[sample.pk]
    return redirect("annotation:code-pass", public_id=sample.public_id,
                    pass_name=_first_open_pass(progress))


@login_required
def code_pass(request, public_id, pass_name):
    sample = access.assigned_sample_or_404(request.user, public_id)
    if pass_name not in PASS_VALUES:
        raise Http404("not found")
    progress = sample_progress([sample], request.user)[sample.pk]
    index = PASS_VALUES.index(pass_name)
    for earlier in PASS_VALUES[:index]:
        if not progress["passes"][earlier]["complete"]:
            messages.info(request, f"Finish the {Pass(earlier).label.lower()} pass first.")
            return redirect("annotation:code-pass", public_id=public_id, pass_name=earlier)
    validation_round = sample.round
    locked_by = later_pass_begun(sample, request.user, pass_name)   # pass isolation
    posts = list(sample.posts.all())
    state = coded_state(sample, request.user, [pass_name], posts)[pass_name]
    recent = recent_themes(validation_round.project, request.user, pass_name)
    samples = _coder_samples(request.user, validation_round)
    position = next(i for i, s in enumerate(samples) if s.pk == sample.pk)
    if index + 1 < len(PASS_VALUES):
        next_url = reverse("annotation:code-pass", args=[public_id, PASS_VALUES[index + 1]])
        next_label = f"Next: {Pass(PASS_VALUES[index + 1]).label.lower()} pass"
    else:
        rest = sample_progress(samples, request.user)
        upcoming = [s for s in samples[position + 1:] + samples[:position]
                    if not rest[s.pk]["complete"]]
        next_url = (reverse("annotation:code-cluster", args=[upcoming[0].public_id]) if upcoming
                    else reverse("annotation:coder-round", args=[validation_round.pk]))
        next_label = "Next cluster" if upcoming else "Back to my clusters"
    data = {
        "user": request.user.pk,
        "cluster": sample.public_id,
        "pass": pass_name,
        "common_url": reverse("annotation-api:common-code", args=[public_id, pass_name]),
        "themes_url": reverse("annotation-api:cluster-themes", args=[public_id]),
        "common": state["common"],
        "posts": [{"id": p["id"],
                   "url": reverse("annotation-api:post-code", args=[p["id"], pass_name]),
                   "theme": p["theme"], "version": p["version"]} for p in state["posts"]],
        "recent": [theme_json(t) for t in recent],
        "earlier": earlier_pass_themes(sample, request.user, pass_name),
        "next_url": next_url,
        "other_passes": {p: progress["passes"][p]["done"] for p in PASS_VALUES if p != pass_name},
        "items_per_pass": len(posts) + 1,
        "read_only": not validation_round.is_open or locked_by is not None,
    }
    tabs = [{"value": p, "label": Pass(p).label, "current": p == pass_name,
             "complete": progress["passes"][p]["complete"],
             "reachable": all(progress["passes"][e]["complete"] for e in PASS_VALUES[:i])}
            for i, p in enumerate(PASS_VALUES)]
    return render(request, "annotation/code_pass.html", {
        "sample": sample, "round": validation_round, "posts": posts, "pass_name": pass_name,
        "pass_label": Pass(pass_name).label, "show_text": pass_name in SHOWS_TEXT,
        "show_image": pass_name in SHOWS_IMAGE, "dataset": validation_round.dataset,
        "data": data, "tabs": tabs, "number": position + 1, "n_samples": len(samples),
        "locked_by": Pass(locked_by).label.lower() if locked_by else None,
        "next_label": next_label})


# ---------------------------------------------------------------- PI pages

@login_required
def round_list(request, pk):
    project = access.managed_project_or_404(request.user, pk)
    rounds = project.validation_rounds.all()
    return render(request, "annotation/round_list.html", {"project": project, "rounds": rounds})


@login_required
def round_new(request, pk):
    project = access.managed_project_or_404(request.user, pk)
    coders = eligible_coders(project)
    form = RoundForm(request.POST or None, project=project, coders=coders)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            validation_round = create_round_with_tasks(
                project, data["solutions"], name=data["name"], created_by=request.user,
                posts_per_cluster=data["posts_per_cluster"], seed=data["seed"],
                calibration_clusters=data["calibration_clusters"], overlap=data["overlap"],
                coders=list(data["coders"]), consistency=data["task_types"] != "intrusion",
                intrusion_kinds=(data["intrusion_kinds"] if data["task_types"] != "consistency"
                                 else ()), items_per_task=data["intrusion_items"])
            messages.success(request, f"Round created: {validation_round.samples.count()} clusters "
                                      f"sampled, {validation_round.intrusion_tasks.count()} "
                                      f"intrusion tasks.")
            calibration = (validation_round.plan_report or {}).get("calibration_clusters")
            if calibration is not None and calibration < data["calibration_clusters"]:
                messages.warning(request, f"Calibration set: {calibration} clusters, not the "
                                          f"{data['calibration_clusters']} asked for — the round "
                                          f"has only {calibration} clusters.")
            return redirect("annotation:round-manage", pk=validation_round.pk)
        except (SamplingError, AssignmentError, IntrusionError) as exc:
            form.add_error(None, str(exc))
    sizes = {str(s.pk): s.n_clusters for s in form.fields["solutions"].queryset}
    return render(request, "annotation/round_form.html", {"project": project, "form": form,
                                                          "solution_sizes": sizes})


@login_required
def round_manage(request, pk):
    validation_round = access.managed_round_or_404(request.user, pk)
    coders = eligible_coders(validation_round.project)
    form = ReassignForm(request.POST or None, coders=coders)
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "assign":
            ids = page_ids(request.POST.getlist("coders"))
            if ids is None:
                messages.error(request, "coders: choose coders from the list.")
                return redirect("annotation:round-manage", pk=pk)
            chosen = coders.filter(pk__in=ids)
            try:
                n = len(assign_round(validation_round, list(chosen)))
                messages.success(request, f"{n} assignments added.")
            except AssignmentError as exc:
                messages.error(request, str(exc))
            return redirect("annotation:round-manage", pk=pk)
        if action == "open_adjudication":
            validation_round.adjudication_open = True
            validation_round.save(update_fields=["adjudication_open"])
            messages.success(request, "Adjudication is open. Coders see no change: each is "
                                      "still offered only their own themes.")
            return redirect("annotation:round-manage", pk=pk)
        if action in ("close", "open"):
            validation_round.status = "closed" if action == "close" else "open"
            validation_round.save(update_fields=["status"])
            return redirect("annotation:round-manage", pk=pk)
        if form.is_valid():
            sample = validation_round.samples.filter(public_id=form.cleaned_data["cluster"]).first()
            try:
                if sample is None:
                    raise AssignmentError("no such cluster in this round")
                reassign(validation_round, sample, form.cleaned_data["from_coder"],
                         form.cleaned_data["to_coder"])
                messages.success(request, f"{sample.public_id} assigned to "
                                          f"{form.cleaned_data['to_coder'].username}.")
                return redirect("annotation:round-manage", pk=pk)
            except AssignmentError as exc:
                form.add_error(None, str(exc))
    samples = list(validation_round.samples.select_related("solution").prefetch_related(
        "assignments__coder"))
    return render(request, "annotation/round_manage.html", {
        "round": validation_round, "project": validation_round.project, "samples": samples,
        "progress": coder_progress(validation_round), "form": form, "coders": coders,
        "report": validation_round.plan_report})
