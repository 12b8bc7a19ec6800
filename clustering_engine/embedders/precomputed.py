"""Vectors computed elsewhere (OpenAI, Vertex AI, a GPU box), looked up by pair id.

Spec: "precomputed:<file>" with
  file.npy      + sibling `<stem>.ids.txt` (one pair id per line, same order as the rows)
  file.npz      with arrays `ids` and `vectors`
  file.parquet  with an `id` column and either a list column `vector` or numeric columns
Option `modality` ("text" | "image" | "pair", default "pair") says what the vectors stand for.
"""

from __future__ import annotations

import os

import numpy as np

from ..errors import ConfigError, DataError
from .base import Embedder, file_sha256

MODALITIES = ("text", "image", "pair")


def _read_npy(path: str, ids_path: str | None):
    vectors = np.load(path, allow_pickle=False)
    ids_path = ids_path or os.path.splitext(path)[0] + ".ids.txt"
    if not os.path.isfile(ids_path):
        raise DataError(f"{path}: no ids file; write one pair id per line to {ids_path} "
                        f"(or save a .npz with arrays 'ids' and 'vectors')")
    with open(ids_path, encoding="utf-8") as fh:
        ids = [line.strip() for line in fh if line.strip()]
    return ids, vectors, [ids_path]


def _read_npz(path: str):
    with np.load(path, allow_pickle=False) as archive:
        missing = {"ids", "vectors"} - set(archive.files)
        if missing:
            raise DataError(f"{path}: missing array(s) {sorted(missing)}; found {archive.files}")
        return [str(x) for x in archive["ids"].tolist()], archive["vectors"], []


def _read_parquet(path: str):
    try:
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise ConfigError("reading .parquet needs pyarrow: pip install pyarrow") from exc
    table = pq.read_table(path)
    if "id" not in table.column_names:
        raise DataError(f"{path}: no 'id' column (columns: {table.column_names})")
    ids = [str(x) for x in table.column("id").to_pylist()]
    if "vector" in table.column_names:
        rows = table.column("vector").to_pylist()
        if any(r is None for r in rows):
            raise DataError(f"{path}: {sum(r is None for r in rows)} rows have an empty 'vector'")
        lengths = {len(r) for r in rows}
        if len(lengths) > 1:
            raise DataError(f"{path}: 'vector' lists have different lengths {sorted(lengths)[:5]}")
        vectors = np.asarray(rows, dtype=np.float32).reshape(len(rows), -1)
    else:
        import pyarrow.types as pat

        numeric = [name for name, typ in zip(table.column_names, table.schema.types)
                   if name != "id" and (pat.is_floating(typ) or pat.is_integer(typ))]
        if not numeric:
            raise DataError(f"{path}: neither a 'vector' list column nor numeric columns")
        vectors = np.column_stack([table.column(c).to_numpy(zero_copy_only=False) for c in numeric])
    return ids, vectors, []


class PrecomputedEmbedder(Embedder):
    """A table of vectors keyed by pair id; use `vectors_for(pair_ids)`."""

    def __init__(self, path: str = "", *, device: str = "auto", modality: str = "pair",
                 ids_path: str | None = None):
        super().__init__()
        if modality not in MODALITIES:
            raise ConfigError(f"precomputed modality must be one of {MODALITIES}, not {modality!r}")
        path = os.path.abspath(os.path.expanduser(path)) if path else ""
        if not path or not os.path.isfile(path):
            raise DataError(f"precomputed embeddings file {path or '(none)'!r} does not exist")
        self.name = f"precomputed:{path}"
        self.modality = modality
        self.device = "cpu"
        ext = os.path.splitext(path)[1].lower()
        if ext == ".npy":
            ids, vectors, extra_files = _read_npy(path, ids_path)
        elif ext == ".npz":
            ids, vectors, extra_files = _read_npz(path)
        elif ext == ".parquet":
            ids, vectors, extra_files = _read_parquet(path)
        else:
            raise ConfigError(f"precomputed embeddings must be .npy, .npz or .parquet, not {ext!r}")
        vectors = np.ascontiguousarray(np.asarray(vectors, dtype=np.float32))
        if vectors.ndim != 2:
            raise DataError(f"{path}: expected a 2-D array of vectors, got shape {vectors.shape}")
        if len(ids) != vectors.shape[0]:
            raise DataError(f"{path}: {len(ids)} ids but {vectors.shape[0]} vectors")
        bad = ~np.isfinite(vectors).all(axis=1)
        if bad.any():
            raise DataError(f"{path}: {int(bad.sum())} vectors hold NaN/inf (first ids: "
                            f"{[ids[i] for i in np.flatnonzero(bad)[:5]]})")
        self._row_of = {}
        for row, pair_id in enumerate(ids):
            if pair_id in self._row_of:
                raise DataError(f"{path}: pair id {pair_id!r} appears more than once")
            self._row_of[pair_id] = row
        self._vectors = vectors
        self.dim = int(vectors.shape[1])
        self.weights_path = path
        self.weights_sha256 = file_sha256(path)
        extra = "".join(f"+{file_sha256(p)[:8]}" for p in extra_files)
        self.model_id = f"precomputed:{os.path.basename(path)}"
        self.version = f"sha256.{self.weights_sha256[:12]}{extra}"
        self.options = {"modality": modality}

    @property
    def ids(self) -> list[str]:
        return list(self._row_of)

    def vectors_for(self, pair_ids) -> np.ndarray:
        """float32 (n, dim) rows for these pair ids, in this order; DataError naming missing ids."""
        keys = [str(p) for p in pair_ids]
        missing = [k for k in keys if k not in self._row_of]
        if missing:
            raise DataError(f"{self.name}: {len(missing)} of {len(keys)} pair ids have no vector "
                            f"(first: {', '.join(missing[:5])})")
        return self._vectors[[self._row_of[k] for k in keys]]

    def _by_id_only(self, *_):
        raise ConfigError(f"{self.name} holds precomputed vectors: look them up by pair id with "
                          f"vectors_for(pair_ids) instead of embedding content")

    embed_texts = _by_id_only
    embed_images = _by_id_only
