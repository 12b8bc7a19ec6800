"""The paper's three workflows for turning a text-image pair into something to cluster.

- label-level combination: cluster text (K_t) and images (K_i) separately; the joint label is
  the pair (t, i), so K = K_t x K_i (the paper uses K_t = K_i = sqrt(K)).
- vector-level combination: L2-normalise each modality, concatenate (optionally weighted),
  reduce, cluster.
- joint embedding: one space for text and image (CLIP pair vectors, or the offline
  regularised-CCA space), reduce, cluster.
"""
from __future__ import annotations

import math

import numpy as np

from .spec import METHOD_TITLES, METHODS  # noqa: F401  (re-exported)
from .vectors import l2_normalise


def vector_level_space(text: np.ndarray, image: np.ndarray,
                       weights: tuple[float, float] = (1.0, 1.0)) -> np.ndarray:
    """[w_t * t/|t| ; w_i * i/|i|] — the paper's (p+q)-dim concatenation."""
    if len(text) != len(image):
        raise ValueError(f"text and image rows differ: {len(text)} vs {len(image)}")
    # Each half is normalised straight into its columns: at paper scale the temporaries of
    # normalising, weighting and stacking were three more copies of the embeddings.
    out = np.empty((len(text), text.shape[1] + image.shape[1]), dtype=np.float32)
    for X, weight, columns in ((text, weights[0], slice(0, text.shape[1])),
                               (image, weights[1], slice(text.shape[1], None))):
        half = l2_normalise(X, out=out[:, columns])
        if weight != 1.0:
            half *= np.float32(weight)
    return out


def split_k(k: int) -> tuple[int, int]:
    """Factor K into K_t x K_i as close to sqrt(K) x sqrt(K) as possible, K_t <= K_i.

    Square K (the paper's grid 9, 16, 25, ...) gives sqrt(K) each; a prime K has no
    balanced split and gives 1 x K, so callers should prefer square or composite K.
    """
    best = (1, k)
    for k_text in range(1, math.isqrt(k) + 1):
        if k % k_text == 0:
            best = (k_text, k // k_text)
    return best


def combine_labels(text_labels: np.ndarray, image_labels: np.ndarray) -> np.ndarray:
    """Joint label per (text, image) label pair, numbered 0.. by first appearance; a pair
    with noise (-1) in either modality is noise."""
    text_labels = np.asarray(text_labels)
    image_labels = np.asarray(image_labels)
    noise = (text_labels < 0) | (image_labels < 0)
    span = int(image_labels.max()) + 2 if len(image_labels) else 1
    codes = text_labels.astype(np.int64) * span + image_labels
    _, first, inverse = np.unique(codes[~noise], return_index=True, return_inverse=True)
    # Renumber by order of first appearance so labels do not depend on code arithmetic.
    order = np.argsort(np.argsort(first))
    out = np.full(len(codes), -1, dtype=np.int32)
    out[~noise] = order[inverse]
    return out
