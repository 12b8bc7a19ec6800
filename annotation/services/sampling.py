"""Sampling plans (appendix E): 10 random posts per cluster, seeded, persisted.

Design note
-----------
* Every generator of a round comes from ``round_entropy`` / ``round_rng``: the PI's seed, the
  round's server-side ``sampling_secret`` (256 random bits drawn when the round is created,
  shown to its PIs and in the export's provenance, never to coders) and stream keys. Without
  the secret, anyone who reruns the same data with the same seed could map the blinded clusters
  back to solutions and cluster labels; with it, the plan is reproducible only by the PI.
* Each (solution, cluster) draws with its own generator,
  ``round_entropy(seed, secret, solution_id, cluster label)``, so a cluster's sample
  depends only on the seed, the secret, the solution id and its members — not on which other
  solutions are in the round or the order they are read in.
* The unit drawn is a *post*: a post with several images is several pairs (paper §4.1), and two
  of them may fall in one cluster; within a cluster, pairs are deduplicated by ``post_id``
  keeping the first in pairs order, so a text is never shown twice in a text pass.
* Without replacement; a cluster with fewer posts than the quota gives all of them (in a
  seeded random order); noise (-1) is excluded and counted in the report.
* Distinct content first: posts are visited in a seeded random order and one whose image
  (content hash) or normalised text (URLs, mentions, "RT @user" stripped) repeats a drawn one
  is passed over while distinct posts remain (``clustering_engine.describe.prefer_distinct``,
  the rule of the engine's representatives); the report counts ``duplicates_skipped``.
* The clusters of all solutions are interleaved in a seeded random order
  (``round_entropy(seed, secret, INTERLEAVE_STREAM)``) and persisted in that order under random public
  ids; the first ``calibration_clusters`` of that order form the calibration set.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from django.db import transaction

from clustering_engine.describe import prefer_distinct
from projects.models import Solution

from ..models import ClusterSample, SampledPost, ValidationRound, new_sampling_secret

INTERLEAVE_STREAM = 0x1A7E  # a fixed stream number for the interleaving generator
LANG_RE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


class SamplingError(Exception):
    pass


@dataclass
class PlannedCluster:
    solution_pk: int
    solution_id: str
    cluster_label: int
    cluster_size: int
    pair_ids: list[str]
    post_ids: list[str]
    order: int = -1
    is_calibration: bool = False


@dataclass
class Plan:
    clusters: list[PlannedCluster] = field(default_factory=list)
    report: dict = field(default_factory=dict)

    def signature(self) -> list[tuple]:
        """What must be identical for the same seed (public ids are random on purpose)."""
        return [(c.solution_id, c.cluster_label, c.order, c.is_calibration, tuple(c.pair_ids))
                for c in self.clusters]


def _stable_int(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:4], "big")


def round_entropy(seed: int, secret: str, *keys: int | str) -> list[int]:
    """Entropy of one generator of a round: seed, server-side secret (hex; '' for rounds made
    before secrets existed), then stream keys (ints as they are, strings hashed)."""
    words = [int(seed) & 0xFFFFFFFF]
    if secret:
        words.append(int(secret, 16))
    words += [int(k) & 0xFFFFFFFF if isinstance(k, (int, np.integer)) else _stable_int(str(k))
              for k in keys]
    return words


def round_rng(validation_round, *keys: int | str) -> np.random.Generator:
    """The generator of one stream of a round (anything with ``seed`` and ``sampling_secret``)."""
    return np.random.default_rng(round_entropy(validation_round.seed,
                                               validation_round.sampling_secret, *keys))


def cluster_rng(seed: int, solution_id: str, label: int, secret: str = "") -> np.random.Generator:
    return np.random.default_rng(round_entropy(seed, secret, solution_id, int(label)))


def _read_run_frame(output_dir: str, solution_ids: list[str]) -> pd.DataFrame:
    out = Path(output_dir)
    labels_path, pairs_path = out / "labels.parquet", out / "pairs.parquet"
    if not labels_path.exists() or not pairs_path.exists():
        raise SamplingError("the run's output folder has no labels.parquet / pairs.parquet")
    available = set(pq.read_schema(labels_path).names)
    missing = [s for s in solution_ids if s not in available]
    if missing:
        raise SamplingError(f"labels.parquet has no column for {', '.join(missing)}")
    labels = pd.read_parquet(labels_path, columns=["pair_id", *solution_ids])
    pair_cols = set(pq.read_schema(pairs_path).names)
    post_ids = pd.read_parquet(pairs_path, columns=["pair_id"] + [
        c for c in ("post_id", "text", "image", "image_sha256") if c in pair_cols])
    if "post_id" not in post_ids:
        post_ids["post_id"] = post_ids["pair_id"]
    # What makes two posts "the same" to a coder: the image content (else its path), the text.
    image_key = next((c for c in ("image_sha256", "image") if c in post_ids), None)
    post_ids["duplicate_image"] = post_ids[image_key] if image_key else None
    post_ids["duplicate_text"] = post_ids["text"] if "text" in post_ids else None
    frame = labels.merge(post_ids, on="pair_id", how="left", sort=False)
    frame["post_id"] = frame["post_id"].fillna(frame["pair_id"]).astype(str)
    frame["pair_id"] = frame["pair_id"].astype(str)
    return frame


@dataclass
class ClusterDraw:
    pair_ids: list[str]
    post_ids: list[str]
    duplicates_skipped: int = 0   # posts passed over: their image or text was already drawn


def draw_cluster(seed: int, solution_id: str, label: int, pair_ids: np.ndarray,
                 post_ids: np.ndarray, quota: int, secret: str = "", *,
                 image_keys: np.ndarray | None = None, texts: np.ndarray | None = None
                 ) -> ClusterDraw:
    """Draw ``quota`` posts of one cluster (members in pairs order), preferring distinct images
    and distinct normalised texts (the engine's rule for representatives, so a coder does not
    code the same photo or retweet ten times); repeats only when too few distinct posts exist."""
    _, first = np.unique(post_ids, return_index=True)
    first = np.sort(first)  # one pair per post, the first in pairs order
    units_pairs, units_posts = pair_ids[first], post_ids[first]
    rng = cluster_rng(seed, solution_id, label, secret)
    take, skipped = prefer_distinct(
        rng.permutation(len(first)).tolist(), min(quota, len(first)),
        None if image_keys is None else image_keys[first], None if texts is None else texts[first])
    return ClusterDraw([str(p) for p in units_pairs[take]], [str(p) for p in units_posts[take]],
                       skipped)


def sample_cluster(seed: int, solution_id: str, label: int, pair_ids: np.ndarray,
                   post_ids: np.ndarray, quota: int, secret: str = "") -> tuple[list[str], list[str]]:
    """Draw ``quota`` posts of one cluster (members in pairs order)."""
    draw = draw_cluster(seed, solution_id, label, pair_ids, post_ids, quota, secret)
    return draw.pair_ids, draw.post_ids


def build_plan(solutions: list[Solution], posts_per_cluster: int, seed: int,
               calibration_clusters: int = 0, secret: str = "") -> Plan:
    """The sampling plan of a round (pure: reads parquet, writes nothing); ``secret`` is the
    round's ``sampling_secret``."""
    if posts_per_cluster < 1:
        raise SamplingError("posts per cluster must be at least 1")
    solutions = sorted(solutions, key=lambda s: (s.run_id, s.solution_id))
    plan = Plan(report={"solutions": [], "seed": seed, "posts_per_cluster": posts_per_cluster})
    by_run: dict[int, list[Solution]] = {}
    for s in solutions:
        by_run.setdefault(s.run_id, []).append(s)
    for run_solutions in by_run.values():
        frame = _read_run_frame(run_solutions[0].run.output_dir,
                                [s.solution_id for s in run_solutions])
        pair_ids = frame["pair_id"].to_numpy()
        post_ids = frame["post_id"].to_numpy()
        image_keys = frame["duplicate_image"].to_numpy()
        texts = frame["duplicate_text"].to_numpy()
        for s in run_solutions:
            labels = frame[s.solution_id].to_numpy()
            noise = int((labels < 0).sum())
            entry = {"solution_pk": s.pk, "solution_id": s.solution_id, "noise_excluded": noise,
                     "clusters": 0, "posts": 0, "small_clusters": [], "duplicates_skipped": 0}
            for label in np.unique(labels[labels >= 0]):
                members = np.flatnonzero(labels == label)
                draw = draw_cluster(seed, s.solution_id, int(label), pair_ids[members],
                                    post_ids[members], posts_per_cluster, secret,
                                    image_keys=image_keys[members], texts=texts[members])
                pairs, posts = draw.pair_ids, draw.post_ids
                entry["duplicates_skipped"] += draw.duplicates_skipped
                n_posts = len(set(post_ids[members].tolist()))
                if n_posts < posts_per_cluster:
                    entry["small_clusters"].append({"cluster": int(label), "posts": n_posts})
                plan.clusters.append(PlannedCluster(s.pk, s.solution_id, int(label),
                                                    int(len(members)), pairs, posts))
                entry["clusters"] += 1
                entry["posts"] += len(pairs)
            plan.report["solutions"].append(entry)
    order = np.random.default_rng(round_entropy(seed, secret, INTERLEAVE_STREAM)).permutation(
        len(plan.clusters))
    plan.clusters = [plan.clusters[i] for i in order]
    for position, cluster in enumerate(plan.clusters):
        cluster.order = position
        cluster.is_calibration = position < calibration_clusters
    plan.report["clusters"] = len(plan.clusters)
    plan.report["posts"] = sum(len(c.pair_ids) for c in plan.clusters)
    plan.report["noise_excluded"] = sum(e["noise_excluded"] for e in plan.report["solutions"])
    plan.report["duplicates_skipped"] = sum(e["duplicates_skipped"]
                                            for e in plan.report["solutions"])
    plan.report["calibration_clusters"] = min(calibration_clusters, len(plan.clusters))
    return plan


def guess_lang(text: str) -> str:
    """A BCP 47 tag for scripts that need one to render well (CJK fonts, RTL); else ''."""
    counts = {"zh": 0, "ja": 0, "ko": 0, "ar": 0, "he": 0}
    for ch in text[:400]:
        o = ord(ch)
        if 0x3040 <= o <= 0x30FF:
            counts["ja"] += 1
        elif 0xAC00 <= o <= 0xD7AF or 0x1100 <= o <= 0x11FF:
            counts["ko"] += 1
        elif 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF:
            counts["zh"] += 1
        elif unicodedata.bidirectional(ch) == "AL":
            counts["ar"] += 1
        elif unicodedata.bidirectional(ch) == "R":
            counts["he"] += 1
    if counts["ja"]:
        return "ja"
    best = max(counts, key=counts.get)
    return best if counts[best] else ""


def _pair_details(output_dir: str, pair_ids: set[str]) -> dict[str, dict]:
    path = Path(output_dir) / "pairs.parquet"
    names = set(pq.read_schema(path).names)
    columns = [c for c in ("pair_id", "text", "image", "lang") if c in names]
    table = pq.read_table(path, columns=columns)
    ids = pc.cast(table["pair_id"], pa.string())
    table = table.filter(pc.is_in(ids, value_set=pa.array(sorted(pair_ids), type=pa.string())))
    rows = {}
    for row in table.to_pylist():
        text = row.get("text") or ""
        lang = str(row.get("lang") or "").strip()
        if not LANG_RE.match(lang) or lang.lower() in ("und", "unk", "none", "nan"):
            lang = guess_lang(text)
        rows[str(row["pair_id"])] = {"text": text, "image": row.get("image") or "", "lang": lang}
    return rows


@transaction.atomic
def persist_plan(round: ValidationRound, plan: Plan) -> list[ClusterSample]:
    """Store the plan: samples and posts in interleaved order (pks do not group solutions)."""
    if round.samples.exists():
        raise SamplingError("this round already has a sampling plan")
    details: dict[str, dict] = {}
    runs = {s.pk: s.run for s in round.solutions.select_related("run")}
    wanted: dict[str, set[str]] = {}
    for c in plan.clusters:
        wanted.setdefault(runs[c.solution_pk].output_dir, set()).update(c.pair_ids)
    for output_dir, ids in wanted.items():
        details[output_dir] = _pair_details(output_dir, ids)
    samples = []
    for c in plan.clusters:
        sample = ClusterSample.objects.create(
            round=round, solution_id=c.solution_pk, cluster_label=c.cluster_label,
            cluster_size=c.cluster_size, order=c.order, is_calibration=c.is_calibration)
        rows = details[runs[c.solution_pk].output_dir]
        SampledPost.objects.bulk_create([
            SampledPost(cluster_sample=sample, pair_id=pair, post_id=post, position=i,
                        **rows.get(pair, {"text": "", "image": "", "lang": ""}))
            for i, (pair, post) in enumerate(zip(c.pair_ids, c.post_ids))])
        samples.append(sample)
    round.plan_report = plan.report
    round.save(update_fields=["plan_report"])
    return samples


def create_round(project, solutions, *, name: str, created_by=None, posts_per_cluster: int = 10,
                 seed: int = 0, calibration_clusters: int = 10,
                 overlap: str = ValidationRound.Overlap.CALIBRATION, coders=(),
                 independent_coding: bool = True) -> ValidationRound:
    """Create a round, persist its plan and (if coders are given) assign it."""
    from .assignment import assign_round

    solutions = list(solutions)
    if not solutions:
        raise SamplingError("choose at least one solution")
    if any(s.run.project_id != project.pk for s in solutions):
        raise SamplingError("every solution must belong to this project")
    if any(s.kind != Solution.Kind.COMBINED for s in solutions):
        raise SamplingError("single-modality building blocks of label-level solutions cannot "
                            "be validated: choose method solutions")
    datasets = {s.run.dataset_id for s in solutions}
    if len(datasets) != 1:
        raise SamplingError("all solutions of a round must cluster the same data set")
    if any(s.run.status != "succeeded" for s in solutions):
        raise SamplingError("solutions must come from finished runs")
    secret = new_sampling_secret()
    plan = build_plan(solutions, posts_per_cluster, seed, calibration_clusters, secret)
    with transaction.atomic():
        round = ValidationRound.objects.create(
            project=project, name=name, dataset_id=datasets.pop(), seed=seed,
            sampling_secret=secret,
            posts_per_cluster=posts_per_cluster, calibration_clusters=calibration_clusters,
            overlap=overlap, created_by=created_by, independent_coding=independent_coding)
        round.solutions.set(solutions)
        persist_plan(round, plan)
        if coders:
            assign_round(round, list(coders))
    return round
