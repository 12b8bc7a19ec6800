"""Bytes a run folder holds, by category (figures, embeddings, spaces, tables, report, other):
as the engine writes it now (format diptych-engine-run/2: each distinct vector once, deflated,
run_arrays.py; parquet tables zstd) and in the layout before (every row's vector in a float32
.npy, tables snappy). Sizes on disk in MB (10^6 bytes).

(a) RUN: a real run folder, as stored, and the same folder rewritten in the old layout (arrays
    expanded by read_array, tables rewritten with snappy); --before adds a folder the old
    engine wrote from the same data, as a check of that rewrite.
(b) An estimate for the MediaEval 2016 dev set the shared pairs.csv was curated from: 13,416
    posts over 376 images (the sum of images.csv's n_posts_all). Its arrays are built with the
    real run's names, widths and dtypes: 376 distinct image vectors, and a share of distinct
    texts (--text-shares; a retweet repeats its text and image, so pairs are as distinct as
    texts). Distinct vectors are the real run's distinct rows, resampled; a resampled copy is
    made distinct by flipping the lowest bit of one element, so compression sees real values.
    pairs/labels tables likewise (a retweet repeats its text, labels follow the pair). Arrays
    and tables go through the engine's own writers; figures, report and the other files are
    the real run's (they grow with clusters, not rows).

    nice -n 10 python benchmarks/bench_run_folder_size.py RUN [--before OLD_RUN]
        [--rows 13416 --images 376 --text-shares 0.4,0.6,0.7,1.0]
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from benchmarks.measure import machine_load, print_table  # noqa: E402
from clustering_engine.distinct import distinct_rows  # noqa: E402
from clustering_engine.output import PARQUET_COMPRESSION  # noqa: E402
from clustering_engine.run_arrays import (ARRAY_FOLDERS, array_names, read_array,  # noqa: E402
                                          write_array)

CATEGORIES = ("figures", "embeddings", "spaces", "tables", "report", "other")
OLD_PARQUET_COMPRESSION = "snappy"   # pandas' default, what runs before format /2 used
TABLES = ("pairs.parquet", "labels.parquet")


def category(relative: Path) -> str:
    top = relative.parts[0]
    if top in ("figures", *ARRAY_FOLDERS):
        return top
    if relative.suffix == ".parquet":
        return "tables"
    return "report" if relative.name == "report.html" else "other"


def megabytes_by_category(folder: Path) -> dict:
    sizes = dict.fromkeys(CATEGORIES, 0)
    for path in folder.rglob("*"):
        if path.is_file():
            sizes[category(path.relative_to(folder))] += path.stat().st_size
    return {c: b / 1e6 for c, b in sizes.items()} | {"total": sum(sizes.values()) / 1e6}


def write_arrays(folder: Path, arrays: dict, old_layout: bool) -> float:
    """Write ``{"spaces/vector": rows, ...}`` in one layout; returns the seconds it took."""
    started = time.perf_counter()
    for key, rows in arrays.items():
        where, name = key.split("/")
        (folder / where).mkdir(parents=True, exist_ok=True)
        if old_layout:
            np.save(folder / where / f"{name}.npy", rows)
        else:
            write_array(folder / where, name, rows)
    return time.perf_counter() - started


def write_tables(folder: Path, tables: dict, old_layout: bool) -> None:
    for name, frame in tables.items():
        frame.to_parquet(folder / name, index=False,
                         compression=OLD_PARQUET_COMPRESSION if old_layout else PARQUET_COMPRESSION)


def copy_other_files(run: Path, target: Path) -> None:
    """Every file of ``run`` but its arrays and tables (figures, report, manifest, ...)."""
    shutil.copytree(run, target, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("*.npy", "*.npz", *TABLES))


def run_arrays(run: Path) -> dict:
    return {f"{where}/{name}": read_array(run / where, name)
            for where in ARRAY_FOLDERS for name in array_names(run / where)}


def real_run_table(run: Path, before: Path | None) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp) / "old-layout"
        copy_other_files(run, old)
        write_arrays(old, run_arrays(run), old_layout=True)
        write_tables(old, {t: pd.read_parquet(run / t) for t in TABLES}, old_layout=True)
        columns = {"old_layout_mb": megabytes_by_category(old),
                   "as_stored_mb": megabytes_by_category(run)}
    if before is not None:
        columns = {"old_engine_mb": megabytes_by_category(before), **columns}
    return [{"category": c, **{k: v[c] for k, v in columns.items()}}
            for c in (*CATEGORIES, "total")]


# ------------------------------------------------------------------ (b) the 13,416-post estimate

def row_groups(n_rows: int, n_images: int, text_share: float, rng) -> dict:
    """Per row: its distinct text and image; every distinct text has one image (its post),
    every image at least one text; the remaining rows repeat a text (retweets)."""
    n_texts = max(n_images, round(text_share * n_rows))
    image_of_text = np.concatenate([np.arange(n_images),
                                    rng.integers(0, n_images, n_texts - n_images)])
    text = rng.permutation(np.concatenate([np.arange(n_texts),
                                           rng.integers(0, n_texts, n_rows - n_texts)]))
    return {"text": text, "image": image_of_text[text], "pair": text}


def resampled_distinct(base: np.ndarray, n: int, rng) -> np.ndarray:
    """``n`` distinct rows: ``base``'s rows in a random order, then copies of them, each copy
    of a row made distinct by flipping the lowest bit of a different element."""
    picks = np.concatenate([rng.permutation(len(base)),
                            rng.integers(0, len(base), max(0, n - len(base)))])[:n]
    out = base[picks].copy()
    bits = out.view(np.dtype(f"u{out.dtype.itemsize}"))
    copy_number = np.zeros(n, dtype=np.int64)
    seen: dict[int, int] = {}
    for i, p in enumerate(picks):
        copy_number[i] = seen.get(int(p), 0)
        seen[int(p)] = copy_number[i] + 1
    copies = np.flatnonzero(copy_number)
    bits[copies, (copy_number[copies] - 1) % out.shape[1]] ^= 1
    return out


def group_of(key: str) -> str:
    name = key.split("/")[1]
    return "text" if name.startswith("text") else "image" if name.startswith("image") else "pair"


def synthetic_arrays(real: dict, groups: dict, rng) -> dict:
    out = {}
    for key, rows in real.items():
        if key == "spaces/label" and _side_by_side(real):
            continue
        base = rows[distinct_rows(rows).first]
        ids = groups[group_of(key)]
        out[key] = resampled_distinct(base, int(ids.max()) + 1, rng)[ids]
    if "spaces/label" in real and "spaces/label" not in out:
        out["spaces/label"] = np.hstack([out["spaces/text"], out["spaces/image"]])
    return out


def _side_by_side(real: dict) -> bool:
    """The label-level space is the text and image spaces side by side (reduced label space)."""
    parts = [real.get(f"spaces/{n}") for n in ("text", "image")]
    return all(p is not None for p in parts) and np.array_equal(
        np.hstack(parts).view(np.uint8), real["spaces/label"].view(np.uint8))


def synthetic_tables(run: Path, groups: dict, rng) -> tuple[dict, list[str]]:
    """pairs and labels tables for the rows: a distinct text is a real row's (its labels too);
    a resampled copy gets its text suffixed by the copy's number; retweets repeat both."""
    pairs, labels = (pd.read_parquet(run / t) for t in TABLES)
    text_group = groups["pair"]
    n_texts = int(text_group.max()) + 1
    base = np.concatenate([rng.permutation(len(pairs)),
                           rng.integers(0, len(pairs), max(0, n_texts - len(pairs)))])[:n_texts]
    rows = base[text_group]
    ids = [str(10**17 + i) for i in range(len(rows))]
    new_pairs = pairs.iloc[rows].reset_index(drop=True)
    copy_of_text = pd.Series(base).groupby(base).cumcount().to_numpy()[text_group]
    new_pairs["text"] = [t if c == 0 else f"{t} {c}"
                         for t, c in zip(new_pairs["text"], copy_of_text)]
    for column in ("pair_id", "post_id"):
        if column in new_pairs:
            new_pairs[column] = ids
    new_labels = labels.iloc[rows].reset_index(drop=True)
    new_labels["pair_id"] = ids
    return {"pairs.parquet": new_pairs, "labels.parquet": new_labels}, ids


def estimate_table(run: Path, n_rows: int, n_images: int, shares: list[float]) -> list[dict]:
    real = run_arrays(run)
    columns, seconds = {}, {}
    for share in shares:
        rng = np.random.default_rng(0)
        groups = row_groups(n_rows, n_images, share, rng)
        arrays = synthetic_arrays(real, groups, rng)
        tables, ids = synthetic_tables(run, groups, rng)
        for old_layout, label in ((True, "before"), (False, "after")):
            with tempfile.TemporaryDirectory() as tmp:
                folder = Path(tmp)
                copy_other_files(run, folder)
                (folder / "embeddings" / "pair_ids.txt").write_text("\n".join(ids) + "\n")
                seconds[f"{label}_{share:.0%}"] = write_arrays(folder, arrays, old_layout)
                write_tables(folder, tables, old_layout)
                columns[f"{label}_{share:.0%}"] = megabytes_by_category(folder)
    rows = [{"category": c, **{k: v[c] for k, v in columns.items()}}
            for c in (*CATEGORIES, "total")]
    return rows + [{"category": "array write seconds", **seconds}]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="a run folder written by the current engine")
    parser.add_argument("--before", type=Path, help="the same run written by the old engine")
    parser.add_argument("--rows", type=int, default=13_416)
    parser.add_argument("--images", type=int, default=376)
    parser.add_argument("--text-shares", default="0.4,0.6,0.7,1.0")
    args = parser.parse_args()
    rows = real_run_table(args.run, args.before)
    print_table(rows, list(rows[0]), f"{args.run}: MB by category; {machine_load()}")
    shares = [float(s) for s in args.text_shares.split(",")]
    rows = estimate_table(args.run, args.rows, args.images, shares)
    print_table(rows, ["category"] + [f"{w}_{s:.0%}" for s in shares for w in ("before", "after")],
                f"Estimate, {args.rows:,} posts over {args.images} images, by share of distinct "
                f"texts (before = old layout, after = as written now), MB; {machine_load()}")


if __name__ == "__main__":
    main()
