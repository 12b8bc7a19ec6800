"""Image strings to checked files: the allowed-roots path policy, and the parallel check of
every distinct file (existence, decoding, content hash) done once per load."""
from __future__ import annotations

import os
import re
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from typing import Callable

from .validation import CheckMode, ImageCheck, check_image_chunk, is_under

_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


class PathPolicy:
    """Resolves image strings to absolute lexical paths and applies the allowed-roots rule."""

    def __init__(self, base: str, roots: list[str] | None):
        self.base = base
        self.roots = roots
        self.real_roots = tuple(os.path.realpath(r) for r in roots) if roots else None
        # a root given through a symlink may be written either way in the table
        self.lexical_roots = tuple(roots) + self.real_roots if roots else None

    def resolve(self, image: str) -> tuple[str | None, str | None, str]:
        """(lexical absolute path, reason, message); reason None when the path may be checked."""
        if _URL.match(image):
            return None, "url_not_supported", f"{image} is a URL; download the images and list local paths"
        if "\x00" in image:
            return None, "invalid_path", f"{image!r} contains a NUL character"
        path = os.path.normpath(image if os.path.isabs(image) else os.path.join(self.base, image))
        if self.lexical_roots is not None and not is_under(path, self.lexical_roots):
            return None, "path_outside_root", (
                f"{image} resolves to {path}, outside the allowed roots ({', '.join(self.roots)})")
        return path, None, ""


def check_image_files(
    paths: list[str],
    mode: CheckMode,
    real_roots: tuple[str, ...] | None,
    max_image_pixels: int | None,
    hash_bytes: bool,
    workers: int | None,
    executor: str,
    progress: bool | Callable[[int, int], None],
) -> dict[str, ImageCheck]:
    """Check distinct files in parallel chunks; returns lexical path -> ImageCheck."""
    total = len(paths)
    if workers is None:
        workers = min(32, (os.cpu_count() or 1) + 4) if executor == "thread" else (os.cpu_count() or 1)
    chunk_size = max(1, min(64, total // (max(workers, 1) * 4) or 1))
    chunks = [paths[i:i + chunk_size] for i in range(0, total, chunk_size)]
    args = (mode, real_roots, max_image_pixels, hash_bytes)

    bar = None
    if progress is True:
        from tqdm.auto import tqdm

        bar = tqdm(total=total, unit="img", desc="checking images")
    done = 0

    def advance(n: int) -> None:
        nonlocal done
        done += n
        if bar is not None:
            bar.update(n)
        elif callable(progress):
            progress(done, total)

    results: dict[str, ImageCheck] = {}
    try:
        if workers <= 1 or len(chunks) <= 1:
            for chunk in chunks:
                results.update(zip(chunk, check_image_chunk(chunk, *args)))
                advance(len(chunk))
        else:
            pool: Executor
            if executor == "process":
                import multiprocessing

                # spawn: forking a process that runs threads (tqdm, the caller's) can deadlock
                pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
            else:
                pool = ThreadPoolExecutor(workers, thread_name_prefix="image-check")
            with pool:
                futures = {pool.submit(check_image_chunk, chunk, *args): chunk for chunk in chunks}
                for future in as_completed(futures):
                    chunk = futures[future]
                    results.update(zip(chunk, future.result()))
                    advance(len(chunk))
    finally:
        if bar is not None:
            bar.close()
    return results
