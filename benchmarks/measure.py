"""Timing and peak-memory measurement shared by the benchmark scripts.

Peak memory is the process's resident set size sampled every 20 ms by a thread (it sees
numpy, numba and C allocations alike, unlike tracemalloc), reported as the peak during the
step and the increase over the RSS before it.
"""
from __future__ import annotations

import contextlib
import statistics
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


def median_seconds(fn, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


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
