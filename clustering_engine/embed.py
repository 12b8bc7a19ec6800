"""Batched embedding runner: dedupes items by content hash, reuses the cache, embeds the rest.

Every `flush_rows` newly embedded items are stored in the cache as one shard, so a run killed
mid-way resumes where it stopped.

Batch invariance: the model is always called with a fixed number of items (the embedder's
`text_call_size` / `image_call_size`; 1 = one item per call), a short last call padded with a fixed
filler. BLAS and oneDNN pick their kernels and summation order from the array shapes, so a vector
computed in a batch of 8 can differ in the last bit from the same content's vector in a batch of 64;
with fixed shapes a content's vector does not depend on its batch companions, the runner's batch
size, the number of decoding workers or what an earlier run put in the cache. Images are decoded in worker processes (torch DataLoader); an
image that cannot be decoded or embedded is reported by row index and gets a zero vector instead
of ending the run.
"""

from __future__ import annotations

import io
import sys
import warnings

import numpy as np

from .cache import EmbeddingCache, file_hash, model_key, text_hash
from .embedders.base import combine_pair_vectors, squashed
from .errors import ConfigError, EngineError, ModelUnavailableError

FLUSH_ROWS = 1024
# What pads a short last model call (its vectors are thrown away): a mid-grey square and an empty text.
FILLER_IMAGE_RGB, FILLER_IMAGE_SIZE, FILLER_TEXT = (128, 128, 128), 224, ""


# ----- image decoding (runs in worker processes: must stay picklable and top-level) -----

def load_image_rgb(path_or_bytes):
    """Decode to an 8-bit RGB PIL image: EXIF rotation applied; palette, alpha (over white),
    CMYK, greyscale and 16-bit/float modes converted. Raises on unreadable files."""
    from PIL import Image, ImageOps

    source = io.BytesIO(path_or_bytes) if isinstance(path_or_bytes, bytes) else path_or_bytes
    with Image.open(source) as img:
        if getattr(img, "n_frames", 1) > 1:
            img.seek(0)  # animated GIF/WebP: the first frame stands for the image
        img.load()  # decode now, so a truncated file fails here and is reported
        img = ImageOps.exif_transpose(img)
        if img.mode == "P":
            img = img.convert("RGBA" if "transparency" in img.info else "RGB")
        if img.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
            arr = np.asarray(img, dtype=np.float64)
            lo, hi = float(arr.min()), float(arr.max())
            scaled = (arr - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(arr)
            img = Image.fromarray(scaled.round().astype(np.uint8), mode="L")
        if img.mode in ("RGBA", "LA", "PA") or (img.mode == "RGB" and "transparency" in img.info):
            rgba = img.convert("RGBA")
            background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            img = Image.alpha_composite(background, rgba)
        return img.convert("RGB") if img.mode != "RGB" else img.copy()


class _ImageFiles:
    """Map-style dataset: i -> (i, RGB image or None, error message or None). With
    ``squash_size`` the image is also resized to that square here, in the decoding worker, by the
    same call the model would make (so the bits are the same): the main process then receives
    small images and does not resize them one by one while the model (a GPU) waits."""

    def __init__(self, paths, squash_size: int | None = None):
        self.paths = list(paths)
        self.squash_size = squash_size

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        try:
            img = load_image_rgb(self.paths[i])
            if self.squash_size:
                img = squashed(img, self.squash_size)
        except Exception as exc:  # any decoder (or resize) failure is data, not a crash
            return i, None, f"{type(exc).__name__}: {exc}"
        return i, img, None


def _as_list(batch):
    return batch


def squash_size(embedder) -> int | None:
    """The square an image model squashes every image to (``embedders.base.squashed``), when it
    declares one; models with their own preprocessing (CLIP's crop) get None."""
    if getattr(embedder, "options", {}).get("resize") != "squash":
        return None
    return getattr(embedder, "image_size", None)


def _decoded_batches(paths, batch_size: int, workers: int, squash: int | None = None):
    """Yield lists of (i, image|None, error|None) in order, decoding in `workers` processes."""
    dataset = _ImageFiles(paths, squash)
    if workers <= 0 or len(paths) <= batch_size:
        for start in range(0, len(paths), batch_size):
            yield [dataset[i] for i in range(start, min(start + batch_size, len(paths)))]
        return
    from torch.utils.data import DataLoader

    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=workers,
                        collate_fn=_as_list, prefetch_factor=2, persistent_workers=False)
    yield from loader


# ----- the runner core -----

def _progress(total: int, desc: str, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="item", disable=not enabled or total == 0,
                dynamic_ncols=True, leave=False)


class _Collector:
    """Accumulates freshly embedded vectors and flushes them to the cache every `flush_rows`."""

    def __init__(self, cache, key, dim, flush_rows, meta):
        self.cache, self.key, self.dim, self.flush_rows, self.meta = cache, key, dim, flush_rows, meta
        self.vectors: dict[str, np.ndarray] = {}
        self._pending: list[str] = []

    def add(self, hashes, vectors):
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.shape != (len(hashes), self.dim):
            raise EngineError(f"embedder returned shape {vectors.shape}, expected {(len(hashes), self.dim)}")
        for h, v in zip(hashes, vectors):
            self.vectors[h] = v
        self._pending.extend(hashes)
        if len(self._pending) >= self.flush_rows:
            self.flush()

    def flush(self):
        if self.cache is not None and self._pending:
            rows = np.stack([self.vectors[h] for h in self._pending])
            self.cache.store(self.key, self._pending, rows, meta=self.meta)
        self._pending = []


def _unique(hashes):
    """Order-preserving {hash: first row} over the rows that have a hash."""
    first = {}
    for row, h in enumerate(hashes):
        if h is not None and h not in first:
            first[h] = row
    return first


def _cached(cache, key, unique_hashes):
    """{hash: vector} for the hashes already in the cache."""
    if cache is None or not unique_hashes:
        return {}
    vectors, found = cache.lookup(key, unique_hashes)
    return dict(zip((h for h, f in zip(unique_hashes, found) if f), vectors))


def _meta(embedder, kind):
    return {"name": embedder.name, "model_id": embedder.model_id, "version": embedder.version,
            "dim": int(embedder.dim), "kind": kind}


def _assemble(n, dim, hashes, known):
    out = np.zeros((n, dim), dtype=np.float32)
    for row, h in enumerate(hashes):
        if h is not None and h in known:
            out[row] = known[h]
    return out


def call_sizes(embedder) -> tuple[int, int]:
    """(texts, images) per model call; an embedder that does not declare them gets one item
    per call, which is batch-invariant for any model."""
    return (max(1, int(getattr(embedder, "text_call_size", 1))),
            max(1, int(getattr(embedder, "image_call_size", 1))))


def _filler_image():
    from PIL import Image

    return Image.new("RGB", (FILLER_IMAGE_SIZE, FILLER_IMAGE_SIZE), FILLER_IMAGE_RGB)


def _fixed_shape_calls(embed, items: list, call_size: int, filler) -> np.ndarray:
    """Embed `items` in calls of exactly `call_size`, the last one padded with `filler`."""
    parts = []
    for start in range(0, len(items), call_size):
        chunk = items[start:start + call_size]
        vectors = np.asarray(embed(chunk + [filler] * (call_size - len(chunk))))
        parts.append(vectors[:len(chunk)])
    return np.concatenate(parts) if parts else np.zeros((0, 0), np.float32)


def precision_policy(embedder) -> dict:
    """How this embedder's vectors are made reproducible: recorded in the run manifest."""
    text_size, image_size = call_sizes(embedder)
    policy = {"dtype": "float32", "device": getattr(embedder, "device", "cpu"),
              "text_call_size": text_size, "image_call_size": image_size,
              "filler": {"text": FILLER_TEXT, "image": f"RGB{FILLER_IMAGE_RGB} "
                                                       f"{FILLER_IMAGE_SIZE}x{FILLER_IMAGE_SIZE}"},
              "batch_invariant": True,
              "note": "every model call has a fixed number of items (a short last call is padded "
                      "with the filler), so a content's vector does not depend on its batch "
                      "companions, the batch size or the worker count; bit-identical on the same "
                      "machine, threads and library versions"}
    threads = getattr(embedder, "threads", None)
    if threads is not None:
        policy["threads"] = int(threads)
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        policy["torch_threads"] = int(torch.get_num_threads())
        if str(policy["device"]).startswith("cuda"):
            policy["cudnn_deterministic"] = bool(torch.backends.cudnn.deterministic)
            policy["tf32"] = bool(torch.backends.cuda.matmul.allow_tf32
                                  or torch.backends.cudnn.allow_tf32)
    return policy


def _check_cache(cache):
    if cache is not None and not isinstance(cache, EmbeddingCache):
        raise ConfigError(f"cache must be an EmbeddingCache, not {type(cache).__name__}")


def embed_texts(embedder, texts, *, cache: EmbeddingCache | None = None, batch_size: int = 64,
                progress: bool = True, flush_rows: int = FLUSH_ROWS) -> np.ndarray:
    """float32 (n, dim) for the texts; each distinct text is embedded once, cached ones never."""
    _check_cache(cache)
    texts = ["" if t is None else str(t) for t in texts]
    hashes = [text_hash(t) for t in texts]
    key = model_key(embedder, "text")
    first = _unique(hashes)
    known = _cached(cache, key, list(first))
    todo = [h for h in first if h not in known]
    collector = _Collector(cache, key, int(embedder.dim), flush_rows, _meta(embedder, "text"))
    with _progress(len(todo), f"embed texts ({embedder.name})", progress) as bar:
        for start in range(0, len(todo), batch_size):
            batch = todo[start:start + batch_size]
            collector.add(batch, _fixed_shape_calls(embedder.embed_texts,
                                                    [texts[first[h]] for h in batch],
                                                    call_sizes(embedder)[0], FILLER_TEXT))
            bar.update(len(batch))
    collector.flush()
    known.update(collector.vectors)
    return _assemble(len(texts), int(embedder.dim), hashes, known)


def embed_images(embedder, image_paths, *, cache: EmbeddingCache | None = None, batch_size: int = 32,
                 workers: int = 2, progress: bool = True, content_hashes=None,
                 flush_rows: int = FLUSH_ROWS,
                 resize_in_workers: bool = True) -> tuple[np.ndarray, list[int]]:
    """(float32 (n, dim), failed row indices). Failed rows (unreadable file, undecodable image,
    or an image the model rejects) hold zeros and are not cached, so a later run retries them.
    ``resize_in_workers`` (same vectors either way) moves a squashing model's resize into the
    decoding workers; False only to measure the difference."""
    _check_cache(cache)
    paths = [str(p) for p in image_paths]
    if content_hashes is not None:
        hashes = [None if h is None else str(h) for h in content_hashes]
        if len(hashes) != len(paths):
            raise ConfigError(f"{len(hashes)} content hashes for {len(paths)} images")
    else:
        hashes = []
        for p in paths:
            try:
                hashes.append(file_hash(p))
            except OSError:
                hashes.append(None)  # unreadable: reported as failed below
    key = model_key(embedder, "image")
    first = _unique(hashes)
    known = _cached(cache, key, list(first))
    todo = [h for h in first if h not in known]
    failed_hashes: dict[str, str] = {}
    collector = _Collector(cache, key, int(embedder.dim), flush_rows, _meta(embedder, "image"))
    with _progress(len(todo), f"embed images ({embedder.name})", progress) as bar:
        # Decoded images wait until whole model calls can be made, so a decoding batch smaller
        # than the call size does not pad (and waste) a call per batch.
        size, pending = call_sizes(embedder)[1], []
        squash = squash_size(embedder) if resize_in_workers else None
        for batch in _decoded_batches([paths[first[h]] for h in todo], batch_size, workers,
                                      squash):
            pending += [(todo[i], img) for i, img, err in batch if img is not None]
            failed_hashes.update({todo[i]: err for i, img, err in batch if img is None})
            ready = len(pending) - len(pending) % size
            if ready:
                _embed_into(collector, failed_hashes, embedder, pending[:ready])
                pending = pending[ready:]
            bar.update(len(batch))
        if pending:
            _embed_into(collector, failed_hashes, embedder, pending)
    collector.flush()
    known.update(collector.vectors)
    failed_rows = [row for row, h in enumerate(hashes) if h is None or h in failed_hashes]
    if failed_rows:
        examples = ", ".join(f"row {r} ({paths[r]})" for r in failed_rows[:3])
        warnings.warn(f"{len(failed_rows)} of {len(paths)} images could not be embedded "
                      f"(zero vectors, flagged as failed): {examples}", stacklevel=2)
    return _assemble(len(paths), int(embedder.dim), hashes, known), failed_rows


def _embed_into(collector, failed_hashes, embedder, items):
    ok_hashes, vectors, errors = _embed_image_batch(embedder, items)
    failed_hashes.update(errors)
    if ok_hashes:
        collector.add(ok_hashes, vectors)


def _embed_image_batch(embedder, items):
    """Embed [(hash, image)]; if the batch fails, retry one by one to isolate the bad images.
    Returns (ok hashes, their vectors, {hash: error}). Re-raises when every image fails, since
    that is a model problem (e.g. out of memory), not bad data."""
    size, filler = call_sizes(embedder)[1], _filler_image()
    try:
        return ([h for h, _ in items],
                _fixed_shape_calls(embedder.embed_images, [img for _, img in items], size, filler),
                {})
    except ModelUnavailableError:
        raise
    except Exception as batch_error:
        ok_hashes, vectors, errors = [], [], {}
        for h, img in items:
            try:
                vectors.append(_fixed_shape_calls(embedder.embed_images, [img], size, filler)[0])
                ok_hashes.append(h)
            except Exception as exc:
                errors[h] = f"{type(exc).__name__}: {exc}"
        if not ok_hashes:
            raise batch_error
        return ok_hashes, np.stack(vectors), errors


def embed_pairs(embedder, texts, image_paths, *, combine: str = "concat",
                cache: EmbeddingCache | None = None, text_batch_size: int = 64,
                image_batch_size: int = 32, workers: int = 2, progress: bool = True,
                content_hashes=None) -> tuple[np.ndarray, list[int]]:
    """Joint vectors for a pair embedder (CLIP): [unit text ; unit image] or their mean.
    Rows whose image failed keep the text half and a zero image half, and are listed as failed."""
    if len(texts) != len(image_paths):
        raise ConfigError(f"{len(texts)} texts but {len(image_paths)} images")
    text_vectors = embed_texts(embedder, texts, cache=cache, batch_size=text_batch_size,
                               progress=progress)
    image_vectors, failed_rows = embed_images(embedder, image_paths, cache=cache,
                                              batch_size=image_batch_size, workers=workers,
                                              progress=progress, content_hashes=content_hashes)
    return combine_pair_vectors(text_vectors, image_vectors, combine), failed_rows
