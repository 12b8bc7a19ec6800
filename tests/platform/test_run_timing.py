"""The run page's stage times and time-left estimate, read from the run's stage marks."""
import datetime
from types import SimpleNamespace

import pytest

from projects.services.run_timing import run_timing, stage_marks

UTC = datetime.timezone.utc


def _run(log, progress, finished=None):
    return SimpleNamespace(started_at=datetime.datetime(2026, 12, 7, 23, 59, 0, tzinfo=UTC),
                           finished_at=finished, progress=progress, log=log)


LOG = "[23:59:00] validate\nsome output\n[23:59:30] embed\n[00:01:30] reduce text\n"


def test_stage_seconds_run_to_the_next_mark_across_midnight():
    marks = stage_marks(LOG, _run(LOG, 0).started_at)
    assert [m[0] for m in marks] == ["validate", "embed", "reduce text"]
    assert marks[2][1] == datetime.datetime(2026, 12, 8, 0, 1, 30, tzinfo=UTC)
    now = datetime.datetime(2026, 12, 8, 0, 3, 0, tzinfo=UTC)
    t = run_timing(_run(LOG, 0.4), now=now)
    assert [(s["stage"], s["seconds"], s["current"]) for s in t["stages"]] == [
        ("validate", 30.0, False), ("embed", 120.0, False), ("reduce text", 90.0, True)]
    assert t["elapsed_s"] == 240.0
    assert t["remaining_s"] == pytest.approx(240 * 0.6 / 0.4)


def test_no_estimate_too_early_or_after_the_end():
    now = datetime.datetime(2026, 12, 7, 23, 59, 10, tzinfo=UTC)
    assert run_timing(_run("[23:59:00] validate\n", 0.01), now=now)["remaining_s"] is None
    done = _run(LOG, 1.0, finished=datetime.datetime(2026, 12, 8, 0, 2, 0, tzinfo=UTC))
    t = run_timing(done)
    assert t["remaining_s"] is None and t["stages"][-1]["seconds"] == 30.0
    assert not any(s["current"] for s in t["stages"])
