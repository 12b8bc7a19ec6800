"""How long each stage of a run took, and how long the rest should take (our estimate).

The run's log marks each stage's start ("[HH:MM:SS] stage", written by services.runs); the
seconds of a stage run to the next mark (the current stage: to now, or to the end). The time
left is the elapsed time scaled by the progress still to come, elapsed × (1 − p) / p: the
engine's progress fractions are placed by stage, so this is a rough estimate, labelled as one,
and given only once p ≥ ``MIN_PROGRESS_FOR_ESTIMATE``.
"""
from __future__ import annotations

import datetime
import re

from django.utils import timezone

MIN_PROGRESS_FOR_ESTIMATE = 0.05
_MARK = re.compile(r"^\[(\d\d):(\d\d):(\d\d)\] (.+)$", re.MULTILINE)


def stage_marks(log: str, started_at: datetime.datetime) -> list[tuple[str, datetime.datetime]]:
    """(stage, start) from the log's marks, dated from ``started_at`` (a mark earlier in the
    day than the one before it is on the next day)."""
    marks, day, last = [], started_at.date(), None
    tz = started_at.tzinfo or datetime.timezone.utc
    for h, m, s, stage in _MARK.findall(log or ""):
        at = datetime.datetime.combine(day, datetime.time(int(h), int(m), int(s)), tzinfo=tz)
        while last is not None and at < last:
            day += datetime.timedelta(days=1)
            at += datetime.timedelta(days=1)
        if last is None and at < started_at - datetime.timedelta(seconds=1):
            continue   # a mark from an earlier attempt's log
        marks.append((stage.strip(), at))
        last = at
    return marks


def run_timing(run, now: datetime.datetime | None = None) -> dict:
    """{"elapsed_s", "stages": [{"stage", "seconds", "current"}], "remaining_s" (or None),
    "estimate_note"} for a run's page and status JSON."""
    if run.started_at is None:
        return {"elapsed_s": None, "stages": [], "remaining_s": None, "estimate_note": ""}
    end = run.finished_at or now or timezone.now()
    marks = stage_marks(run.log, run.started_at)
    stages = []
    for i, (stage, at) in enumerate(marks):
        until = marks[i + 1][1] if i + 1 < len(marks) else end
        stages.append({"stage": stage, "seconds": max(0.0, (until - at).total_seconds()),
                       "current": i + 1 == len(marks) and run.finished_at is None})
    elapsed = max(0.0, (end - run.started_at).total_seconds())
    remaining = None
    if run.finished_at is None and run.progress >= MIN_PROGRESS_FOR_ESTIMATE:
        remaining = elapsed * (1.0 - run.progress) / run.progress
    return {"elapsed_s": elapsed, "stages": stages, "remaining_s": remaining,
            "estimate_note": "time left: our estimate from the progress so far"}
