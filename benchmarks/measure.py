"""Timing and peak-memory measurement shared by the benchmark scripts.

Peak memory is the process's resident set size sampled every 20 ms by a thread (it sees
numpy, numba and C allocations alike, unlike tracemalloc), reported as the peak during the
step and the increase over the RSS before it.
"""
from __future__ import annotations

import contextlib
import threading
import time


def rss_bytes() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


@contextlib.contextmanager
def measured(row: dict):
    """Fills ``row`` with seconds, peak_rss_gib and delta_rss_gib for the block."""
    before = rss_bytes()
    peak = [before]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], rss_bytes())
            stop.wait(0.02)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    started = time.perf_counter()
    try:
        yield row
    finally:
        row["seconds"] = time.perf_counter() - started
        stop.set()
        thread.join()
        peak[0] = max(peak[0], rss_bytes())
        row["peak_rss_gib"] = peak[0] / 2**30
        row["delta_rss_gib"] = (peak[0] - before) / 2**30


class StagePeaks:
    """Peak RSS per named stage of a long step (the stage is set by a progress callback): says
    which part of a step its peak belongs to. Stop with ``close()``."""

    def __init__(self):
        self.stage: str | None = None
        self.peaks: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self):
        while not self._stop.is_set():
            stage = self.stage
            if stage is not None:
                self.peaks[stage] = max(self.peaks.get(stage, 0.0), rss_bytes() / 2**30)
            self._stop.wait(0.02)

    def close(self) -> dict[str, float]:
        self._stop.set()
        self._thread.join()
        return self.peaks


def machine_load() -> str:
    """The 1/5/15-minute load averages and core count, for table headers (figures taken on a
    shared machine are only comparable at similar load)."""
    import os

    one, five, fifteen = os.getloadavg()
    return f"load average {one:.1f}/{five:.1f}/{fifteen:.1f} on {os.cpu_count()} cores"


def percentile(values, q: float):
    """The q-quantile (0..1) by nearest rank; None for no values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else None


def time_page(client, url: str, n: int) -> list[float]:
    """Seconds for each of n GETs of ``url`` after one warm-up (template compile, caches)."""
    client.get(url)
    times = []
    for _ in range(n):
        started = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, (url, response.status_code)
    return times


def print_table(rows: list[dict], columns: list[str], title: str = "") -> None:
    if title:
        print(f"\n{title}")
    widths = {c: max(len(c), *(len(_cell(r.get(c))) for r in rows)) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns))
    print("  ".join("-" * widths[c] for c in columns))
    for r in rows:
        print("  ".join(_cell(r.get(c)).ljust(widths[c]) for c in columns))


def _cell(v) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.3f}" if abs(v) < 1000 else f"{v:.0f}"
    return str(v)
