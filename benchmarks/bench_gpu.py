"""The GPU embedding path measured beside the CPU one: speed, and whether the vectors (and the
labels made from them) are the same.

    python benchmarks/bench_gpu.py --devices cpu,cuda [--images 64] [--tile 1024] [--repeats 3]
        [--workers 8] [--allow-tf32]

Model rows (median of the repeats after a warm-up): each device runs the images through the
engine's own fixed-shape calls (`image_call_size` items per call, the last one padded, exactly
as `embed.embed_images` does), and once more with 256 images per call to show what a larger
call size would buy on that device. Distinct images are tiled to `--tile` items so a GPU has
enough work; decoding is done once beforehand (it is CPU work on any machine).

Runner rows (EfficientNet-Lite0, the default image model): the engine's whole image path,
`embed.embed_images` over `--tile` distinct JPEG files (variants of the distinct images, so
nothing is deduplicated) with `--workers` decoding processes and no cache, once with the resize
in the decoding workers (the engine's default) and once in the model call (as before).

Reproducibility rows, per model: a second pass on the same device (bit-identical or not), the
same image embedded beside different companions (batch invariance), and CPU against GPU: the
largest absolute difference, the smallest cosine between the two vectors of one image, and the
agreement (ARI) of K-Means labels fitted on each device's vectors with the same seed.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import statistics
import sys
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from clustering_engine.embed import (_filler_image, _fixed_shape_calls,  # noqa: E402
                                     call_sizes, embed_images, load_image_rgb)
from clustering_engine.embedders import get_embedder  # noqa: E402

DEFAULT_DATA = os.path.join(REPO, "..", "shared", "data", "mediaeval2016_vmu")
MODELS = ("efficientnet-lite0", "clip:ViT-B-32@random")


def distinct_images(data_dir: str, n: int) -> list:
    paths = {}
    with open(os.path.join(data_dir, "pairs.csv"), newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            path = os.path.join(data_dir, row["image"])
            if os.path.isfile(path):
                paths.setdefault(path, None)
    return [load_image_rgb(p) for p in list(paths)[:n]]


def distinct_files(images, n: int, folder: str) -> list[str]:
    """n distinct JPEG files: the images with 0, 1, 2, ... pixels cut from the left edge."""
    paths = []
    for i in range(n):
        img = images[i % len(images)]
        cut = i // len(images)
        path = os.path.join(folder, f"{i:05d}.jpg")
        img.crop((cut, 0, img.width, img.height)).save(path, quality=90)
        paths.append(path)
    return paths


def median_seconds(fn, repeats: int, sync) -> float:
    fn()
    sync()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def engine_calls(embedder, images, call_size=None) -> np.ndarray:
    size = call_size or call_sizes(embedder)[1]
    return _fixed_shape_calls(embedder.embed_images, list(images), size, _filler_image())


def label_agreement(a: np.ndarray, b: np.ndarray, k: int) -> float:
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score

    fit = lambda x: KMeans(k, n_init=1, random_state=0).fit_predict(x)  # noqa: E731
    return float(adjusted_rand_score(fit(a), fit(b)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=DEFAULT_DATA)
    parser.add_argument("--images", type=int, default=64, help="distinct images read")
    parser.add_argument("--tile", type=int, default=1024, help="items per timed pass")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--devices", default="cpu,cuda")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--workers", type=int, default=8, help="decoding processes (runner rows)")
    parser.add_argument("--allow-tf32", action="store_true",
                        help="turn cuDNN's and cuBLAS's TF32 back on after the engine switched "
                             "it off (how the engine embedded on a GPU before), to measure it")
    parser.add_argument("--k", type=int, default=8, help="K-Means K for the label agreement")
    args = parser.parse_args(argv)

    import torch

    devices = [d for d in args.devices.split(",") if d]
    distinct = distinct_images(args.data, args.images)
    tiled = (distinct * (args.tile // len(distinct) + 1))[:args.tile]
    speed, repro = [], []
    import tempfile

    folder = tempfile.mkdtemp(prefix="bench-gpu-")
    files = distinct_files(distinct, args.tile, folder)
    for spec in args.models.split(","):
        vectors = {}
        for device in devices:
            embedder = get_embedder(spec, device=device)
            if args.allow_tf32:
                torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = True
            sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
            size = call_sizes(embedder)[1]
            for label, call_size in ((f"engine calls of {size}", size), ("calls of 256", 256)):
                seconds = median_seconds(lambda: engine_calls(embedder, tiled, call_size),
                                         args.repeats, sync)
                speed.append((spec, device, label, len(tiled), seconds))
                print(f"  {spec} {device} {label}: {len(tiled) / seconds:.1f} images/s",
                      file=sys.stderr, flush=True)
            if spec == "efficientnet-lite0":
                for label, in_workers in (("runner, resize in decoding workers", True),
                                          ("runner, resize in the model call", False)):
                    seconds = median_seconds(lambda: embed_images(
                        embedder, files, workers=args.workers, batch_size=64, progress=False,
                        resize_in_workers=in_workers), args.repeats, sync)
                    speed.append((spec, device, f"{label} (x{args.workers})", len(files), seconds))
                    print(f"  {spec} {device} {label}: {len(files) / seconds:.1f} images/s",
                          file=sys.stderr, flush=True)
            first = engine_calls(embedder, distinct)
            second = engine_calls(embedder, distinct)
            shuffled_order = np.random.default_rng(1).permutation(len(distinct))
            companions = engine_calls(embedder, [distinct[i] for i in shuffled_order])
            unshuffled = np.empty_like(companions)
            unshuffled[shuffled_order] = companions
            repro.append((spec, device, "second pass, same device: max |diff|",
                          float(np.abs(first - second).max())))
            repro.append((spec, device, "other batch companions: max |diff|",
                          float(np.abs(first - unshuffled).max())))
            vectors[device] = first
            del embedder
        if "cpu" in vectors:
            for device, gpu in vectors.items():
                if device == "cpu":
                    continue
                cpu = vectors["cpu"]
                cos = (cpu * gpu).sum(1) / (np.linalg.norm(cpu, axis=1) * np.linalg.norm(gpu, axis=1))
                repro.append((spec, f"cpu vs {device}", "max |diff|", float(np.abs(cpu - gpu).max())))
                repro.append((spec, f"cpu vs {device}", "min cosine", float(cos.min())))
                repro.append((spec, f"cpu vs {device}", f"K-Means K={args.k} labels ARI",
                              label_agreement(cpu, gpu, args.k)))

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    print(f"\nGPU embedding path - {gpu}; {platform.machine()}, {os.cpu_count()} CPU cores, "
          f"torch {torch.__version__} ({torch.get_num_threads()} CPU threads), "
          f"TF32 matmul {torch.backends.cuda.matmul.allow_tf32}, TF32 cuDNN "
          f"{torch.backends.cudnn.allow_tf32}, cudnn.deterministic "
          f"{torch.backends.cudnn.deterministic}; {len(distinct)} distinct images tiled to "
          f"{args.tile}, median of {args.repeats} passes after a warm-up\n")
    print("| model | device | calls | images | median s | images/s |")
    print("|---|---|---|---:|---:|---:|")
    for spec, device, label, n, seconds in speed:
        print(f"| {spec} | {device} | {label} | {n} | {seconds:.3f} | {n / seconds:,.1f} |")
    print("\n| model | devices | check | value |")
    print("|---|---|---|---:|")
    for spec, device, check, value in repro:
        print(f"| {spec} | {device} | {check} | {value:.3g} |")


if __name__ == "__main__":
    main()
