"""The one home of how a run folder stores its arrays (`embeddings/`, `spaces/`).

Layout `distinct-rows/1` (run format `diptych-engine-run/2`): `<folder>/<name>.npz` (deflated,
lossless; `np.load` reads it) holds
- `distinct`: each distinct row once (exact bytes, the dtype it was given; numbered by first
  appearance, as `distinct.distinct_rows` groups them), and
- `rows`: int32, one entry per row of the run (pairs.parquet order): its row in `distinct`.
`distinct[rows]` is the full per-row array, bit for bit. Social media data repeat themselves
(retweets share a text, hundreds of posts share an image), so this stores a 13,416-pair set with
376 images as 376 image vectors, not 13,416.

Older runs (`diptych-engine-run/1`) stored `<folder>/<name>.npy`, the full per-row array;
`read_array` reads both, so every reader goes through it.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .distinct import distinct_rows

ARRAY_FOLDERS = ("embeddings", "spaces")   # the run folder's subfolders holding arrays
ARRAY_LAYOUT = "distinct-rows/1"
ARRAY_LAYOUT_NOTE = ("<folder>/<name>.npz (deflated): `distinct` (each distinct row once, "
                     "exact bytes) and `rows` (int32, row -> its row in `distinct`); "
                     "distinct[rows] is the per-row array. Runs before this layout: "
                     "<folder>/<name>.npy, per row.")


def write_array(folder: Path, name: str, vectors: np.ndarray) -> dict:
    """Store ``vectors`` (one row per pair) as its distinct rows and a row index; returns what
    the manifest records about it."""
    vectors = np.ascontiguousarray(vectors)
    grouped = distinct_rows(vectors)
    np.savez_compressed(Path(folder) / f"{name}.npz", distinct=vectors[grouped.first],
                        rows=grouped.index.astype(np.int32))
    return {"rows": grouped.n_rows, "distinct": grouped.n_distinct,
            "shape": list(vectors.shape), "dtype": str(vectors.dtype)}


def array_path(folder: Path, name: str) -> Path | None:
    """The file holding array ``name`` in ``folder`` (either layout), or None."""
    for suffix in (".npz", ".npy"):
        path = Path(folder) / f"{name}{suffix}"
        if path.is_file():
            return path
    return None


def read_array(folder: Path, name: str) -> np.ndarray | None:
    """The full per-row array ``name`` of ``folder`` (``embeddings`` or ``spaces`` of a run),
    in either layout; None when the run has no such array."""
    path = array_path(folder, name)
    if path is None:
        return None
    if path.suffix == ".npy":
        return np.load(path, allow_pickle=False)
    with np.load(path, allow_pickle=False) as stored:
        return stored["distinct"][stored["rows"]]


def array_names(folder: Path) -> list[str]:
    """Names of the arrays stored in ``folder`` (either layout), sorted."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted({p.stem for p in folder.iterdir() if p.suffix in (".npz", ".npy")})
