"""The coded posts table written as CSV + JSONL + Parquet (``write_table``) beside the same
table as Stata .dta (``write_stata``) and the data dictionary, on a synthetic table with the
export's columns (no database rows needed): seconds, peak RSS and file sizes per row count.

    python benchmarks/bench_export_stata.py [--rows 100000 750000]
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.databases import setup_django  # noqa: E402
from benchmarks.measure import machine_load, measured, print_table  # noqa: E402


def synthetic_codes(n: int, seed: int = 0):
    """``n`` post codes shaped like the export's coded posts (100 coders, 3 passes, 300
    clusters, one decision in 20 with a note)."""
    import pandas as pd

    from scoring.services.exports.glossary import CODED_POST_COLUMNS

    rng = np.random.default_rng(seed)
    themes = np.array([f"theme {i} — ünïcode" for i in range(400)], dtype=object)
    cluster = rng.integers(0, 300, n)
    decided = rng.random(n) < 0.05
    at = pd.Timestamp("2026-12-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 10**12, n), "us")
    frame = pd.DataFrame({
        "code_id": np.arange(1, n + 1), "round_id": 1, "round_name": "round 1",
        "cluster_sample": np.char.add("C", cluster.astype(str)).astype(object),
        "cluster_label": cluster, "cluster_name": np.where(cluster % 3 == 0, "a named cluster", ""),
        "is_calibration": cluster < 10, "solution_id": "vector-kmeans-k25", "run_id": 1,
        "method": rng.choice(["vector", "label", "text"], n), "algorithm": "kmeans", "k": 25,
        "post": np.char.add("P", rng.integers(0, 10**9, n).astype(str)).astype(object),
        "post_id": rng.integers(0, 10**17, n).astype(str).astype(object),
        "pair_id": rng.integers(0, 10**17, n).astype(str).astype(object),
        "position": rng.integers(0, 10, n),
        "coder": np.char.add("coder_", rng.integers(1, 101, n).astype(str)).astype(object),
        "pass": rng.choice(["text", "image", "joint"], n),
        "theme_raw": themes[rng.integers(0, 400, n)], "theme": themes[rng.integers(0, 100, n)],
        "theme_adjudicated": np.where(decided, themes[rng.integers(0, 100, n)], None),
        "decided_by": np.where(decided, "pi", None),
        "decided_at": pd.Series(at).where(decided),
        "decision_note": np.where(decided, "the photo shows a march, not a flood", None),
        "theme_raw_id": rng.integers(1, 400, n), "theme_merged_id": rng.integers(1, 100, n),
        "version": 1, "codebook_version": rng.integers(0, 50, n),
        "lead_time_s": rng.exponential(4.0, n), "created_at": at, "updated_at": at})
    return frame.reindex(columns=CODED_POST_COLUMNS)


def write_dictionary(frame, folder: Path) -> list[Path]:
    from scoring.services.exports.dictionary import dictionary_files

    paths = []
    for name, text in dictionary_files({"data/coded_posts": frame},
                                       ["data/coded_posts.csv"]).items():
        paths.append(folder / name)
        paths[-1].write_text(text, encoding="utf-8")
    return paths


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 750_000])
    parser.add_argument("--database", default=os.environ.get(
        "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"))
    args = parser.parse_args()
    workdir = setup_django(args.database, "diptych-bench-stata-")   # no query is made

    from scoring.services.exports.stata import write_stata
    from scoring.services.exports.writer import write_table

    rows = []
    for n in args.rows:
        frame = synthetic_codes(n)
        folder = workdir / f"rows-{n}"
        for name, write in (
                ("CSV + JSONL + Parquet", lambda: write_table(frame, folder / "data/coded_posts")),
                ("Stata .dta", lambda: [write_stata(frame, folder / "data/coded_posts.dta",
                                                    "data/coded_posts")]),
                ("data dictionary", lambda: write_dictionary(frame, folder))):
            row = {"rows": n, "part": name}
            with measured(row):
                paths = write()
            row["mib"] = sum(Path(p).stat().st_size for p in paths) / 2**20
            rows.append(row)
            print(f"  {n:,} rows, {name}: {row['seconds']:.1f} s", flush=True)
        del frame
    print_table(rows, ["rows", "part", "seconds", "peak_rss_gib", "mib"],
                f"Coded posts by format (synthetic); {machine_load()}")
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
