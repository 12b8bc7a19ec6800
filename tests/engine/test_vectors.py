"""Row norms taken a block at a time are numpy's, bit for bit; normalising into a slice of a
wider array gives the same bits as normalising alone; the vector-level space is unchanged."""
import numpy as np

from clustering_engine.methods import vector_level_space
from clustering_engine.vectors import l2_normalise, row_norms


def test_row_norms_in_blocks_are_numpys_norms():
    X = np.random.default_rng(2).normal(size=(5000, 96)).astype(np.float32)
    expected = np.linalg.norm(X, axis=1, keepdims=True)
    assert row_norms(X, chunk=777).tobytes() == expected.tobytes()
    assert row_norms(X).tobytes() == expected.tobytes()


def test_normalising_into_a_slice_and_the_vector_level_space_keep_their_bits():
    rng = np.random.default_rng(3)
    text, image = (rng.normal(size=(300, 20)).astype(np.float32),
                   rng.normal(size=(300, 12)).astype(np.float32))
    text[4] = 0.0                                         # a missing vector stays zero
    for weights in ((1.0, 1.0), (0.7, 1.3)):
        stacked = np.hstack([weights[0] * l2_normalise(text), weights[1] * l2_normalise(image)])
        built = vector_level_space(text, image, weights)
        assert built.dtype == np.float32 and built.tobytes() == stacked.tobytes()
    assert not vector_level_space(text, image)[4, :20].any()
