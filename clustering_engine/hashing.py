"""Content hashes: the embedding cache's keys, model weight identities, manifest checksums."""
from __future__ import annotations

import hashlib
import os
import threading

_lock = threading.Lock()
_memo: dict[tuple, str] = {}


def text_sha256(text: str) -> str:
    """sha256 hex of a text's UTF-8 bytes."""
    return hashlib.sha256(str(text).encode("utf-8")).hexdigest()


def file_sha256(path) -> str:
    """sha256 hex of a file's bytes, memoised per (path, size, mtime) so repeated loads of the
    same weights or images don't rehash."""
    st = os.stat(path)
    memo_key = (os.path.realpath(path), st.st_size, st.st_mtime_ns)
    with _lock:
        if memo_key in _memo:
            return _memo[memo_key]
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    value = digest.hexdigest()
    with _lock:
        _memo[memo_key] = value
    return value


def bytes_sha256(data: bytes) -> str:
    """sha256 hex of bytes already in memory (an image read once for checking and hashing)."""
    return hashlib.sha256(data).hexdigest()
