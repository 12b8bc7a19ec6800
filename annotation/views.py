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
from django.utils.http import urlencode

from .forms import ClusterNameForm, DecisionForm, ReassignForm, RoundForm
from .models import Theme
from .passes import PASS_ORDER, PASS_VALUES, SHOWS_IMAGE, SHOWS_TEXT, Pass
from .services import access, intrusion_access
from .services.assignment import (AssignmentError, assign_round, coder_progress,
                                  eligible_coders, reassign, sample_progress)
from .services.coder_state import coded_state, theme_json
from .services.adjudication import (PAGE_SIZE, adjudication_page, disagreeing_page,
                                   next_open_sample, page_number_of, page_size)
from .services.codebook import CodebookError, recent_themes, record_decision
from .services.coding import CodingError, get_or_create_theme
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
        done = sum(p["done"] for p in progress.values())
        total = sum(p["total"] for p in progress.values())
        rows.append({"round": validation_round, "clusters": len(samples),
                     "complete": sum(p["complete"] for p in progress.values()),
                     "percent": round(100 * done / total) if total else 0})
    return render(request, "annotation/my_work.html", {
        "rows": rows, "intrusion_rows": intrusion_access.my_intrusion_rounds(request.user)})


def _coder_samples(user, validation_round):
    return [a.cluster_sample for a in access.my_assignments(user).filter(
        round=validation_round).select_related("cluster_sample").order_by("cluster_sample__order")]


@login_required
def coder_round(request, pk):
    validation_round = access.coder_round_or_404(request.user, pk)
    samples = _coder_samples(request.user, validation_round)
    progress = sample_progress(samples, request.user)
    rows = [{"sample": s, "progress": progress[s.pk], "number": i}
            for i, s in enumerate(samples, start=1)]
    done = sum(p["done"] for p in progress.values())
    total = sum(p["total"] for p in progress.values())
    next_sample = next((r["sample"] for r in rows if not r["progress"]["complete"]), None)
    return render(request, "annotation/coder_round.html", {
        "round": validation_round, "project": validation_round.project, "rows": rows,
        "done": done, "total": total, "percent": round(100 * done / total) if total else 0,
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
        "read_only": not validation_round.is_open,
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
    return render(request, "annotation/round_form.html", {"project": project, "form": form})


@login_required
def round_manage(request, pk):
    validation_round = access.managed_round_or_404(request.user, pk)
    coders = eligible_coders(validation_round.project)
    form = ReassignForm(request.POST or None, coders=coders)
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "assign":
            chosen = coders.filter(pk__in=request.POST.getlist("coders"))
            try:
                n = len(assign_round(validation_round, list(chosen)))
                messages.success(request, f"{n} assignments added.")
            except AssignmentError as exc:
                messages.error(request, str(exc))
            return redirect("annotation:round-manage", pk=pk)
        if action == "open_adjudication":
            validation_round.adjudication_open = True
            validation_round.save(update_fields=["adjudication_open"])
            messages.success(request, "Adjudication is open: coders now see every coder's themes. "
                                      "Reconcile (merge) the themes in the codebook; α is "
                                      "computed from here on.")
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


@login_required
def adjudicate(request, pk):
    validation_round = access.managed_round_or_404(request.user, pk)
    if request.method == "POST":
        if "name" in request.POST:
            form = ClusterNameForm(request.POST)
            if form.is_valid():
                validation_round.samples.filter(public_id=form.cleaned_data["cluster"]).update(
                    name=form.cleaned_data["name"])
                messages.success(request, "Cluster name saved.")
        else:
            form = DecisionForm(request.POST)
            if form.is_valid():
                data = form.cleaned_data
                sample = validation_round.samples.filter(public_id=data["cluster"]).first()
                post = sample.posts.filter(public_id=data["post"]).first() if (
                    sample and data["post"]) else None
                try:
                    if sample is None or (data["post"] and post is None):
                        raise CodebookError("no such cluster or post in this round")
                    theme = get_or_create_theme(validation_round.project, data["pass_name"],
                                                data["theme_name"], request.user)
                    record_decision(sample, data["pass_name"], theme, request.user, data["note"],
                                    sampled_post=post)
                    messages.success(request, "Decision recorded.")
                except (CodebookError, CodingError) as exc:
                    messages.error(request, str(exc))
            else:
                messages.error(request, "Give a theme for the decision.")
        # Back to the same page and filter; adjudicate.js goes on at the next row.
        return redirect(request.get_full_path())
    only_disagreements = request.GET.get("only") == "disagreements"
    per_page = page_size(request.GET.get("per_page"))
    base = _adjudication_query(only_disagreements, per_page)
    if only_disagreements:   # pages found by scanning on from a cluster (no page numbers)
        backwards = "before" in request.GET
        start = _int(request.GET.get("before" if backwards else "from"), 0)
        shown = disagreeing_page(validation_round, start, not backwards, per_page)
        samples = shown["samples"]
        first, last = (samples[0].order, samples[-1].order) if samples else (start, start - 1)
        pager = {"summary": (f"Clusters with disagreements: #{first + 1}–#{last + 1} of the "
                             f"round's clusters" if samples else
                             "No cluster with disagreements here."),
                 "previous": (f"{base}&before={first}"
                              if (shown["more"] if backwards else first > 0) else None),
                 "next": (f"{base}&from={last + 1}" if (backwards or shown["more"]) else None)}
        here = f"{base}&{'before' if backwards else 'from'}={start}"
    else:
        shown = adjudication_page(validation_round, request.GET.get("page"), per_page)
        page, samples = shown["page"], shown["samples"]
        with_base = f"{base}&" if base else ""
        pager = {"summary": f"Clusters {page.start_index()}–{page.end_index()} of "
                            f"{page.paginator.count} · page {page.number} of "
                            f"{page.paginator.num_pages}",
                 "previous": (f"{with_base}page={page.previous_page_number()}"
                              if page.has_previous() else None),
                 "next": f"{with_base}page={page.next_page_number()}" if page.has_next() else None}
        here = f"{with_base}page={page.number}"
    pager["filter"] = _adjudication_query(not only_disagreements, per_page)
    pager["next_open"] = urlencode({"after": samples[-1].order if samples else -1,
                                    "only": "disagreements" if only_disagreements else "",
                                    "per_page": per_page, "back": here})
    naming = [{"sample": s, "themes": shown["common_themes"][s.pk]} for s in samples]
    return render(request, "annotation/adjudicate.html", {
        "round": validation_round, "project": validation_round.project, "items": shown["items"],
        "naming": naming, "dataset": validation_round.dataset, "pager": pager,
        "only_disagreements": only_disagreements,
        "codebook_names": {p: list(Theme.objects.active().filter(
            project=validation_round.project, modality=p).order_by("name")
            .values_list("name", flat=True)) for p in PASS_VALUES}})


def _int(value, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _adjudication_query(only_disagreements: bool, per_page: int) -> str:
    """The query string naming an adjudication page's filter and size (defaults left out)."""
    params = {"only": "disagreements"} if only_disagreements else {}
    if per_page != PAGE_SIZE:
        params["per_page"] = per_page
    return urlencode(params)


@login_required
def adjudicate_next(request, pk):
    """``n`` with nothing left on a page: the page holding the next row still to decide (back
    to the page it came from when every disagreement has a decision)."""
    validation_round = access.managed_round_or_404(request.user, pk)
    only_disagreements = request.GET.get("only") == "disagreements"
    per_page = page_size(request.GET.get("per_page"))
    order = next_open_sample(validation_round, _int(request.GET.get("after"), -1))
    url = reverse("annotation:adjudicate", args=[pk])
    if order is None:
        messages.info(request, "Every disagreement has a decision.")
        return redirect(f"{url}?{request.GET.get('back', '')}")
    base = _adjudication_query(only_disagreements, per_page)
    if only_disagreements:
        return redirect(f"{url}?{base}&from={order}")
    page = page_number_of(validation_round, order, per_page)
    return redirect(f"{url}?{base}&page={page}" if base else f"{url}?page={page}")
