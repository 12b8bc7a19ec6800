"""Identical reruns through the CLI on the shared MediaEval data (a small subset, a tiny grid):
separate cold caches, other batch sizes and worker counts, and a cache filled by a run over a
shuffled superset all give the same labels, cluster descriptions and manifest numbers; `verify`
passes on a fresh output folder and fails on a tampered one."""

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from clustering_engine.cli import main
from clustering_engine.run_arrays import read_array, write_array
from clustering_engine.verify import compare_runs

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "mediaeval2016_vmu"
GRID = ["--methods", "label,vector", "--ks", "3,4", "--n-components", "5",
        "--umap-neighbors", "10", "--stability-seeds", "1", "--figure-formats", "svg",
        "--seed", "3"]


def _run(table, out, cache, *extra):
    code = main(["run", "--data", str(table), "--images", str(DATA), "--out", str(out),
                 "--cache-dir", str(cache), *GRID, *extra])
    assert code == 0


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    if not (DATA / "pairs.csv").exists():
        pytest.skip(f"shared data not found at {DATA}")
    tmp = tmp_path_factory.mktemp("reruns")
    pairs = pd.read_csv(DATA / "pairs.csv")
    images = pairs["image"].drop_duplicates().tolist()
    subset = pairs[pairs["image"].isin(images[:10])]
    superset = pairs[pairs["image"].isin(images[:13])]
    assert subset["image"].duplicated().any()          # rows that share an image
    subset.to_csv(tmp / "subset.csv", index=False)
    superset.sample(frac=1.0, random_state=5).to_csv(tmp / "superset.csv", index=False)

    _run(tmp / "subset.csv", tmp / "a", tmp / "cache-a", "--workers", "0")
    _run(tmp / "subset.csv", tmp / "b", tmp / "cache-b", "--workers", "2",
         "--text-batch-size", "7", "--image-batch-size", "24")
    _run(tmp / "superset.csv", tmp / "super", tmp / "cache-c", "--workers", "1",
         "--text-batch-size", "50", "--image-batch-size", "16")
    _run(tmp / "subset.csv", tmp / "c", tmp / "cache-c", "--workers", "1")
    return tmp


def _only_result_differences(diffs):
    """What differs once the settings that must not matter (cache, batch sizes, workers) are
    set aside."""
    return [d for d in diffs if not d.startswith("manifest.json: config.")]


def test_separate_cold_caches_and_other_batch_sizes_give_identical_outputs(runs):
    a = pd.read_parquet(runs / "a" / "labels.parquet")
    b = pd.read_parquet(runs / "b" / "labels.parquet")
    assert a.equals(b)
    assert len(a.columns) > 5 and len(a) > 30
    assert _only_result_differences(compare_runs(runs / "a", runs / "b")) == []
    config_diffs = [d for d in compare_runs(runs / "a", runs / "b") if "config." in d]
    assert any("cache_dir" in d for d in config_diffs)   # the runs really differed in setup


def test_a_cache_filled_by_a_shuffled_superset_gives_identical_outputs(runs):
    a = pd.read_parquet(runs / "a" / "labels.parquet")
    c = pd.read_parquet(runs / "c" / "labels.parquet")
    assert a.equals(c)
    assert _only_result_differences(compare_runs(runs / "a", runs / "c")) == []


def test_rows_sharing_an_image_share_every_image_only_label(runs):
    labels = pd.read_parquet(runs / "a" / "labels.parquet")
    pairs = pd.read_parquet(runs / "a" / "pairs.parquet")
    manifest = json.loads((runs / "a" / "manifest.json").read_text())
    image_only = [s["id"] for s in manifest["modality_solutions"] if s["method"] == "image"]
    assert image_only
    shared = pairs["image"].duplicated(keep=False).to_numpy()
    assert shared.sum() > 10
    for sid in image_only:
        per_image = labels.groupby(pairs["image"])[sid].nunique()
        assert (per_image == 1).all(), sid
    assert manifest["distinct"]["image"] == pairs["image"].nunique()
    assert manifest["distinct"]["rows"] == len(pairs)


def test_manifest_records_precision_threads_and_stability(runs):
    manifest = json.loads((runs / "a" / "manifest.json").read_text())
    assert manifest["models"]["text"]["precision"]["text_call_size"] == 1
    assert manifest["models"]["image"]["precision"]["image_call_size"] == 16
    assert manifest["determinism"]["threads"] >= 1
    stability = manifest["stability"]
    assert stability["seeds"] == 1 and stability["threshold"] == 0.8
    kmeans = [s for s in manifest["solutions"] if s["algorithm"] == "kmeans"]
    for s in kmeans:
        low, high = s["metrics"]["stability_ari_range"]
        assert -1 <= low <= s["metrics"]["stability_ari_mean"] <= high <= 1
    assert set(stability["k_agreement"]) == {"label", "vector"}


def test_verify_passes_on_a_fresh_output_and_fails_on_a_tampered_one(runs, capsys):
    assert main(["verify", str(runs / "a"), "--keep", str(runs / "a-verify")]) == 0
    assert "matches" in capsys.readouterr().out

    tampered = runs / "tampered"
    shutil.copytree(runs / "a", tampered)
    labels = pd.read_parquet(tampered / "labels.parquet")
    column = [c for c in labels.columns if c != "pair_id"][0]
    labels.loc[0, column] = np.int32(labels[column].max() + 1)
    labels.to_parquet(tampered / "labels.parquet", index=False)
    manifest = json.loads((tampered / "manifest.json").read_text())
    manifest["solutions"][0]["noise_share"] = 0.5
    (tampered / "manifest.json").write_text(json.dumps(manifest))
    space = read_array(tampered / "spaces", "vector")
    space[0, 0] = np.nextafter(space[0, 0], np.inf)                # one bit of one row
    write_array(tampered / "spaces", "vector", space)
    assert main(["verify", str(tampered)]) == 1
    out = capsys.readouterr().out
    assert f"column {column}: 1 row(s) differ" in out
    assert "solutions[0].noise_share" in out
    assert "spaces/vector: 1 row(s) differ" in out


def test_a_run_without_the_embedding_copy_has_the_same_results_and_verifies(runs, capsys):
    _run(runs / "subset.csv", runs / "d", runs / "cache-a", "--workers", "0",
         "--no-embedding-copy")
    assert sorted(p.name for p in (runs / "d" / "embeddings").iterdir()) == ["pair_ids.txt"]
    assert any((runs / "a" / "embeddings").glob("text.*"))
    manifest = json.loads((runs / "d" / "manifest.json").read_text())
    assert "embedding cache" in manifest["arrays"]["embeddings"]
    assert not any(key.startswith("embeddings/") for key in manifest["arrays"])
    assert pd.read_parquet(runs / "d" / "labels.parquet").equals(
        pd.read_parquet(runs / "a" / "labels.parquet"))
    assert main(["verify", str(runs / "d")]) == 0
    assert "matches" in capsys.readouterr().out
