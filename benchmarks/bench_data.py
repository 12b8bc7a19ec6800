"""Benchmark ``load_pairs``: throughput and peak memory per image-check mode.

Data sets: the real MediaEval 2016 table (1,776 pairs, 366 images; skipped if absent) and a
synthetic 300,000-row table (5% of posts with two images) sharing a few thousand small generated
images in a temporary folder. Each case runs in a fresh child process so that its peak RSS
(``ru_maxrss``) is its own; "RSS base" is the child's RSS after imports. "CPU s" is user + system
time of the child and its workers: on a shared machine it is steadier than wall time.

    python benchmarks/bench_data.py [--rows 300000] [--images 3000] [--workers N]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MEDIAEVAL = Path(os.environ.get("DIPTYCH_MEDIAEVAL", REPO.parent / "shared" / "data" / "mediaeval2016_vmu"))
if not MEDIAEVAL.is_dir():
    MEDIAEVAL = Path("/work/shared/data/mediaeval2016_vmu")

WORDS = ("flood storm rescue city photo fake real bridge crowd police river fire night "
         "shark street hurricane bomb earthquake plane search victims news breaking").split()


def make_synthetic(folder: Path, n_rows: int, n_images: int, seed: int = 0) -> Path:
    """Write n_images small JPEGs and an n_rows CSV referencing them; returns the CSV path."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    (folder / "images").mkdir(parents=True, exist_ok=True)
    for i in range(n_images):
        size = int(rng.integers(48, 129))
        base = rng.integers(0, 255, (8, 8, 3), dtype=np.uint8)  # smooth-ish content, small files
        img = Image.fromarray(base).resize((size, size), Image.BILINEAR)
        img.save(folder / "images" / f"img{i:05d}.jpg", quality=85)
    pick = random.Random(seed)
    path = folder / "pairs.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "text", "image", "event"])
        for i in range(n_rows):
            images = [f"images/img{pick.randrange(n_images):05d}.jpg"]
            if pick.random() < 0.05:
                images.append(f"images/img{pick.randrange(n_images):05d}.jpg")
            text = " ".join(pick.choices(WORDS, k=pick.randint(5, 25))) + f" #{i}"
            writer.writerow([str(10**17 + i), text, ";".join(images), f"event{i % 15}"])
    return path


def run_case(table: str, root: str, mode: str, workers: int | None, executor: str) -> dict:
    """Child process: one load_pairs call; prints a JSON line."""
    sys.path.insert(0, str(REPO))
    from clustering_engine.data import load_pairs

    rss_base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    cpu_before = sum(getattr(resource.getrusage(who), f) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
                     for f in ("ru_utime", "ru_stime"))
    start = time.perf_counter()
    result = load_pairs(table, root, check_images=mode, workers=workers, executor=executor)
    seconds = time.perf_counter() - start
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    cpu = sum(getattr(resource.getrusage(who), f) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
              for f in ("ru_utime", "ru_stime")) - cpu_before
    return {"seconds": seconds, "cpu_seconds": cpu, "rows": result.report.n_rows_read, "valid": result.report.n_pairs_valid,
            "images": int(result.pairs.image_path.nunique()),
            "rss_base_mb": rss_base / 1024, "rss_peak_mb": rss_peak / 1024}


def in_child(table: Path, root: Path, mode: str, workers: int | None, executor: str) -> dict:
    cmd = [sys.executable, __file__, "--child", json.dumps([str(table), str(root), mode, workers, executor])]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--images", type=int, default=3_000)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_case(*json.loads(args.child))))
        return

    cases = []
    if (MEDIAEVAL / "pairs.csv").is_file():
        for mode, executor in [("full", "thread"), ("header", "thread"), ("none", "thread"), ("full", "process")]:
            cases.append(("MediaEval 2016", MEDIAEVAL / "pairs.csv", MEDIAEVAL, mode, executor))
    else:
        print(f"(MediaEval data not found at {MEDIAEVAL}: skipped)")
    with tempfile.TemporaryDirectory(prefix="diptych-bench-") as tmp:
        start = time.perf_counter()
        synthetic = make_synthetic(Path(tmp), args.rows, args.images)
        print(f"synthetic data: {args.rows:,} rows, {args.images:,} images, "
              f"written in {time.perf_counter() - start:.1f} s")
        for mode, executor in [("full", "thread"), ("header", "thread"), ("none", "thread"), ("full", "process")]:
            cases.append((f"synthetic {args.rows // 1000}k", synthetic, Path(tmp), mode, executor))

        print(f"CPUs: {os.cpu_count()}, workers: {args.workers or 'default'}\n")
        header = f"{'data':<16} {'check':<7} {'pool':<8} {'rows':>8} {'valid':>8} {'images':>7} " \
                 f"{'time s':>7} {'CPU s':>6} {'rows/s':>9} {'RSS base MB':>12} {'RSS peak MB':>12}"
        print(header)
        print("-" * len(header))
        for name, table, root, mode, executor in cases:
            r = in_child(table, root, mode, args.workers, executor)
            print(f"{name:<16} {mode:<7} {executor:<8} {r['rows']:>8,} {r['valid']:>8,} {r['images']:>7,} "
                  f"{r['seconds']:>7.2f} {r['cpu_seconds']:>6.1f} {r['rows'] / r['seconds']:>9,.0f} "
                  f"{r['rss_base_mb']:>12.0f} {r['rss_peak_mb']:>12.0f}", flush=True)


if __name__ == "__main__":
    main()
