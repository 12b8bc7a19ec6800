"""The engine end to end through its CLI, on real MediaEval tweets and images."""
import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from clustering_engine.cli import main as cli_main
from clustering_engine.run_arrays import read_array
from clustering_engine.spec import DEFAULT_METHODS

from .mediaeval import DATA, ROOT, needs_data, small_table


def run_cli(args):
    return cli_main(["run", *map(str, args)])


@needs_data
def test_small_run_writes_every_output_and_reports_bad_rows(tmp_path):
    table, n_valid = small_table(tmp_path)
    out = tmp_path / "out"
    args = ["--data", table, "--images", tmp_path, "--out", out, "--ks", "4,9",
            "--algorithms", "kmeans,hdbscan,hdbscan_flat", "--reduction", "pca",
            "--n-components", "8", "--min-cluster-size", "5", "--cache-dir", tmp_path / "cache",
            "--methods", "text,label,vector,cca"]
    assert run_cli(args) == 0

    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["data"]["n_pairs_clustered"] == n_valid
    assert manifest["seed"] == 0 and manifest["versions"]["scikit-learn"]
    assert {"text", "image", "cca"} <= set(manifest["models"]) and "joint" not in manifest["models"]
    assert manifest["models"]["cca"]["model_id"].startswith("cca ")
    assert "not a pretrained" in manifest["models"]["cca"]["model_id"]
    assert manifest["joint_model_configured"] is False and "no joint embedding" in manifest["notes"][0]

    ids = {s["id"] for s in manifest["solutions"]}
    for method in ("text", "label", "vector", "cca"):
        for k in (4, 9):
            assert f"{method}-kmeans-k{k}" in ids and f"{method}-hdbscan_flat-k{k}" in ids
        assert f"{method}-hdbscan" in ids
    by_id = {s["id"]: s for s in manifest["solutions"]}
    assert (by_id["label-kmeans-k9"]["k_text"], by_id["label-kmeans-k9"]["k_image"]) == (3, 3)
    assert by_id["label-kmeans-k9"]["metrics"]["own_space"] == "label"   # text|image side by side
    for sid in ("label-kmeans-k9", "vector-kmeans-k9", "cca-kmeans-k9", "text-kmeans-k9"):
        m = by_id[sid]["metrics"]
        assert set(m["s_dbw_by_space"]) == {"text", "label", "vector", "cca"}
        assert m["s_dbw_own"] == m["s_dbw_by_space"][m["own_space"]] > 0
        assert 0 <= m["data_loss_top25"] <= 1 and m["ami_text_image"] is not None
    assert by_id["vector-kmeans-k9"]["metrics"]["s_dbw_common"] == by_id["vector-kmeans-k9"]["metrics"]["s_dbw_own"]
    assert manifest["ami_diagnostic"] and "reading" in manifest["ami_diagnostic"][0]
    assert {v["chosen_k"] for v in manifest["k_selection"].values()} <= {4, 9}

    labels = pd.read_parquet(out / "labels.parquet")
    assert len(labels) == n_valid and labels.columns[0] == "pair_id"
    assert ids <= set(labels.columns)
    assert labels["vector-kmeans-k9"].nunique() == 9
    order = (out / "embeddings" / "pair_ids.txt").read_text().split()
    assert order == labels["pair_id"].tolist()
    assert read_array(out / "embeddings", "text").shape == (n_valid, 512)
    assert read_array(out / "embeddings", "image").shape == (n_valid, 1280)
    assert read_array(out / "spaces", "vector").shape == (n_valid, 8)
    # pairs sharing an image: the run folder stores that image's vector once
    n_images = manifest["distinct"]["image"]
    assert n_images <= pd.read_parquet(out / "pairs.parquet")["image"].nunique() < n_valid
    assert manifest["format"] == "diptych-engine-run/2"
    assert manifest["arrays"]["embeddings/image"]["distinct"] == n_images
    with np.load(out / "embeddings" / "image.npz") as stored:
        assert stored["distinct"].shape == (n_images, 1280) and stored["rows"].dtype == np.int32

    rejected = pd.read_csv(out / "validation_report.csv", dtype=str)
    assert set(rejected["id"]) >= {"bad-missing", "bad-corrupt", "bad-empty-text"}
    assert len(rejected) == 4   # the duplicate id too

    clusters = json.loads((out / "clusters.json").read_text())
    first = clusters["vector-kmeans-k9"][0]
    assert first["size"] >= clusters["vector-kmeans-k9"][-1]["size"]
    assert first["top_terms"] and set(first["representatives"]) <= set(order)

    html = (out / "report.html").read_text()
    for name in ("sdbw_vs_k_own", "sdbw_vs_k_vector", "marginal_gain_own", "data_loss",
                 "cooccurrence_heatmap"):
        for ext in ("png", "svg", "pdf"):
            assert (out / "figures" / f"{name}.{ext}").stat().st_size > 1000
    # galleries are photographs: one JPEG each, no vector or PNG copies
    assert (out / "figures" / "gallery_vector.jpg").stat().st_size > 1000
    assert not list((out / "figures").glob("gallery_*.[sp][vnd][gf]"))
    assert html.count("<svg") >= 6 and "AMI" in html and "data:image/jpeg;base64" in html


@needs_data
def test_rerun_is_deterministic_and_embeds_nothing_new(tmp_path):
    table, _ = small_table(tmp_path, n=40)
    common = ["--data", table, "--images", tmp_path, "--ks", "4", "--algorithms", "kmeans",
              "--reduction", "umap", "--n-components", "5", "--cache-dir", tmp_path / "cache"]
    assert run_cli([*common, "--out", tmp_path / "a"]) == 0
    cache_files = sorted(p.name for p in (tmp_path / "cache").rglob("*"))
    assert run_cli([*common, "--out", tmp_path / "b"]) == 0
    assert sorted(p.name for p in (tmp_path / "cache").rglob("*")) == cache_files
    a = pd.read_parquet(tmp_path / "a" / "labels.parquet")
    b = pd.read_parquet(tmp_path / "b" / "labels.parquet")
    pd.testing.assert_frame_equal(a, b)


def test_nothing_valid_is_a_clear_error_naming_the_reasons(tmp_path, capsys):
    (tmp_path / "pairs.csv").write_text("id,text,image\n1,hello,missing.jpg\n2,,missing2.jpg\n")
    code = run_cli(["--data", tmp_path / "pairs.csv", "--out", tmp_path / "out",
                    "--cache-dir", tmp_path / "cache"])
    err = capsys.readouterr().err
    assert code == 2 and "error:" in err and "Traceback" not in err


def test_k_larger_than_the_data_is_a_clear_error(tmp_path, capsys):
    images = tmp_path / "img"
    images.mkdir()
    rows = ["id,text,image"]
    for i in range(6):
        Image.new("RGB", (32, 32), (40 * i, 10, 10)).save(images / f"{i}.png")
        rows.append(f"{i},post number {i} about topic {i % 2},img/{i}.png")
    (tmp_path / "pairs.csv").write_text("\n".join(rows) + "\n")
    code = run_cli(["--data", tmp_path / "pairs.csv", "--out", tmp_path / "out", "--ks", "4,9",
                    "--reduction", "none", "--algorithms", "kmeans",
                    "--cache-dir", tmp_path / "cache"])
    err = capsys.readouterr().err
    assert code == 2 and "K=9" in err and "6" in err


@needs_data
@pytest.mark.slow
@pytest.mark.timeout(2400)  # a cold cache embeds every text one call at a time (batch invariance)
def test_full_mediaeval_run_with_default_models_and_grid(tmp_path):
    """The issue's acceptance run: all 1,776 pairs, default offline models, default K grid,
    K-Means and HDBSCAN, the default offline methods (text, image, label, vector and cca; no
    joint embedding without CLIP weights)."""
    out = tmp_path / "out"
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "clustering_engine", "run", "--data", str(DATA / "pairs.csv"),
         "--images", str(DATA), "--out", str(out), "--cache-dir", str(tmp_path / "cache")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=2300)
    assert result.returncode == 0, result.stderr[-3000:]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["data"]["n_pairs_clustered"] >= 1700
    grid = (9, 16, 25, 36, 49, 64, 81, 100)
    ids = {s["id"] for s in manifest["solutions"]}
    expected = {f"{m}-kmeans-k{k}" for m in DEFAULT_METHODS for k in grid}
    expected |= {f"{m}-hdbscan" for m in DEFAULT_METHODS}
    assert expected <= ids
    assert not any(i.startswith("joint-") for i in ids)
    assert manifest["reductions"]["vector"]["method"] == "umap"
    assert manifest["reductions"]["vector"]["n_components"] == 50
    for s in manifest["solutions"]:
        if s["algorithm"] == "kmeans":
            assert s["metrics"]["s_dbw_common"] is not None
    labels = pd.read_parquet(out / "labels.parquet")
    assert len(labels) == manifest["data"]["n_pairs_clustered"]
    assert (out / "report.html").stat().st_size > 100_000


@needs_data
@pytest.mark.parametrize("loader", ["open_clip", "transformers"])
def test_joint_method_through_a_tiny_clip_saved_to_disk(tmp_path, loader):
    from tests.engine.tiny_clip import (EMBED_DIM, TINY_ARCH, build_tiny_hf_clip,
                                        build_tiny_open_clip)

    table, n_valid = small_table(tmp_path, n=30)
    weights = tmp_path / "clip"
    weights.mkdir()
    if loader == "open_clip":
        _, file = build_tiny_open_clip(weights)
        spec = f"clip:{TINY_ARCH}@{file}"
    else:
        build_tiny_hf_clip(weights)
        spec = f"clip:hf:{weights}"
    out = tmp_path / "out"
    assert run_cli(["--data", table, "--images", tmp_path, "--out", out, "--ks", "4",
                    "--methods", "joint,vector", "--algorithms", "kmeans", "--reduction", "none",
                    "--joint-model", spec, "--cache-dir", tmp_path / "cache"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    joint_model = manifest["models"]["joint"]
    assert joint_model["combine"] == "concat" and "rcca" not in joint_model["model_id"]
    joint = read_array(out / "embeddings", "joint")
    assert joint.shape == (n_valid, 2 * EMBED_DIM)
    np.testing.assert_allclose(np.linalg.norm(joint[:, :EMBED_DIM], axis=1), 1, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(joint[:, EMBED_DIM:], axis=1), 1, atol=1e-5)
    labels = pd.read_parquet(out / "labels.parquet")
    assert labels["joint-kmeans-k4"].nunique() == 4
