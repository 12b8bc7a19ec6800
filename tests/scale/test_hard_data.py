"""The hard synthetic data set (benchmarks/hard_data.py) keeps its promises: text and image
topics nearly independent, ~30% exact duplicate pairs, near-duplicates and noise present, a long
tail of topic sizes, and the same arrays for the same seed."""
import numpy as np
import pytest

from benchmarks.hard_data import describe, exact_duplicate_share, hard_pairs

N = 6_000


@pytest.fixture(scope="module")
def data():
    return hard_pairs(n=N, seed=3)


def test_modalities_are_nearly_independent(data):
    ami = describe(data)["text_image_ami"]
    assert 0.01 <= ami <= 0.06, ami


def test_coupling_controls_the_dependence():
    strong = describe(hard_pairs(n=N, seed=3, coupling=0.9))["text_image_ami"]
    assert strong > 0.3


def test_duplicate_share_and_kinds(data):
    facts = describe(data)
    assert facts["exact_duplicate_pairs"] == pytest.approx(0.30, abs=0.01)
    # shared images come on top of the retweets in the image space alone
    assert facts["exact_duplicate_images"] > facts["exact_duplicate_pairs"] + 0.02
    assert facts["noise_share"] == pytest.approx(0.05, abs=0.005)
    near = data.kind == "near_duplicate"
    assert near.mean() == pytest.approx(0.10, abs=0.005)
    # a near-duplicate is close to, but not equal to, its source
    gaps = np.linalg.norm(data.text[near] - data.text[data.source[near]], axis=1)
    assert (gaps > 0).all() and (gaps < 0.1).all()


def test_long_tail_of_topic_sizes(data):
    facts = describe(data)
    assert facts["largest_text_topic_share"] > 5 * facts["smallest_text_topic_share"]


def test_rows_are_unit_vectors_and_float32(data):
    for block in (data.text, data.image):
        assert block.dtype == np.float32
        assert np.allclose(np.linalg.norm(block, axis=1), 1.0, atol=1e-4)
    assert data.joint.shape == (N, 2 * data.spec.dim)


def test_same_seed_same_arrays_other_seed_other_arrays(data):
    again = hard_pairs(n=N, seed=3)
    assert np.array_equal(again.text, data.text) and np.array_equal(again.joint, data.joint)
    assert np.array_equal(again.truth, data.truth)
    other = hard_pairs(n=N, seed=4)
    assert not np.array_equal(other.text, data.text)


def test_exact_duplicate_share_counts_repeated_rows():
    rows = np.array([[1, 2], [1, 2], [3, 4], [1, 2]], dtype=np.float32)
    assert exact_duplicate_share(rows) == pytest.approx(0.5)
