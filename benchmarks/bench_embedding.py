"""Embedding throughput of the default models on MediaEval 2016 pairs, plus cache hits and CLIP.

    python benchmarks/bench_embedding.py [--texts 512] [--images 256] [--repeats 3] [--device cpu]

Prints one table row per (model, path): median seconds over the repeats and items per second.
Rows: USE text, EfficientNet-Lite0 (model only, and end-to-end runner with decoding workers),
warm-cache reruns (everything is a cache hit), and CLIP ViT-B-32 with random weights (open_clip,
no download) for the cost of the joint model. Distinct items only, so deduplication does not
inflate the figures.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import statistics
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from clustering_engine.cache import EmbeddingCache  # noqa: E402
from clustering_engine.embed import embed_images, embed_texts, load_image_rgb  # noqa: E402
from clustering_engine.embedders import get_embedder  # noqa: E402

DEFAULT_DATA = os.path.join(REPO, "..", "shared", "data", "mediaeval2016_vmu")


def load_pairs(data_dir: str, n_texts: int, n_images: int):
    """First n distinct texts and n distinct image files from pairs.csv."""
    texts, images = {}, {}
    with open(os.path.join(data_dir, "pairs.csv"), newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            texts.setdefault(row["text"], None)
            path = os.path.join(data_dir, row["image"])
            if os.path.isfile(path):
                images.setdefault(path, None)
    return list(texts)[:n_texts], list(images)[:n_images]


def timed(fn, repeats: int, warmup=None) -> float:
    """Median wall time of fn() over `repeats` runs, after a warm-up call (default: fn itself)."""
    (warmup or fn)()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=DEFAULT_DATA)
    parser.add_argument("--texts", type=int, default=512)
    parser.add_argument("--images", type=int, default=256)
    parser.add_argument("--clip-texts", type=int, default=128, help="texts for the CLIP row")
    parser.add_argument("--clip-images", type=int, default=64, help="images for the CLIP row")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu", help="cpu | cuda | auto")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-clip", action="store_true")
    args = parser.parse_args(argv)

    texts, image_paths = load_pairs(args.data, args.texts, args.images)
    decoded = [load_image_rgb(p) for p in image_paths]
    rows = []

    def row(model, path, n, seconds, device):
        rows.append((model, path, n, device, seconds, n / seconds if seconds else float("inf")))
        print(f"  {model:<26} {path:<34} {n:>5} items  {seconds:8.3f} s  {n / seconds:9.1f} /s",
              file=sys.stderr, flush=True)

    use = get_embedder("use-multilingual")
    row("use-multilingual", "embed_texts (model)", len(texts),
        timed(lambda: use.embed_texts(texts), args.repeats, lambda: use.embed_texts(texts[:32])),
        use.device)

    lite = get_embedder("efficientnet-lite0", device=args.device)
    row("efficientnet-lite0", "embed_images (decoded, model)", len(decoded),
        timed(lambda: lite.embed_images(decoded), args.repeats,
              lambda: lite.embed_images(decoded[:8])), lite.device)
    row("efficientnet-lite0", f"runner: decode x{args.workers} + embed", len(image_paths),
        timed(lambda: embed_images(lite, image_paths, workers=args.workers, progress=False),
              args.repeats, lambda: None), lite.device)

    with tempfile.TemporaryDirectory() as root:
        cache = EmbeddingCache(root)
        embed_texts(use, texts, cache=cache, progress=False)
        embed_images(lite, image_paths, cache=cache, workers=args.workers, progress=False)
        row("use-multilingual", "runner: warm cache (all hits)", len(texts),
            timed(lambda: embed_texts(use, texts, cache=EmbeddingCache(root), progress=False),
                  args.repeats), "-")
        row("efficientnet-lite0", "runner: warm cache (hash files)", len(image_paths),
            timed(lambda: embed_images(lite, image_paths, cache=EmbeddingCache(root),
                                       progress=False), args.repeats), "-")

    if not args.no_clip:
        clip = get_embedder("clip:ViT-B-32@random", device=args.device)
        clip_texts, clip_images = texts[:args.clip_texts], decoded[:args.clip_images]
        row("clip ViT-B-32 (random w.)", "embed_texts (model)", len(clip_texts),
            timed(lambda: clip.embed_texts(clip_texts), args.repeats,
                  lambda: clip.embed_texts(clip_texts[:8])), clip.device)
        row("clip ViT-B-32 (random w.)", "embed_images (decoded, model)", len(clip_images),
            timed(lambda: clip.embed_images(clip_images), args.repeats,
                  lambda: clip.embed_images(clip_images[:4])), clip.device)

    import torch

    print(f"\nEmbedding throughput - {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPU cores, torch {torch.__version__} ({torch.get_num_threads()} threads), "
          f"load average {os.getloadavg()[0]:.1f}; median of {args.repeats} runs after a warm-up\n")
    print("| model | path | items | device | median s | items/s |")
    print("|---|---|---:|---|---:|---:|")
    for model, path, n, device, seconds, rate in rows:
        print(f"| {model} | {path} | {n} | {device} | {seconds:.3f} | {rate:,.1f} |")


if __name__ == "__main__":
    main()
