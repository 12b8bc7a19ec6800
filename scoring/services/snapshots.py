"""Stored scores: pages read the snapshot computed at the project's current score version.

Every write a score reads bumps ``ScoreVersion.version`` in the writer's own transaction
(database triggers, migration 0002: bulk writes and COPY included). A snapshot is current
exactly when its version is the project's. When it is not, a page sends one recomputation job
for that version (by name: services never import scoring.tasks) and shows the last snapshot
with a notice saying so and as of when; it never shows older numbers without saying so.

* No snapshot yet (a project's first read): computed in the request, once.
* Embedded default (Celery eager, no broker): the job runs inside the request that found the
  snapshot stale, so the page shows the new numbers at once.
* The job reads the version *before* the codes, so a snapshot is never labelled newer than
  the codes it was computed from; a write during the computation leaves it stale, and the
  next read sends another job.
* Exports do not read snapshots: they compute from the codes as they are (services.exports).
"""
from __future__ import annotations

import gzip
import io
import json
import time
from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np
import pandas as pd
from celery import current_app
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from projects.models import Project

from ..models import ScoreSnapshot, ScoreTable, ScoreVersion
from .comparison import ProjectScores, project_scores, round_solutions

SCORES_TASK = "scoring.recompute_scores"
SCORES_KEY = b',"scores":'   # the stored JSON document ends with the snapshot's state
# A job sent for a version and not done after this long (a lost worker) is sent again.
RESEND_AFTER = timedelta(minutes=10)
# table name -> how to take it from ProjectScores
TABLES = {
    "cluster_scores": lambda s: s.cluster_scores,
    "cluster_means": lambda s: s.cluster_means,
    "solution_scores": lambda s: s.solution_scores,
    "reliability": lambda s: s.reliability,
    "reliability_overall": lambda s: s.reliability_overall,
    "intrusion_solution_scores": lambda s: s.intrusion.get("solution_scores"),
    "intrusion_kind_scores": lambda s: s.intrusion.get("kind_scores"),
    "solution_comparisons": lambda s: s.comparisons,
    "solution_ranking": lambda s: s.ranking,
}
# The per-cluster scores JSON (tens of thousands of rows), rendered once by the job with the
# snapshot's state as it is when current, and stored gzipped: sent as it is (services: api).
CLUSTERS_JSON = "clusters.json.gz"
COMPARISON_TABLES = ("solution_scores", "reliability", "reliability_overall",
                     "intrusion_solution_scores", "intrusion_kind_scores",
                     "solution_comparisons", "solution_ranking")


@dataclass
class StoredScores:
    scores: ProjectScores
    version: int            # the snapshot's
    current_version: int    # the codes'
    computed_at: object
    documents: dict = field(default_factory=dict)   # CLUSTERS_JSON if asked for, gzipped

    @property
    def stale(self) -> bool:
        return self.version != self.current_version

    @property
    def notice(self) -> str:
        if not self.stale:
            return ""
        return (f"Recomputing after recent changes: these scores are as of "
                f"{self.computed_at:%Y-%m-%d %H:%M:%S} UTC (score version {self.version}; the "
                f"codes are now at version {self.current_version}). Reload in a moment.")

    def clusters_json(self, accepts_gzip: bool) -> tuple[bytes, bool]:
        """(body, gzipped) of the per-cluster scores JSON: the stored document as it is when
        current and the client takes gzip, else unpacked with the state as it is now."""
        stored = self.documents[CLUSTERS_JSON]
        if accepts_gzip and not self.stale:
            return stored, True
        body = gzip.decompress(stored)
        body = body[:body.rindex(SCORES_KEY)] + SCORES_KEY + json.dumps(self.as_dict()).encode()
        return body + b"}", False

    def as_dict(self) -> dict:
        return {"version": self.version, "current_version": self.current_version,
                "computed_at": self.computed_at.isoformat(), "stale": self.stale,
                "notice": self.notice}


def current_version(project_id: int) -> int:
    return (ScoreVersion.objects.filter(pk=project_id).values_list("version", flat=True).first()
            or 0)


def _parquet(frame: pd.DataFrame | None) -> bytes:
    buffer = io.BytesIO()
    (frame if frame is not None else pd.DataFrame()).to_parquet(buffer, index=False)
    return buffer.getvalue()


def records_json(frame: pd.DataFrame) -> bytes:
    """``[{column: value}, …]`` as JSON, column by column (tens of thousands of rows in well
    under a second): NaN, NA and infinities are null, numbers keep every digit."""
    columns = {}
    for name in frame.columns:
        values = frame[name]
        missing = values.isna()
        if pd.api.types.is_float_dtype(values):
            missing |= ~np.isfinite(values.to_numpy(dtype=float, na_value=np.nan))
        columns[name] = values.astype(object).where(~missing, None).tolist()
    names = list(columns)
    rows = [dict(zip(names, row)) for row in zip(*columns.values())]
    return json.dumps(rows, allow_nan=False, cls=DjangoJSONEncoder).encode()


def recompute(project_id: int) -> ScoreSnapshot:
    """The job's body: compute every table from the codes and store it under the version read
    first; older snapshots of the project are removed."""
    version = current_version(project_id)
    project = Project.objects.get(pk=project_id)
    started = time.perf_counter()
    scores = project_scores(project)
    tables = {name: _parquet(take(scores)) for name, take in TABLES.items()}
    computed_at = timezone.now()
    state = StoredScores(scores, version, version, computed_at).as_dict()
    tables[CLUSTERS_JSON] = gzip.compress(b"".join([
        b'{"per_coder":', records_json(scores.cluster_scores.drop(columns=["coder_id"],
                                                                  errors="ignore")),
        b',"per_cluster":', records_json(scores.cluster_means),
        SCORES_KEY, json.dumps(state).encode(), b"}"]), compresslevel=6)
    seconds = time.perf_counter() - started
    with transaction.atomic():
        snapshot = ScoreSnapshot.objects.create(
            project=project, version=version, seconds=seconds, computed_at=computed_at,
            n_post_codes=len(scores.post_codes),
            n_intrusion_answers=len(scores.intrusion.get("answers", ())))
        ScoreTable.objects.bulk_create([ScoreTable(snapshot=snapshot, name=name, data=data)
                                        for name, data in tables.items()])
        newest = latest_snapshot(project_id)
        ScoreSnapshot.objects.filter(project_id=project_id).exclude(pk=newest.pk).delete()
    return snapshot


def latest_snapshot(project_id: int) -> ScoreSnapshot | None:
    return ScoreSnapshot.objects.filter(project_id=project_id).order_by("-version", "-id").first()


def request_recompute(project_id: int, version: int) -> bool:
    """Send one recomputation job for ``version`` unless one was sent for it (or a later one)
    recently; True when sent."""
    now = timezone.now()
    sent = ScoreVersion.objects.filter(pk=project_id).filter(
        Q(recompute_requested__isnull=True) | Q(recompute_requested__lt=version)
        | Q(recompute_requested_at__lt=now - RESEND_AFTER)
    ).update(recompute_requested=version, recompute_requested_at=now)
    if sent:   # sent at once: the job reads only committed codes, whatever this caller holds
        current_app.tasks[SCORES_TASK].delay(project_id)
    return bool(sent)


def _load(snapshot: ScoreSnapshot, names) -> dict:
    """Frames by name; JSON documents (``*.json.gz``) as bytes."""
    rows = ScoreTable.objects.filter(snapshot=snapshot, name__in=list(names)).values_list(
        "name", "data")
    return {name: bytes(data) if name.endswith(".gz") else pd.read_parquet(io.BytesIO(data))
            for name, data in rows}


def stored_scores(project, tables=COMPARISON_TABLES) -> StoredScores:
    """The stored scores of ``project`` (only ``tables`` loaded; the others are empty), sending
    a recomputation when they are stale (module notes)."""
    version = current_version(project.pk)
    snapshot = latest_snapshot(project.pk)
    if snapshot is None:
        snapshot = recompute(project.pk)
    elif snapshot.version != version and request_recompute(project.pk, version):
        snapshot = latest_snapshot(project.pk)    # eager: the job has just run
        version = current_version(project.pk)
    frames = _load(snapshot, tables)
    empty = pd.DataFrame()
    scores = ProjectScores(
        post_codes=empty, cluster_scores=frames.get("cluster_scores", empty),
        cluster_means=frames.get("cluster_means", empty),
        solution_scores=frames.get("solution_scores", empty),
        reliability=frames.get("reliability", empty),
        reliability_overall=frames.get("reliability_overall", empty),
        solutions=round_solutions(project),
        intrusion={"solution_scores": frames.get("intrusion_solution_scores", empty),
                   "kind_scores": frames.get("intrusion_kind_scores", empty)},
        n_intrusion_answers=snapshot.n_intrusion_answers,
        comparisons=frames.get("solution_comparisons", empty),
        ranking=frames.get("solution_ranking", empty))
    documents = {name: frames[name] for name in tables if name.endswith(".gz") and name in frames}
    return StoredScores(scores, snapshot.version, version, snapshot.computed_at, documents)
