"""Intrusion tasks (Chang et al. 2009, "Reading Tea Leaves"; the design of the oolong package):
generation, persistence and assignment.

Design note — the rules (ours where the literature leaves a choice open)
------------------------------------------------------------------------
* **Kinds.** ``term``: the cluster's top ``k`` c-TF-IDF terms (the run's ``clusters.json``)
  plus one intruder term. ``text`` / ``image`` / ``joint``: ``k`` posts of the cluster plus one
  post of another cluster, shown as in the consistency passes (texts only, images only, both).
* **Which cluster gives the intruder.** Centroids of every cluster of the solution are taken in
  the solution's own clustering space (``spaces/<space>`` of the run, read by the engine's
  ``read_array``; label-level solutions, which have no space of their own, and runs without
  that space use the run's common space, ``spaces/vector``; the space used is stored on the task). The nearest
  cluster (Euclidean distance between centroids) is excluded — an intruder from it could be
  indistinguishable for reasons that say nothing about the solution — and the intruder cluster
  is drawn uniformly among the rest. When only one other cluster exists it is used (nothing to
  exclude); when the run has no space file nothing is excluded. Both cases are recorded on the
  task (``nearest_label`` None, ``space`` '').
* **Intruder term**: a term among the intruder cluster's top ``k`` terms ("high in another
  cluster") that is not among this cluster's stored top terms (all of them, usually 10: "low in
  this one"), drawn uniformly; if the first drawn cluster has none, the next one is tried.
* **Posts.** One pair per post; shown posts are drawn without replacement in a seeded random
  order, skipping a post whose normalised text (text, joint) or image path (image, joint)
  repeats one already taken, or whose text / image is empty where it is shown. The intruder
  post obeys the same rule against every shown post, so it is never a duplicate of a shown
  text or image. A cluster without ``k`` such posts gets no task of that kind (reported).
* **Posts seen nowhere else.** No post of a task appears in the round's consistency samples
  or in another intrusion task of the round (the post, and its normalised text or image where
  the task shows it, by file and by bytes: services.intrusion_seen says why), so the odd one out cannot be found by noticing which
  item co-appears with the others elsewhere. Tasks are drawn in the interleaved order below, so
  when the unseen posts run short, every solution and kind loses tasks alike (reported).
* **Seeding.** Every draw of a task uses ``round_rng(round, "intrusion", kind, solution id,
  cluster label)`` (the round's seed and server-side secret, services.sampling); the intruder's
  position (1 .. k + 1) and the order of the shown items come from that generator too; the
  (solution, kind, cluster) units of all solutions are interleaved with
  ``round_rng(round, "intrusion-order")``, drawn in that order and stored in it under random
  public ids.
* **Assignment** follows the round's overlap: "full" gives every task to every coder;
  "calibration" gives the first ``calibration_tasks`` tasks (interleaved order) to every coder
  (so Krippendorff's α on the picks is defined) and splits the rest round-robin.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from django.db import transaction

from clustering_engine.grid import COMMON_SPACE
from clustering_engine.run_arrays import read_array

from ..intrusion_models import (DEFAULT_ITEMS_PER_TASK, INTRUSION_KINDS, IntrusionAssignment,
                                IntrusionItem, IntrusionKind, IntrusionPlan, IntrusionTask)
from ..models import ValidationRound
from .assignment import AssignmentError, _check_coders
from .intrusion_seen import consistency_keys, row_keys
from .sampling import LANG_RE, guess_lang, round_rng

DEFAULT_CALIBRATION_TASKS = 20


class IntrusionError(Exception):
    pass


@dataclass
class PlannedTask:
    solution_pk: int
    solution_id: str
    kind: str
    cluster_label: int
    intruder_label: int
    nearest_label: int | None
    space: str
    items: list[dict]            # shown order; each has is_intruder and term or post fields

    @property
    def intruder_position(self) -> int:
        return next(i for i, item in enumerate(self.items, start=1) if item["is_intruder"])


@dataclass
class IntrusionPlanResult:
    tasks: list[PlannedTask] = field(default_factory=list)
    report: dict = field(default_factory=dict)


# ------------------------------------------------------------------ reading the run

def normalised_text(text: str) -> str:
    return " ".join(str(text or "").lower().split())


ROW_COLUMNS = ("pair_id", "post_id", "text", "image", "lang", "image_sha256")


def _run_frame(output_dir: Path, solution_ids: list[str]) -> pd.DataFrame:
    """labels.parquet (the solutions' columns) joined to pairs.parquet, in pairs order."""
    labels = pd.read_parquet(output_dir / "labels.parquet", columns=["pair_id", *solution_ids])
    names = set(pq.read_schema(output_dir / "pairs.parquet").names)
    columns = [c for c in ROW_COLUMNS if c in names]
    pairs = pd.read_parquet(output_dir / "pairs.parquet", columns=columns)
    for column in ROW_COLUMNS[1:]:
        if column not in pairs:
            pairs[column] = pairs["pair_id"] if column == "post_id" else ""
    frame = labels.merge(pairs, on="pair_id", how="left", sort=False)
    for column in ROW_COLUMNS:
        frame[column] = frame[column].fillna("").astype(str)
    return frame


def _cluster_terms(output_dir: Path, solution_id: str) -> dict[int, list[str]]:
    path = output_dir / "clusters.json"
    if not path.is_file():
        return {}
    clusters = json.loads(path.read_text(encoding="utf-8")).get(solution_id, [])
    return {int(c["cluster"]): [t[0] for t in c.get("top_terms", [])] for c in clusters}


def centroid_distances(output_dir: Path, space: str, labels: np.ndarray,
                       clusters: np.ndarray) -> tuple[np.ndarray | None, str]:
    """Euclidean distances between cluster centroids in the run's space ``space``; (None, '')
    when the run has no such space (or its rows do not match the labels)."""
    vectors = read_array(output_dir / "spaces", space)
    if vectors is None or len(vectors) != len(labels):
        return None, ""
    centroids = np.stack([np.asarray(vectors[labels == c], dtype=np.float64).mean(axis=0)
                          for c in clusters])
    diff = centroids[:, None, :] - centroids[None, :, :]
    return np.sqrt(np.einsum("ijk,ijk->ij", diff, diff)), space


def intruder_candidates(index: int, clusters: np.ndarray,
                        distances: np.ndarray | None) -> tuple[list[int], int | None]:
    """Clusters that may give the intruder for ``clusters[index]``, and the excluded nearest."""
    others = [i for i in range(len(clusters)) if i != index]
    if distances is None or len(others) < 2:
        return [int(clusters[i]) for i in others], None
    nearest = min(others, key=lambda i: (distances[index, i], i))
    return [int(clusters[i]) for i in others if i != nearest], int(clusters[nearest])


# ------------------------------------------------------------------ drawing items

def _clashes(kind: str, row: dict, taken_texts: set, taken_images: set,
             seen_elsewhere: set) -> bool:
    if row_keys(row, kind) & seen_elsewhere:
        return True
    if kind in ("text", "joint") and (not row["norm"] or row["norm"] in taken_texts):
        return True
    if kind in ("image", "joint") and (not row["image"] or row["image"] in taken_images):
        return True
    return False


def _draw_posts(rng, kind: str, rows: list[dict], k: int, taken_texts: set,
                taken_images: set, seen_elsewhere: set) -> list[dict]:
    """Up to ``k`` rows in seeded random order that clash with nothing taken (sets updated)
    and show nothing seen elsewhere in the round."""
    chosen = []
    for i in rng.permutation(len(rows)):
        row = rows[int(i)]
        if _clashes(kind, row, taken_texts, taken_images, seen_elsewhere):
            continue
        chosen.append(row)
        taken_texts.add(row["norm"])
        taken_images.add(row["image"])
        if len(chosen) == k:
            break
    return chosen


def _post_item(row: dict, is_intruder: bool) -> dict:
    lang = row["lang"].strip()
    if not LANG_RE.match(lang) or lang.lower() in ("und", "unk", "none", "nan"):
        lang = guess_lang(row["text"])
    return {"is_intruder": is_intruder, "pair_id": row["pair_id"], "post_id": row["post_id"],
            "text": row["text"], "image": row["image"], "lang": lang, "term": ""}


def _shuffled(rng, shown: list[dict], intruder: dict) -> list[dict]:
    items = [shown[int(i)] for i in rng.permutation(len(shown))]
    items.insert(int(rng.integers(len(items) + 1)), intruder)
    return items


def post_task_items(rng, kind: str, members: list[dict], others: dict[int, list[dict]],
                    candidates: list[int], k: int, seen_elsewhere: set | None = None
                    ) -> tuple[list[dict], int] | None:
    """``k`` posts of the cluster and one intruder, none of them in ``seen_elsewhere``; on
    success their keys join ``seen_elsewhere`` (no later task of the round shows them)."""
    seen_elsewhere = set() if seen_elsewhere is None else seen_elsewhere
    shown_texts: set = set()
    shown_images: set = set()
    shown = _draw_posts(rng, kind, members, k, shown_texts, shown_images, seen_elsewhere)
    if len(shown) < k:
        return None
    for label in (candidates[int(i)] for i in rng.permutation(len(candidates))):
        intruder = _draw_posts(rng, kind, others[label], 1, set(shown_texts), set(shown_images),
                               seen_elsewhere)
        if intruder:
            for row in shown + intruder:
                seen_elsewhere |= row_keys(row, kind)
            items = _shuffled(rng, [_post_item(r, False) for r in shown],
                              _post_item(intruder[0], True))
            return items, label
    return None


def term_task_items(rng, label: int, terms: dict[int, list[str]], candidates: list[int],
                    k: int) -> tuple[list[dict], int] | None:
    own = terms.get(label, [])
    if len(own) < k:
        return None
    for other in (candidates[int(i)] for i in rng.permutation(len(candidates))):
        pool = [t for t in terms.get(other, [])[:k] if t not in own]
        if pool:
            intruder = pool[int(rng.integers(len(pool)))]
            items = _shuffled(rng, [{"is_intruder": False, "term": t} for t in own[:k]],
                              {"is_intruder": True, "term": intruder})
            return items, other
    return None


# ------------------------------------------------------------------ the plan

@dataclass
class _SolutionContext:
    """What every task of one solution reads: its clusters, their posts, terms and distances."""
    solution: object
    clusters: np.ndarray
    distances: np.ndarray | None
    space: str
    rows_by_cluster: dict[int, list[dict]]
    terms: dict[int, list[str]]
    entry: dict


def _solution_context(solution, frame: pd.DataFrame, output_dir: Path,
                      kinds: list[str]) -> _SolutionContext:
    labels = frame[solution.solution_id].to_numpy()
    clusters = np.unique(labels[labels >= 0])
    distances, space = None, ""
    for space_name in dict.fromkeys(n for n in (solution.space, COMMON_SPACE) if n):
        distances, space = centroid_distances(output_dir, space_name, labels, clusters)
        if distances is not None:
            break
    rows_by_cluster: dict[int, list[dict]] = {}
    for label in clusters:
        # one pair per post within the cluster (the first in pairs order)
        members = frame[labels == label].drop_duplicates(subset=["post_id"])
        rows_by_cluster[int(label)] = [
            {**r, "norm": normalised_text(r["text"])}
            for r in members[list(ROW_COLUMNS)].to_dict("records")]
    terms = _cluster_terms(output_dir, solution.solution_id) if "term" in kinds else {}
    entry = {"solution_id": solution.solution_id, "clusters": int(len(clusters)),
             "space": space or None, "tasks": {kind: 0 for kind in kinds}, "skipped": {}}
    return _SolutionContext(solution, clusters, distances, space, rows_by_cluster, terms, entry)


def _draw_task(validation_round, ctx: _SolutionContext, kind: str, index: int, k: int,
               seen_elsewhere: set) -> PlannedTask | None:
    label = int(ctx.clusters[index])
    candidates, nearest = intruder_candidates(index, ctx.clusters, ctx.distances)
    rng = round_rng(validation_round, "intrusion", kind, ctx.solution.solution_id, label)
    if not candidates:
        drawn = None
    elif kind == IntrusionKind.TERM:
        drawn = term_task_items(rng, label, ctx.terms, candidates, k)
    else:
        drawn = post_task_items(rng, kind, ctx.rows_by_cluster[label], ctx.rows_by_cluster,
                                candidates, k, seen_elsewhere)
    if drawn is None:
        return None
    items, intruder_label = drawn
    return PlannedTask(ctx.solution.pk, ctx.solution.solution_id, kind, label, intruder_label,
                       nearest, ctx.space, items)


def build_intrusion_plan(validation_round, solutions, kinds, items_per_task: int
                         ) -> IntrusionPlanResult:
    """Every task of a round (pure: reads the run folders and the round's samples, writes
    nothing)."""
    kinds = [k for k in INTRUSION_KINDS if k in set(kinds)]
    if not kinds:
        raise IntrusionError("choose at least one kind of intrusion task")
    if items_per_task < 2:
        raise IntrusionError("an intrusion task needs at least 2 items of the cluster")
    plan = IntrusionPlanResult(report={"kinds": kinds, "items_per_task": items_per_task,
                                       "solutions": []})
    seen_elsewhere: set = set()
    contexts = []
    solutions = sorted(solutions, key=lambda s: (s.run_id, s.solution_id))
    for run_id in dict.fromkeys(s.run_id for s in solutions):
        run_solutions = [s for s in solutions if s.run_id == run_id]
        output_dir = Path(run_solutions[0].run.output_dir or "")
        if not (output_dir / "labels.parquet").is_file():
            raise IntrusionError(f"run {run_id} has no labels.parquet in its output folder")
        frame = _run_frame(output_dir, [s.solution_id for s in run_solutions])
        seen_elsewhere |= consistency_keys(validation_round, frame)
        contexts += [_solution_context(s, frame, output_dir, kinds) for s in run_solutions]
    plan.report["solutions"] = [ctx.entry for ctx in contexts]
    units = [(ctx, kind, index) for ctx in contexts for kind in kinds
             for index in range(len(ctx.clusters))]
    for i in round_rng(validation_round, "intrusion-order").permutation(len(units)):
        ctx, kind, index = units[int(i)]
        task = _draw_task(validation_round, ctx, kind, index, items_per_task, seen_elsewhere)
        if task is None:
            ctx.entry["skipped"].setdefault(kind, []).append(int(ctx.clusters[index]))
        else:
            plan.tasks.append(task)
            ctx.entry["tasks"][kind] += 1
    for ctx in contexts:
        ctx.entry["skipped"] = {kind: sorted(labels)
                                for kind, labels in ctx.entry["skipped"].items()}
    if not plan.tasks:
        raise IntrusionError("no intrusion task could be made (too few clusters, posts or terms)")
    plan.report["tasks"] = len(plan.tasks)
    return plan


@transaction.atomic
def add_intrusion_tasks(validation_round: ValidationRound, kinds, *,
                        items_per_task: int = DEFAULT_ITEMS_PER_TASK,
                        calibration_tasks: int = DEFAULT_CALIBRATION_TASKS,
                        has_consistency: bool = True, coders=()) -> IntrusionPlan:
    """Generate, store and (if coders are given) assign a round's intrusion tasks."""
    if IntrusionPlan.objects.filter(round=validation_round).exists():
        raise IntrusionError("this round already has intrusion tasks")
    result = build_intrusion_plan(validation_round, list(validation_round.solutions.select_related(
        "run")), kinds, items_per_task)
    for order, planned in enumerate(result.tasks):
        task = IntrusionTask.objects.create(
            round=validation_round, solution_id=planned.solution_pk, kind=planned.kind,
            cluster_label=planned.cluster_label, intruder_label=planned.intruder_label,
            intruder_position=planned.intruder_position, n_items=len(planned.items),
            nearest_label=planned.nearest_label, space=planned.space, order=order,
            is_calibration=order < calibration_tasks)
        IntrusionItem.objects.bulk_create([
            IntrusionItem(task=task, position=i, is_intruder=item["is_intruder"],
                          term=item.get("term", ""), pair_id=item.get("pair_id", ""),
                          post_id=item.get("post_id", ""), text=item.get("text", ""),
                          image=item.get("image", ""), lang=item.get("lang", ""))
            for i, item in enumerate(planned.items, start=1)])
    result.report["calibration_tasks"] = min(calibration_tasks, len(result.tasks))
    plan = IntrusionPlan.objects.create(round=validation_round, kinds=result.report["kinds"],
                                        items_per_task=items_per_task,
                                        has_consistency=has_consistency, report=result.report)
    if coders:
        assign_intrusion(validation_round, list(coders))
    return plan


@transaction.atomic
def assign_intrusion(validation_round: ValidationRound, coders) -> list[IntrusionAssignment]:
    """Calibration tasks to every coder; the others round-robin (or all, full overlap)."""
    coders = sorted(set(coders), key=lambda u: u.username)
    if not coders:
        raise AssignmentError("choose at least one coder")
    _check_coders(validation_round, coders)
    existing = set(IntrusionAssignment.objects.filter(task__round=validation_round)
                   .values_list("coder_id", "task_id"))
    new, rest_index = [], 0
    for task in validation_round.intrusion_tasks.order_by("order"):
        if validation_round.overlap == ValidationRound.Overlap.FULL or task.is_calibration:
            targets = coders
        else:
            targets = [coders[rest_index % len(coders)]]
            rest_index += 1
        new += [IntrusionAssignment(task=task, coder=c) for c in targets
                if (c.pk, task.pk) not in existing]
    return IntrusionAssignment.objects.bulk_create(new)


def create_round_with_tasks(project, solutions, *, consistency: bool = True,
                            intrusion_kinds=(), items_per_task: int = DEFAULT_ITEMS_PER_TASK,
                            calibration_tasks: int = DEFAULT_CALIBRATION_TASKS, coders=(),
                            **round_options) -> ValidationRound:
    """A round with consistency tasks, intrusion tasks, or both (``round_options`` go to
    ``sampling.create_round``). Without consistency the sampled clusters are not kept, so no
    coder gets consistency work."""
    from .sampling import create_round

    if not consistency and not intrusion_kinds:
        raise IntrusionError("a round needs consistency tasks, intrusion tasks, or both")
    with transaction.atomic():
        validation_round = create_round(project, solutions, coders=coders if consistency else (),
                                        **round_options)
        if not consistency:
            validation_round.samples.all().delete()
        if intrusion_kinds:
            add_intrusion_tasks(validation_round, intrusion_kinds, items_per_task=items_per_task,
                                calibration_tasks=calibration_tasks, has_consistency=consistency,
                                coders=coders)
    return validation_round
