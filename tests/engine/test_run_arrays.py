"""A run folder stores each distinct row of an embedding or space once, and gives back the full
per-row array bit for bit; folders written before (one .npy per array, every row) still read,
and `verify` compares arrays across both layouts."""
import json

import numpy as np
import pandas as pd

from clustering_engine.output import RUN_FORMAT
from clustering_engine.run_arrays import array_names, read_array, write_array
from clustering_engine.verify import compare_arrays, compare_runs


def _rows_with_repeats(rng, n_rows=500, n_distinct=40, dim=16, dtype=np.float32):
    """``n_rows`` rows drawn from ``n_distinct`` vectors, with the bit patterns a lossy or
    value-based store would get wrong: -0.0 beside 0.0, a NaN, a subnormal."""
    base = rng.normal(size=(n_distinct, dim)).astype(dtype)
    base[1] = base[0]
    base[1, 0], base[0, 0] = -0.0, 0.0          # equal values, different bits: two vectors
    base[2, 3] = np.nan
    base[3, -1] = np.finfo(dtype).smallest_subnormal
    return base[rng.integers(0, n_distinct, n_rows)], base


def _same_bits(a, b):
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def test_each_distinct_row_is_stored_once_and_read_back_bit_for_bit(tmp_path):
    rng = np.random.default_rng(0)
    for dtype in (np.float32, np.float64):
        rows, base = _rows_with_repeats(rng, dtype=dtype)
        n_distinct = len(np.unique(rows.view(np.uint8).reshape(len(rows), -1), axis=0))
        record = write_array(tmp_path, f"space_{np.dtype(dtype).name}", rows)
        assert record == {"rows": 500, "distinct": n_distinct, "shape": [500, 16],
                          "dtype": np.dtype(dtype).name}
        with np.load(tmp_path / f"space_{np.dtype(dtype).name}.npz") as stored:
            assert stored["distinct"].shape == (n_distinct, 16)
            assert stored["rows"].dtype == np.int32 and stored["rows"].shape == (500,)
        assert _same_bits(read_array(tmp_path, f"space_{np.dtype(dtype).name}"), rows)


def test_a_data_set_with_shared_images_stores_far_fewer_bytes(tmp_path):
    """13,416 rows over 376 images (the MediaEval tweet set's shape): the image file holds 376
    vectors, not 13,416."""
    rng = np.random.default_rng(1)
    images = rng.normal(size=(376, 64)).astype(np.float32)
    rows = images[np.sort(rng.integers(0, 376, 13_416))]
    write_array(tmp_path, "image", rows)
    with np.load(tmp_path / "image.npz") as stored:
        assert len(stored["distinct"]) == len(np.unique(rows, axis=0)) <= 376
    assert (tmp_path / "image.npz").stat().st_size < rows.nbytes / 10
    assert _same_bits(read_array(tmp_path, "image"), rows)


def test_an_old_layout_folder_still_reads(tmp_path):
    rows, _ = _rows_with_repeats(np.random.default_rng(2))
    np.save(tmp_path / "vector.npy", rows)                      # diptych-engine-run/1
    assert array_names(tmp_path) == ["vector"]
    assert _same_bits(read_array(tmp_path, "vector"), rows)
    assert read_array(tmp_path, "text") is None
    assert array_names(tmp_path / "missing") == []


def _run_folder(path, rows_by_array, old_layout=False):
    for name, rows in rows_by_array.items():
        folder, array = name.split("/")
        (path / folder).mkdir(parents=True, exist_ok=True)
        if old_layout:
            np.save(path / folder / f"{array}.npy", rows)
        else:
            write_array(path / folder, array, rows)
    return path


def test_verify_compares_arrays_across_layouts_and_finds_a_changed_bit(tmp_path):
    rng = np.random.default_rng(3)
    arrays = {"embeddings/text": _rows_with_repeats(rng)[0],
              "spaces/vector": _rows_with_repeats(rng, dim=5, dtype=np.float64)[0]}
    old = _run_folder(tmp_path / "old", arrays, old_layout=True)
    new = _run_folder(tmp_path / "new", arrays)
    assert compare_arrays(old, new) == []

    changed = dict(arrays, **{"spaces/vector": arrays["spaces/vector"].copy()})
    changed["spaces/vector"][7] = np.nextafter(changed["spaces/vector"][7], np.inf)
    changed["embeddings/image"] = arrays["embeddings/text"]
    rerun = _run_folder(tmp_path / "changed", changed)
    assert sorted(compare_arrays(old, rerun)) == [
        "embeddings/image: only in the rerun", "spaces/vector: 1 row(s) differ"]


def test_verify_of_an_older_format_run_skips_only_the_storage_layout(tmp_path):
    rows = _rows_with_repeats(np.random.default_rng(4))[0]
    old = _run_folder(tmp_path / "old", {"spaces/vector": rows}, old_layout=True)
    new = _run_folder(tmp_path / "new", {"spaces/vector": rows})
    for folder, manifest in ((old, {"format": "diptych-engine-run/1", "seed": 0}),
                             (new, {"format": RUN_FORMAT, "seed": 0,
                                    "arrays": {"layout": "distinct-rows/1"}})):
        pd.DataFrame({"pair_id": ["a", "b"], "vector-kmeans-k4": [0, 1]}).to_parquet(
            folder / "labels.parquet")
        (folder / "clusters.json").write_text("{}")
        (folder / "manifest.json").write_text(json.dumps(manifest))
    assert compare_runs(old, new) == []
    (new / "manifest.json").write_text(json.dumps({"format": RUN_FORMAT, "seed": 1}))
    assert compare_runs(old, new) == ["manifest.json: seed: recorded 0, rerun 1"]
