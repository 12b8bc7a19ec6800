"""The PI's adjudication page: the round's disagreements in pages of cluster samples, a decision
per row (typed, or a coder's theme accepted), revising and undoing it, and naming clusters.

A decision that cannot be recorded answers 400 with the page and a message naming the field;
a recorded one redirects back to the same page and filter (adjudicate.js goes on at the next
open row).
"""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode

from .forms import ClusterNameForm, DecisionForm, DecisionRowForm
from .passes import PASS_VALUES
from .services import access
from .services.adjudication import (PAGE_SIZE, AdjudicationError, adjudication_page,
                                    disagreeing_page, next_open_sample, page_number_of, page_size,
                                    record_decision, undo_decision)
from .services.codebook import category_heads
from .services.coding import CodingError, get_or_create_theme


def _form_error(form) -> str:
    """A form's errors as one line, each led by the field it concerns."""
    return "; ".join(f"{field}: {' '.join(errors)}" if field != "__all__" else " ".join(errors)
                     for field, errors in form.errors.items())


def _row(validation_round, data):
    """The (cluster sample, post or None) a row form names, checked against the round."""
    sample = validation_round.samples.filter(public_id=data["cluster"]).first()
    if sample is None:
        raise AdjudicationError("cluster: no such cluster in this round")
    post = None
    if data["post"]:
        post = sample.posts.filter(public_id=data["post"]).first()
        if post is None:
            raise AdjudicationError("post: no such post in this cluster")
    return sample, post


def _decide(request, validation_round) -> str | None:
    """Record, revise or undo one row's decision; the error to show, or None when done."""
    undo = "undo" in request.POST
    form = (DecisionRowForm if undo else DecisionForm)(request.POST)
    if not form.is_valid():
        return _form_error(form)
    data = form.cleaned_data
    try:
        sample, post = _row(validation_round, data)
        if undo:
            undo_decision(sample, data["pass_name"], request.user, sampled_post=post)
            messages.success(request, "Decision undone: the row is open again.")
            return None
        try:
            theme = get_or_create_theme(validation_round.project, data["pass_name"],
                                        data["theme_name"], created_by=request.user)
        except CodingError as exc:
            raise AdjudicationError(f"theme_name: {exc}") from None
        record_decision(sample, data["pass_name"], theme, request.user, data["note"],
                        sampled_post=post)
    except AdjudicationError as exc:
        return str(exc)
    messages.success(request, "Decision recorded.")
    return None


@login_required
def adjudicate(request, pk):
    validation_round = access.managed_round_or_404(request.user, pk)
    if request.method == "POST":
        if "name" in request.POST:
            form = ClusterNameForm(request.POST)
            error = None if form.is_valid() else _form_error(form)
            if error is None:
                validation_round.samples.filter(public_id=form.cleaned_data["cluster"]).update(
                    name=form.cleaned_data["name"])
                messages.success(request, "Cluster name saved.")
        else:
            error = _decide(request, validation_round)
        if error is None:
            # Back to the same page and filter; adjudicate.js goes on at the next row.
            return redirect(request.get_full_path())
        messages.error(request, error)
        return _page(request, validation_round, status=400)
    return _page(request, validation_round)


def _page(request, validation_round, status: int = 200):
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
        "codebook_names": {p: [t.name for t in category_heads(validation_round.project, p)]
                           for p in PASS_VALUES}}, status=status)


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
