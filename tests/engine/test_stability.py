"""Stability across seeds: well-separated groups are stable, structureless data at a large K is
not and its chosen K is flagged; R = 0 skips; the text and report read it."""

import numpy as np

from clustering_engine.grid import GridConfig, run_grid
from clustering_engine.reduce import ReductionConfig
from clustering_engine.stability import (LOW_STABILITY_ARI, stability_diagnostic,
                                         stability_summary, stability_text)


def _grid(text, image, ks):
    config = GridConfig(methods=("label", "vector"), ks=ks, algorithms=("kmeans",),
                        reduction=ReductionConfig(method="pca", n_components=4), seed=0,
                        kmeans_n_init=1, ami_permutations=5)
    return run_grid(text, image, None, config), config


def test_separated_groups_are_stable_and_noise_is_flagged():
    rng = np.random.default_rng(0)
    centres = rng.normal(scale=20, size=(4, 8))
    blobs = np.concatenate([c + rng.normal(size=(40, 8)) for c in centres]).astype(np.float32)
    result, config = _grid(blobs, blobs[::-1].copy(), (4, 9))
    section = stability_diagnostic(result, config, seeds=3)
    vector4 = next(s for s in result.solutions if s.id == "vector-kmeans-k4")
    assert vector4.metrics["stability_ari_mean"] > 0.99
    assert section["seeds"] == 3 and section["extra_seeds"] == [1, 2, 3]
    assert set(section["k_agreement"]) == {"label", "vector"}
    for a in section["k_agreement"].values():
        assert len(a["chosen_k_by_seed"]) == 4 and 0 < a["same_k_share"] <= 1

    noise = rng.uniform(size=(160, 8)).astype(np.float32)
    result, config = _grid(noise, rng.uniform(size=(160, 8)).astype(np.float32), (25, 36))
    section = stability_diagnostic(result, config, seeds=3)
    means = [s.metrics["stability_ari_mean"] for s in result.solutions]
    assert min(means) < LOW_STABILITY_ARI
    flagged = {f["solution"] for f in section["flags"]}
    chosen = {a["solution"] for a in section["k_agreement"].values()
              if a["stability_ari_mean"] < LOW_STABILITY_ARI}
    assert flagged == chosen and flagged
    unstable = next(s for s in result.solutions if s.id in flagged)
    assert stability_text(unstable.metrics).endswith("⚠")
    assert "Unstable chosen K" in stability_summary(section)


def test_zero_seeds_skips_and_says_so():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(30, 6)).astype(np.float32)
    result, config = _grid(X, X, (3,))
    assert stability_diagnostic(result, config, seeds=0) is None
    assert all("stability_ari_mean" not in s.metrics for s in result.solutions)
    assert stability_text({}) == "—"
    assert "not measured" in stability_summary(None)


def test_each_space_k_and_seed_is_reclustered_once_with_the_same_numbers(monkeypatch):
    import copy

    from clustering_engine import stability

    rng = np.random.default_rng(5)
    text = rng.normal(size=(200, 8)).astype(np.float32)
    image = rng.normal(size=(200, 8)).astype(np.float32)
    result, config = _grid(text, image, (4, 9))
    fresh = copy.deepcopy(result)
    calls = []
    real = stability.cluster_distinct

    def counting(X, cfg, k, rows=None):
        calls.append((k, cfg.seed, X.shape[1], id(X)))
        return real(X, cfg, k, rows)

    monkeypatch.setattr(stability, "cluster_distinct", counting)
    section = stability_diagnostic(result, config, seeds=2)
    assert len(calls) == len(set(calls))            # label-level reuses its parts' reseeds
    # vector K=4, 9 and the text and image parts K=2, 3 of label K=4, 9: 6 x 2 seeds
    assert len(calls) == 12

    original = stability._recluster   # without a shared memo: each solution on its own, as before
    monkeypatch.setattr(stability, "cluster_distinct", real)
    monkeypatch.setattr(stability, "_recluster", lambda *a, **k: original(*a[:5]))
    again = stability_diagnostic(fresh, config, seeds=2)
    assert again == section
    assert [s.metrics for s in fresh.solutions] == [s.metrics for s in result.solutions]


def test_the_pairwise_ari_is_scikit_learns_to_the_bit():
    from sklearn.metrics import adjusted_rand_score

    from clustering_engine.stability import _pairwise_ari, adjusted_rand

    rng = np.random.default_rng(9)
    cases = [(rng.integers(0, 7, 5000), rng.integers(0, 11, 5000)),
             (np.repeat([3, 1, 2], 100), np.repeat([5, 9, 7], 100)),      # the same partition
             (np.zeros(50, int), rng.integers(0, 3, 50)),                  # one cluster
             (rng.integers(-1, 4, 999), rng.integers(0, 2, 999))]          # noise as a label
    for x, y in cases:
        (vx, cx), (vy, cy) = (np.unique(x, return_inverse=True), np.unique(y, return_inverse=True))
        assert adjusted_rand(cx, len(vx), cy, len(vy)) == adjusted_rand_score(x, y)
    labelings = [rng.integers(0, 5, 800) for _ in range(4)]
    scores = [adjusted_rand_score(a, b) for i, a in enumerate(labelings) for b in labelings[i + 1:]]
    assert _pairwise_ari(labelings) == (round(float(np.mean(scores)), 6),
                                        round(float(np.min(scores)), 6),
                                        round(float(np.max(scores)), 6))


def test_label_level_solutions_built_from_grid_solutions_get_stability_and_k_agreement():
    """K=9 splits 3 x 3 and K=4 2 x 2: with text and image in the grid at K=4, 9 the label-level
    K=4 solution's parts are the modality-only K=2 solutions, and with K=3 in the grid the label
    K=9 solution's parts are the grid's text-kmeans-k3 and image-kmeans-k3."""
    rng = np.random.default_rng(3)
    text = rng.normal(size=(120, 8)).astype(np.float32)
    image = rng.normal(size=(120, 8)).astype(np.float32)
    config = GridConfig(methods=("text", "image", "label"), ks=(3, 4, 9), algorithms=("kmeans",),
                        reduction=ReductionConfig(method="pca", n_components=4), seed=0,
                        kmeans_n_init=1, ami_permutations=5)
    result = run_grid(text, image, None, config)
    label9 = next(s for s in result.solutions if s.id == "label-kmeans-k9")
    grid_ids = {s.id for s in result.solutions}
    assert set(label9.parts) <= grid_ids          # its parts are grid solutions
    section = stability_diagnostic(result, config, seeds=2)
    kmeans = [s for s in result.solutions if s.algorithm == "kmeans"]
    assert all("stability_ari_mean" in s.metrics for s in kmeans), \
        [s.id for s in kmeans if "stability_ari_mean" not in s.metrics]
    assert "label" in section["k_agreement"]
