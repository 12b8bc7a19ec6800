"""The shared MediaEval sample for engine tests: where it is, a skip mark when it is absent, and
a small table of its first pairs (images copied) with four bad rows added."""
import pathlib
import shutil

import pandas as pd
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data" / "mediaeval2016_vmu"
needs_data = pytest.mark.skipif(not (DATA / "pairs.csv").exists(),
                                reason=f"MediaEval demo data not found at {DATA}")


def small_table(tmp_path, n=60):
    """The first n MediaEval pairs, images copied into tmp, plus four bad rows."""
    pairs = pd.read_csv(DATA / "pairs.csv", dtype=str).head(n)
    images = tmp_path / "images"
    images.mkdir()
    for rel in pairs["image"].unique():
        shutil.copy(DATA / rel, images / pathlib.Path(rel).name)
    pairs["image"] = pairs["image"].map(lambda rel: f"images/{pathlib.Path(rel).name}")
    (images / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    bad = pd.DataFrame([
        {"id": "bad-missing", "text": "a post whose image is gone", "image": "images/nope.jpg"},
        {"id": "bad-corrupt", "text": "a post with a corrupt image", "image": "images/broken.jpg"},
        {"id": "bad-empty-text", "text": "  ", "image": pairs["image"].iloc[0]},
        {"id": pairs["id"].iloc[0], "text": "duplicate id", "image": pairs["image"].iloc[1]},
    ])
    table = pd.concat([pairs, bad], ignore_index=True)
    path = tmp_path / "pairs.csv"
    table.to_csv(path, index=False)
    return path, n
