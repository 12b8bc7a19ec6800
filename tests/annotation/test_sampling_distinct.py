"""Coders' samples prefer distinct images and distinct normalised texts."""
import numpy as np

from annotation.services.sampling import draw_cluster, sample_cluster
from clustering_engine.describe import normalise_for_duplicates


def _cluster():
    pair_ids = np.array([f"p{i}" for i in range(12)], dtype=object)
    post_ids = pair_ids.copy()
    # Posts 0-5 share one photo; 6-8 are one retweeted text with different photos.
    images = np.array(["same"] * 6 + ["a", "b", "c", "d", "e", "f"], dtype=object)
    texts = np.array([f"text {i}" for i in range(6)] + [
        "RT @news: bridge closed http://t.co/1", "bridge closed", "RT @x: Bridge  closed",
        "text 9", "text 10", "text 11"], dtype=object)
    return pair_ids, post_ids, images, texts


def test_sample_skips_repeated_photos_and_retweets():
    pair_ids, post_ids, images, texts = _cluster()
    # At most 5 posts differ in both photo and text: one of 0-5, one of 6-8, 9, 10, 11.
    draw = draw_cluster(5, "sol", 0, pair_ids, post_ids, 5, image_keys=images, texts=texts)
    rows = [int(p[1:]) for p in draw.pair_ids]
    assert len(rows) == 5
    assert len({images[r] for r in rows}) == 5
    assert len({normalise_for_duplicates(texts[r]) for r in rows}) == 5
    assert {9, 10, 11} <= set(rows)
    assert draw.duplicates_skipped >= 1
    assert draw == draw_cluster(5, "sol", 0, pair_ids, post_ids, 5, image_keys=images,
                                texts=texts)


def test_repeats_fill_the_quota_only_when_too_few_distinct_posts():
    pair_ids, post_ids, images, texts = _cluster()
    draw = draw_cluster(5, "sol", 0, pair_ids, post_ids, 10, image_keys=images, texts=texts)
    assert len(draw.pair_ids) == 10 and len(set(draw.pair_ids)) == 10
    # Without content keys the draw is a plain seeded sample, as before.
    plain, _ = sample_cluster(5, "sol", 0, pair_ids, post_ids, 6)
    assert len(plain) == 6 and plain == sample_cluster(5, "sol", 0, pair_ids, post_ids, 6)[0]
