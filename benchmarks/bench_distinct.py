"""Distinct vs total rows per modality, and the time deduplication saves in reduction + clustering.

    python benchmarks/bench_distinct.py [--data DIR] [--cache-dir DIR] [--resample 13416]

Embeds the pairs of DIR/pairs.csv with the default models (through the embedding cache), counts
distinct text, image and pair vectors, and times UMAP (50 dims) + K-Means over a K grid in each
space twice: row by row (every repeated vector a separate point) and over distinct vectors
(`clustering_engine.distinct`, as the grid runs). `--resample N` adds a retweet-heavy variant:
N rows drawn with replacement from the pairs (seeded), so pairs repeat as retweets do.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import pandas as pd

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from benchmarks.measure import machine_load  # noqa: E402
from clustering_engine.cache import EmbeddingCache  # noqa: E402
from clustering_engine.cluster import ClusterConfig, cluster  # noqa: E402
from clustering_engine.distinct import (cluster_distinct, distinct_counts,  # noqa: E402
                                        reduce_distinct)
from clustering_engine.embed import embed_images, embed_texts  # noqa: E402
from clustering_engine.embedders import get_embedder  # noqa: E402
from clustering_engine.methods import vector_level_space  # noqa: E402
from clustering_engine.reduce import ReductionConfig, reduce  # noqa: E402

DEFAULT_DATA = os.path.join(REPO, "..", "shared", "data", "mediaeval2016_vmu")
DEFAULT_CACHE = os.path.expanduser("~/.cache/diptych/embeddings")
KS = (3, 4, 5, 6, 7, 8, 9, 10)


def embeddings(data_dir: str, cache_dir: str):
    pairs = pd.read_csv(os.path.join(data_dir, "pairs.csv"))
    cache = EmbeddingCache(cache_dir)
    text = embed_texts(get_embedder("use-multilingual", device="cpu"), pairs["text"].tolist(),
                       cache=cache, progress=False)
    paths = [os.path.join(data_dir, p) for p in pairs["image"]]
    image, failed = embed_images(get_embedder("efficientnet-lite0", device="cpu"), paths,
                                 cache=cache, workers=0, progress=False)
    keep = np.setdiff1d(np.arange(len(pairs)), failed)
    return text[keep], image[keep]


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def row_by_row(X, reduction, config):
    space = reduce(X, reduction).vectors
    for k in KS:
        cluster(space, config, k)


def distinct(X, reduction, config):
    space = reduce_distinct(X, reduction).vectors
    for k in KS:
        cluster_distinct(space, config, k)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=DEFAULT_DATA)
    parser.add_argument("--cache-dir", default=DEFAULT_CACHE)
    parser.add_argument("--resample", type=int, default=13416)
    args = parser.parse_args()
    text, image = embeddings(args.data, args.cache_dir)
    datasets = [("shared pairs.csv", text, image)]
    if args.resample:
        rows = np.random.default_rng(0).integers(0, len(text), size=args.resample)
        datasets.append((f"resampled to {args.resample} rows", text[rows], image[rows]))
    reduction = ReductionConfig(n_components=50, seed=0)
    config = ClusterConfig(algorithm="kmeans", n_init=3, seed=0)
    print(f"# distinct vectors and dedup time saved (UMAP 50 + K-Means K={KS[0]}..{KS[-1]}); "
          f"{machine_load()}")
    reduce(text[:50], reduction)    # compile UMAP's numba code outside the timings
    print(f"{'data':<28}{'space':<8}{'rows':>8}{'distinct':>10}{'row-by-row s':>14}"
          f"{'distinct s':>12}{'saved':>8}")
    for name, t, i in datasets:
        counts = distinct_counts(t, i)
        spaces = {"text": t, "image": i, "pair": vector_level_space(t, i)}
        for space, X in spaces.items():
            full = timed(lambda: row_by_row(X, reduction, config))
            if counts[space] == counts["rows"]:   # nothing repeats: the same work twice
                print(f"{name:<28}{space:<8}{counts['rows']:>8}{counts[space]:>10}{full:>14.1f}"
                      f"{'(same)':>12}{'0%':>8}")
                continue
            dedup = timed(lambda: distinct(X, reduction, config))
            print(f"{name:<28}{space:<8}{counts['rows']:>8}{counts[space]:>10}{full:>14.1f}"
                  f"{dedup:>12.1f}{1 - dedup / full:>8.0%}")


if __name__ == "__main__":
    main()
