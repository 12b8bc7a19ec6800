"""Who codes which cluster sample (appendix E: a calibration set coded by every coder, the rest
split), reassignment, and per-coder progress computed from the codes (no stored counters)."""
from __future__ import annotations

from django.db import transaction
from django.db.models import Count

from projects.models import Membership, Role

from ..models import Assignment, ClusterCode, PostCode, SampledPost, ValidationRound
from ..passes import PASS_ORDER

CODING_ROLES = (Role.CODER, Role.PI)


class AssignmentError(Exception):
    pass


def eligible_coders(project):
    """Members who may code: coders and PIs (viewers only read)."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(
        memberships__project=project, memberships__role__in=CODING_ROLES).order_by("username")


def _check_coders(round: ValidationRound, coders) -> None:
    allowed = set(Membership.objects.filter(project=round.project, role__in=CODING_ROLES)
                  .values_list("user_id", flat=True))
    outsiders = [c.username for c in coders if c.pk not in allowed]
    if outsiders:
        raise AssignmentError(f"not a coder of this project: {', '.join(outsiders)}")


@transaction.atomic
def assign_round(round: ValidationRound, coders) -> list[Assignment]:
    """Calibration samples to every coder; the others round-robin (or all, full overlap)."""
    coders = sorted(set(coders), key=lambda u: u.username)
    if not coders:
        raise AssignmentError("choose at least one coder")
    _check_coders(round, coders)
    existing = set(round.assignments.values_list("coder_id", "cluster_sample_id"))
    new = []
    rest_index = 0
    for sample in round.samples.order_by("order"):
        if round.overlap == ValidationRound.Overlap.FULL or sample.is_calibration:
            targets = coders
        else:
            targets = [coders[rest_index % len(coders)]]
            rest_index += 1
        new += [Assignment(round=round, coder=c, cluster_sample=sample) for c in targets
                if (c.pk, sample.pk) not in existing]
    return Assignment.objects.bulk_create(new)


@transaction.atomic
def reassign(round: ValidationRound, sample, from_user, to_user) -> Assignment:
    """Move one cluster sample from one coder to another (the first coder's codes are kept for
    the record but are no longer reachable by them). ``from_user`` None adds a coder."""
    _check_coders(round, [to_user])
    if sample.round_id != round.pk:
        raise AssignmentError("that cluster is not in this round")
    if from_user is not None:
        deleted, _ = Assignment.objects.filter(round=round, cluster_sample=sample,
                                               coder=from_user).delete()
        if not deleted:
            raise AssignmentError(f"{from_user.username} was not assigned that cluster")
    assignment, _ = Assignment.objects.get_or_create(round=round, cluster_sample=sample,
                                                     coder=to_user)
    return assignment


def sample_progress(samples, coder) -> dict[int, dict]:
    """Per cluster sample: items coded per pass (1 common theme + one per post) for one coder."""
    samples = list(samples)
    ids = [s.pk for s in samples]
    n_posts = dict(SampledPost.objects.filter(cluster_sample__in=ids).values(
        "cluster_sample").annotate(n=Count("id")).values_list("cluster_sample", "n"))
    done: dict[tuple[int, str], int] = {}
    for row in PostCode.objects.filter(cluster_sample__in=ids, coder=coder).values(
            "cluster_sample", "pass_name").annotate(n=Count("id")):
        done[(row["cluster_sample"], row["pass_name"])] = row["n"]
    for sample_id, pass_name in ClusterCode.objects.filter(
            cluster_sample__in=ids, coder=coder).values_list("cluster_sample", "pass_name"):
        done[(sample_id, pass_name)] = done.get((sample_id, pass_name), 0) + 1
    result = {}
    for sid in ids:
        total = n_posts.get(sid, 0) + 1
        passes = {p.value: {"done": done.get((sid, p.value), 0), "total": total}
                  for p in PASS_ORDER}
        for p in passes.values():
            p["complete"] = p["done"] >= p["total"]
        all_done = sum(p["done"] for p in passes.values())
        result[sid] = {"passes": passes, "done": all_done, "total": total * len(PASS_ORDER),
                       "complete": all(p["complete"] for p in passes.values())}
    return result


def without_sizes(progress: dict) -> dict:
    """One cluster's ``sample_progress`` as its coder sees it on overviews and in the API:
    labels given and whether each pass is complete, never the sample's size (a sample smaller
    than the others marks a small cluster, and small clusters point to one high-K solution)."""
    return {"passes": {name: {"done": p["done"], "complete": p["complete"]}
                       for name, p in progress["passes"].items()},
            "done": progress["done"], "complete": progress["complete"]}


def coder_progress(validation_round: ValidationRound) -> list[dict]:
    """Per coder of the round: clusters assigned / complete, items coded / total."""
    rows = []
    by_coder: dict = {}
    for a in validation_round.assignments.select_related("coder", "cluster_sample"):
        by_coder.setdefault(a.coder, []).append(a.cluster_sample)
    for coder, samples in sorted(by_coder.items(), key=lambda kv: kv[0].username):
        progress = sample_progress(samples, coder)
        done = sum(p["done"] for p in progress.values())
        total = sum(p["total"] for p in progress.values())
        rows.append({"coder": coder, "clusters": len(samples),
                     "complete": sum(p["complete"] for p in progress.values()),
                     "calibration": sum(s.is_calibration for s in samples),
                     "done": done, "total": total,
                     "percent": round(100 * done / total) if total else 0})
    return rows
