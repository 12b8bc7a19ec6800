"""Synthetic text+image embeddings that are hard in the ways real social-media data is hard.

The older generator (``bench_grid.synthetic_pairs``) separates its topics so well that PCA alone
matches a full UMAP fit. This one follows what the paper reports on CASM:

* **Nearly independent modalities.** A pair's image topic follows its text topic (through a
  fixed map) only for a small share of pairs (``coupling``); otherwise it is drawn on its own.
  The AMI between the text-topic and image-topic labelings is about 0.03 at the defaults.
* **A long tail.** Topic sizes follow a Zipf-like law (``topic_skew``): a few big topics, many
  small ones, more topics in all than the 50 dimensions a reduction keeps.
* **Duplicates.** ``duplicate_share`` of the rows are exact copies of another row (retweets:
  text and image vector both copied); ``shared_image_share`` of the original rows reuse the
  image of another original row (the same picture posted with a different text).
* **Near-duplicates and noise.** ``near_duplicate_share`` of the rows copy another row plus a
  small perturbation (edited retweets, re-encoded images); ``noise_share`` of the rows belong
  to no topic (truth label -1).
* **Weak, anisotropic signal.** Topic centres sit close together relative to the within-topic
  spread, and a few "nuisance" directions (style, language, length) carry large variance
  unrelated to any topic. Rows are L2-normalised, as sentence and image embeddings are.

Everything is drawn from one seeded generator: the same arguments give the same arrays. Float32
throughout, filled in place, so that at the paper's size (336,921 pairs) the synthesis itself
costs about the arrays it returns.
"""
from __future__ import annotations

import dataclasses

import numpy as np

PAPER_PAIRS = 336_921


@dataclasses.dataclass(frozen=True)
class HardSpec:
    n: int = 30_000
    dim: int = 512
    text_topics: int = 12
    image_topics: int = 10
    topic_skew: float = 1.1          # topic k has weight 1 / (k + 1) ** skew
    coupling: float = 0.15           # share of pairs whose image topic follows the text topic
    duplicate_share: float = 0.30    # exact copies of another row (retweets)
    shared_image_share: float = 0.10  # originals that reuse another original's image
    near_duplicate_share: float = 0.10
    near_duplicate_noise: float = 0.02
    noise_share: float = 0.05
    signal: float = 1.0              # norm of a topic centre (before row normalisation)
    spread: float = 0.04             # per-dimension within-topic standard deviation
    nuisance_dims: int = 8
    nuisance_scale: float = 0.4      # standard deviation along each nuisance direction
    seed: int = 0


@dataclasses.dataclass
class HardData:
    text: np.ndarray          # (n, dim) float32, rows L2-normalised
    image: np.ndarray         # (n, dim) float32, rows L2-normalised
    joint: np.ndarray         # (n, 2 dim) float32: a noisy mix of both (stands in for CLIP)
    text_topic: np.ndarray    # int, -1 for noise rows
    image_topic: np.ndarray   # int, -1 for noise rows
    truth: np.ndarray         # joint topic text_topic * image_topics + image_topic, -1 for noise
    source: np.ndarray        # row this row copies (itself for original rows)
    kind: np.ndarray          # "original" | "duplicate" | "near_duplicate" | "noise"
    spec: HardSpec


def topic_weights(n_topics: int, skew: float) -> np.ndarray:
    weights = 1.0 / np.arange(1, n_topics + 1) ** skew
    return weights / weights.sum()


def _row_kinds(rng, spec: HardSpec) -> np.ndarray:
    n = spec.n
    counts = {"duplicate": int(round(spec.duplicate_share * n)),
              "near_duplicate": int(round(spec.near_duplicate_share * n)),
              "noise": int(round(spec.noise_share * n))}
    counts["original"] = n - sum(counts.values())
    if counts["original"] < 1:
        raise ValueError("duplicate, near-duplicate and noise shares leave no original rows")
    kinds = np.concatenate([np.full(c, k, dtype=object) for k, c in counts.items()])
    return kinds[rng.permutation(n)]


def _modality(rng, spec: HardSpec, topics: np.ndarray, n_topics: int) -> np.ndarray:
    """Vectors around topic centres with anisotropic nuisance, rows L2-normalised."""
    n, dim = len(topics), spec.dim
    centres = rng.standard_normal((n_topics, dim), dtype=np.float32)
    centres *= np.float32(spec.signal) / np.linalg.norm(centres, axis=1, keepdims=True)
    out = rng.standard_normal((n, dim), dtype=np.float32)
    out *= np.float32(spec.spread)
    has_topic = topics >= 0
    out[has_topic] += centres[topics[has_topic]]
    # Noise rows: scattered around the origin with the same overall scale as topic rows.
    out[~has_topic] += rng.standard_normal((int((~has_topic).sum()), dim), dtype=np.float32) \
        * np.float32(spec.signal / np.sqrt(dim))
    if spec.nuisance_dims:
        basis = np.linalg.qr(rng.standard_normal((dim, spec.nuisance_dims)))[0].astype(np.float32)
        weights = rng.standard_normal((n, spec.nuisance_dims), dtype=np.float32)
        weights *= np.float32(spec.nuisance_scale)
        out += weights @ basis.T
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out


def hard_pairs(spec: HardSpec | None = None, **overrides) -> HardData:
    """Draw a data set; ``hard_pairs(n=336_921)`` or ``hard_pairs(HardSpec(...))``."""
    spec = dataclasses.replace(spec or HardSpec(), **overrides)
    rng = np.random.default_rng(spec.seed)
    n = spec.n
    kinds = _row_kinds(rng, spec)
    original = np.flatnonzero(kinds == "original")

    # Topics of every row (copies overwrite theirs below with their source's).
    t_topic = rng.choice(spec.text_topics, size=n, p=topic_weights(spec.text_topics, spec.topic_skew))
    image_free = rng.choice(spec.image_topics, size=n,
                            p=topic_weights(spec.image_topics, spec.topic_skew))
    image_map = rng.permutation(np.arange(spec.text_topics) % spec.image_topics)
    coupled = rng.random(n) < spec.coupling
    i_topic = np.where(coupled, image_map[t_topic], image_free)
    noise = kinds == "noise"
    t_topic[noise] = -1
    i_topic[noise] = -1

    # Copies point at an original row; popular posts get copied more (sources drawn with
    # replacement from the originals).
    source = np.arange(n)
    copies = np.flatnonzero((kinds == "duplicate") | (kinds == "near_duplicate"))
    source[copies] = rng.choice(original, size=len(copies))
    t_topic[copies] = t_topic[source[copies]]
    i_topic[copies] = i_topic[source[copies]]

    # Shared images: some originals take the image (and so the image topic) of another original.
    sharers = rng.choice(original, size=int(round(spec.shared_image_share * len(original))),
                         replace=False)
    image_source = np.arange(n)
    image_source[sharers] = rng.choice(original, size=len(sharers))
    i_topic[sharers] = i_topic[image_source[sharers]]

    text = _modality(rng, spec, t_topic, spec.text_topics)
    image = _modality(rng, spec, i_topic, spec.image_topics)
    image[sharers] = image[image_source[sharers]]
    text[copies] = text[source[copies]]
    image[copies] = image[source[copies]]
    near = np.flatnonzero(kinds == "near_duplicate")
    for block in (text, image):
        # a perturbation of norm ~near_duplicate_noise on a unit row
        jitter = rng.standard_normal((len(near), spec.dim), dtype=np.float32)
        jitter *= np.float32(spec.near_duplicate_noise / np.sqrt(spec.dim))
        block[near] += jitter
        block[near] /= np.linalg.norm(block[near], axis=1, keepdims=True)

    # Joint: the two modalities through one random rotation, plus its own noise (a CLIP-like
    # space that mixes both but is neither).
    mix = rng.standard_normal((2 * spec.dim, 2 * spec.dim), dtype=np.float32)
    mix /= np.float32(np.sqrt(2 * spec.dim))
    joint = np.empty((n, 2 * spec.dim), dtype=np.float32)
    for start in range(0, n, 50_000):
        stop = min(n, start + 50_000)
        block = np.concatenate([text[start:stop], image[start:stop]], axis=1) @ mix
        block += rng.standard_normal(block.shape, dtype=np.float32) * np.float32(0.5 / np.sqrt(2 * spec.dim))
        joint[start:stop] = block
    joint[copies] = joint[source[copies]]

    truth = np.where(noise, -1, t_topic * spec.image_topics + i_topic)
    return HardData(text, image, joint, t_topic, i_topic, truth, source, kinds.astype(str), spec)


def exact_duplicate_share(*blocks: np.ndarray) -> float:
    """Share of rows identical (in every given block) to an earlier row."""
    stacked = np.ascontiguousarray(np.concatenate(blocks, axis=1))
    view = stacked.view(np.dtype((np.void, stacked.dtype.itemsize * stacked.shape[1]))).ravel()
    return 1.0 - len(np.unique(view)) / len(view)


def describe(data: HardData) -> dict:
    """The properties the spec promises, measured on the arrays (for tables and tests)."""
    from sklearn.metrics import adjusted_mutual_info_score

    topical = data.truth >= 0
    sizes = np.bincount(data.text_topic[topical])
    return {
        "pairs": len(data.truth),
        "text_image_ami": float(adjusted_mutual_info_score(data.text_topic[topical],
                                                           data.image_topic[topical])),
        "exact_duplicate_pairs": exact_duplicate_share(data.text, data.image),
        "exact_duplicate_images": exact_duplicate_share(data.image),
        "noise_share": float((~topical).mean()),
        "joint_topics_present": int(len(np.unique(data.truth[topical]))),
        "largest_text_topic_share": float(sizes.max() / sizes.sum()),
        "smallest_text_topic_share": float(sizes[sizes > 0].min() / sizes.sum()),
    }


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Describe the hard synthetic data set")
    parser.add_argument("--n", type=int, default=30_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    for key, value in describe(hard_pairs(n=args.n, seed=args.seed)).items():
        print(f"{key:<28} {value:.4f}" if isinstance(value, float) else f"{key:<28} {value}")
