"""Content-addressed, append-only, memory-mapped embedding cache.

A vector is keyed by (embedder.model_id, embedder.version, sha256 of the item's content: the
UTF-8 text, or the image file's bytes). Layout under `root`:

    <root>/<sanitised-name>-<sha256(model_id, version, kind)[:16]>/
        model.json           who wrote this folder (for humans; not read back)
        shard-00000.npy      float32 (rows, dim)
        shard-00000.keys     one hex content hash per row, same order

Design note - why this survives crashes and concurrent runs without locks:
- Shards are immutable once written. A shard's .npy is written to a temp file, fsynced and then
  *linked* to its final name (os.link fails if the name exists, so two writers never clobber each
  other: the loser takes the next number). The .keys file is written afterwards, also via a temp
  file + os.replace; readers only trust shards whose .keys exists and whose row counts match, so a
  run killed between the two writes leaves an ignored .npy, never a wrong vector.
- Readers map shards with np.load(mmap_mode="r"): lookups touch only the pages of the rows they
  need, and a cache far larger than RAM costs nothing until used.
- If the same hash is stored twice (two concurrent runs), the first shard wins; both are valid.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import threading
import warnings

import numpy as np

from .errors import EngineError
from .hashing import file_sha256, text_sha256

SHARD_RE = re.compile(r"^shard-(\d{5,})\.(npy|keys)$")


def text_hash(text: str) -> str:
    """sha256 hex of a text's UTF-8 bytes (the cache key of a text)."""
    return text_sha256(text)


def file_hash(path: str) -> str:
    """sha256 hex of a file's bytes (the cache key of an image)."""
    return file_sha256(path)


def model_key(embedder, kind: str = "") -> str:
    """Folder name for one model identity: readable prefix + hash of (model_id, version, kind).

    `kind` ("text" / "image") keeps the two towers of a joint model apart.
    """
    identity = "\0".join([str(embedder.model_id), str(embedder.version), kind])
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{embedder.name}-{kind}" if kind else embedder.name)
    readable = readable.strip("._-")[:48] or "model"
    return f"{readable}-{text_sha256(identity)[:16]}"


class _ModelIndex:
    """Hash -> (shard number, row) for one model folder, refreshed as shards appear."""

    def __init__(self):
        self.row_of: dict[str, tuple[int, int]] = {}
        self.shards: dict[int, np.ndarray] = {}  # shard number -> memory-mapped float32 array
        self.rejected: set[int] = set()  # unreadable/inconsistent shards: warned about once
        self.dim: int | None = None


class EmbeddingCache:
    """Embedding cache under `root` (created on first store). Thread-safe within one process."""

    def __init__(self, root: str):
        self.root = os.path.abspath(os.path.expanduser(str(root)))
        self._indexes: dict[str, _ModelIndex] = {}
        self._lock = threading.RLock()

    # ----- paths and index -----
    def model_dir(self, key: str) -> str:
        if not key or os.sep in key or key.startswith("."):
            raise EngineError(f"invalid cache model key {key!r}")
        return os.path.join(self.root, key)

    def _refresh(self, key: str) -> _ModelIndex:
        """Load any shard written since the last look (by this or another process)."""
        index = self._indexes.setdefault(key, _ModelIndex())
        folder = self.model_dir(key)
        if not os.path.isdir(folder):
            return index
        shard_numbers = sorted({int(m.group(1)) for m in map(SHARD_RE.match, os.listdir(folder))
                                if m and m.group(2) == "keys"})
        for number in shard_numbers:
            if number not in index.shards and number not in index.rejected:
                self._load_shard(folder, number, index)
        return index

    def _load_shard(self, folder: str, number: int, index: _ModelIndex) -> None:
        npy_path = os.path.join(folder, f"shard-{number:05d}.npy")
        keys_path = os.path.join(folder, f"shard-{number:05d}.keys")
        try:
            vectors = np.load(npy_path, mmap_mode="r")
            with open(keys_path, encoding="ascii") as fh:
                keys = fh.read().split()
        except (OSError, ValueError) as exc:
            warnings.warn(f"embedding cache: ignoring unreadable shard {npy_path}: {exc}")
            index.rejected.add(number)
            return
        if vectors.ndim != 2 or vectors.dtype != np.float32 or len(keys) != vectors.shape[0]:
            warnings.warn(f"embedding cache: ignoring inconsistent shard {npy_path} "
                          f"({vectors.shape}, {vectors.dtype}, {len(keys)} keys)")
            index.rejected.add(number)
            return
        if index.dim is not None and vectors.shape[1] != index.dim:
            warnings.warn(f"embedding cache: ignoring shard {npy_path} of dim {vectors.shape[1]} "
                          f"(folder holds dim {index.dim})")
            index.rejected.add(number)
            return
        index.dim = int(vectors.shape[1])
        index.shards[number] = vectors
        for row, item_hash in enumerate(keys):
            index.row_of.setdefault(item_hash, (number, row))

    # ----- public API -----
    def lookup(self, key: str, hashes) -> tuple[np.ndarray, np.ndarray]:
        """(vectors of the found hashes, in order, as float32 (n_found, dim); bool mask (n,) found).

        Rows are gathered from memory-mapped shards, so only the pages needed are read.
        """
        hashes = list(hashes)
        with self._lock:
            index = self._refresh(key)
            places = [index.row_of.get(h) for h in hashes]
            found = np.fromiter((p is not None for p in places), dtype=bool, count=len(hashes))
            dim = index.dim or 0
            out = np.empty((int(found.sum()), dim), dtype=np.float32)
            by_shard: dict[int, tuple[list[int], list[int]]] = {}
            for out_row, place in enumerate(p for p in places if p is not None):
                dest, rows = by_shard.setdefault(place[0], ([], []))
                dest.append(out_row)
                rows.append(place[1])
            for number, (dest, rows) in by_shard.items():
                out[dest] = index.shards[number][rows]
        return out, found

    def contains(self, key: str, hashes) -> np.ndarray:
        """Bool mask: which hashes are cached (reads no vectors)."""
        with self._lock:
            index = self._refresh(key)
            return np.fromiter((h in index.row_of for h in hashes), dtype=bool)

    def store(self, key: str, hashes, vectors, *, meta: dict | None = None) -> int:
        """Append the vectors of hashes not cached yet as one new shard; returns rows written."""
        hashes = [str(h) for h in hashes]
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[0] != len(hashes):
            raise EngineError(f"cache store: {len(hashes)} hashes but vectors of shape {vectors.shape}")
        if any(not h or not h.isascii() or any(c.isspace() for c in h) for h in hashes):
            raise EngineError("cache store: content hashes must be non-empty ASCII without spaces")
        if not np.isfinite(vectors).all():
            raise EngineError("cache store: refusing to cache non-finite vectors")
        with self._lock:
            index = self._refresh(key)
            if index.dim is not None and vectors.shape[1] != index.dim:
                raise EngineError(f"cache store: dim {vectors.shape[1]} != cached dim {index.dim} "
                                  f"for model key {key!r}")
            new_rows, seen = [], set()
            for row, item_hash in enumerate(hashes):
                if item_hash not in index.row_of and item_hash not in seen:
                    seen.add(item_hash)
                    new_rows.append(row)
            if not new_rows:
                return 0
            folder = self.model_dir(key)
            os.makedirs(folder, exist_ok=True)
            self._write_meta(folder, meta)
            number = self._write_shard(folder, [hashes[r] for r in new_rows],
                                       np.ascontiguousarray(vectors[new_rows]))
            self._load_shard(folder, number, index)
            return len(new_rows)

    def shard_arrays(self, key: str) -> list[np.ndarray]:
        """The model's shards as read-only memory-mapped arrays (np.memmap), in shard order."""
        with self._lock:
            index = self._refresh(key)
            return [index.shards[n] for n in sorted(index.shards)]

    def count(self, key: str) -> int:
        """Number of distinct items cached for this model key."""
        with self._lock:
            return len(self._refresh(key).row_of)

    # ----- writing -----
    @staticmethod
    def _atomic_write(folder: str, final_name: str, write) -> None:
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=folder)
        try:
            with os.fdopen(fd, "wb") as fh:
                write(fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, os.path.join(folder, final_name))
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def _write_shard(self, folder: str, hashes: list[str], vectors: np.ndarray) -> int:
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npy", dir=folder)
        try:
            with os.fdopen(fd, "wb") as fh:
                np.save(fh, vectors, allow_pickle=False)
                fh.flush()
                os.fsync(fh.fileno())
            existing = [int(m.group(1)) for m in map(SHARD_RE.match, os.listdir(folder)) if m]
            number = max(existing, default=-1) + 1
            while True:  # claim a shard number no other writer holds
                try:
                    os.link(tmp, os.path.join(folder, f"shard-{number:05d}.npy"))
                    break
                except FileExistsError:
                    number += 1
        finally:
            os.unlink(tmp)
        payload = ("\n".join(hashes) + "\n").encode("ascii")
        self._atomic_write(folder, f"shard-{number:05d}.keys", lambda fh: fh.write(payload))
        return number

    def _write_meta(self, folder: str, meta: dict | None) -> None:
        if meta is None or os.path.exists(os.path.join(folder, "model.json")):
            return
        text = json.dumps(meta, indent=2, sort_keys=True, default=str).encode()
        self._atomic_write(folder, "model.json", lambda fh: fh.write(text))
