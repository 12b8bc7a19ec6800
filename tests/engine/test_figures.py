"""Tests of clustering_engine.figures: every figure is built from plain data and saved."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure

from clustering_engine import figures, metrics

IMAGES = Path(__file__).resolve().parents[3] / "shared" / "data" / "mediaeval2016_vmu" / "images"


def _assert_written(paths, formats=("png", "svg", "pdf")):
    assert [p.suffix.lstrip(".") for p in paths] == list(formats)
    for path in paths:
        assert path.is_file() and path.stat().st_size > 500
    heads = {p.suffix: p.read_bytes()[:8] for p in paths}
    assert heads.get(".png", b"\x89PNG")[:4] == b"\x89PNG"
    assert heads.get(".pdf", b"%PDF")[:4] == b"%PDF"
    if ".svg" in heads:
        assert b"<svg" in paths[[p.suffix for p in paths].index(".svg")].read_bytes()[:2000]


def _texts(fig):
    return [t.get_text() for ax in fig.axes for t in [ax.title, ax.xaxis.label, ax.yaxis.label]]


def test_sdbw_vs_k_names_the_space(tmp_path):
    fig = figures.plot_sdbw_vs_k({"text": [(9, 1.2), (16, 0.9), (25, None)],
                                  "joint": [(16, 0.6), (9, 0.8)]}, "common space")
    assert isinstance(fig, Figure)
    assert any("common space" in t for t in _texts(fig))
    line = fig.axes[0].lines[1]
    assert list(line.get_xdata()) == [9, 16]   # sorted by K
    assert len(fig.axes[0].lines[0].get_xdata()) == 2   # None skipped
    _assert_written(figures.save_figure(fig, tmp_path / "sub" / "sdbw"))


def test_marginal_gain_and_data_loss(tmp_path):
    gains = metrics.marginal_gain([9, 16, 25], [1.0, 0.3, 0.25])
    fig = figures.plot_marginal_gain({"joint": list(zip([9, 16, 25], gains))}, 0.01,
                                     {"joint": 25})
    assert any("Marginal gain" in t for t in _texts(fig))
    _assert_written(figures.save_figure(fig, tmp_path / "gain", formats=("png", "svg")),
                    ("png", "svg"))
    fig = figures.plot_data_loss({"joint K=25": metrics.data_loss_curve([0, 0, 1, 2, -1])},
                                 mark_k=2)
    np.testing.assert_allclose(fig.axes[0].lines[0].get_ydata(), [60.0, 40.0, 20.0])
    _assert_written(figures.save_figure(fig, tmp_path / "loss", formats=("pdf",)), ("pdf",))


def test_cooccurrence_heatmap_shows_ami(tmp_path):
    co = metrics.cooccurrence([0, 0, 1, 1, 2, 2, 2], [1, 1, 0, 0, 0, 2, 2])
    for source in (co, co.to_dict()):
        fig = figures.plot_cooccurrence_heatmap(source, 0.166)
        assert "AMI = 0.166" in fig.axes[0].get_title()
        ticks = [t.get_text() for t in fig.axes[0].get_xticklabels()]
        assert ticks == ["1", "0", "2"]
    _assert_written(figures.save_figure(fig, tmp_path / "heatmap"))


def test_cluster_gallery_with_missing_images_and_cjk(tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not an image")
    real = sorted(IMAGES.glob("*"))[:2] if IMAGES.is_dir() else []
    clusters = [
        {"label": 0, "image_paths": [str(tmp_path / "missing.jpg"), str(broken)] + real,
         "texts": ["工人抗议拖欠工资", "Workers protest " * 20], "size": 120, "share": 0.12,
         "top_terms": [("抗议", 0.3), ("wages", 0.2)]},
        {"label": 7, "image_paths": [], "texts": [], "top_terms": ["sun"], "size": 3,
         "share": 0.004},
    ]
    fig = figures.plot_cluster_gallery(clusters, n_images=4)
    text = " ".join(t.get_text() for ax in fig.axes for t in ax.texts)
    assert "image\nunavailable" in text and text.count("unavailable") == 2
    assert "Cluster 0 \u2014 n = 120 (12.0%)" in text
    # Chinese is drawn with a CJK font, else named (never boxes).
    assert ("抗议" in text) if figures.cjk_font() else ("[CJK text, 2 characters]" in text)
    assert "\u2026" in text   # long text shortened
    if real:
        assert sum(len(ax.images) for ax in fig.axes) == len(real)
    _assert_written(figures.save_figure(fig, tmp_path / "gallery"))
    with pytest.raises(ValueError):
        figures.plot_cluster_gallery([])


def test_sdbw_in_own_spaces_is_small_multiples_one_space_each():
    from clustering_engine.figures import plot_sdbw_vs_k_own_spaces

    fig = plot_sdbw_vs_k_own_spaces({
        "text (kmeans)": ("text-only space", [(4, 1.2), (9, 1.0)]),
        "vector (kmeans)": ("vector-level space", [(4, 0.4), (9, 0.3)]),
        "label (kmeans)": ("label-level space", [(4, 2.0), (9, 1.9)])})
    shown = [ax for ax in fig.axes if ax.get_visible()]
    assert len(shown) == 3
    assert [ax.get_title().split("\n")[1] for ax in shown] == [
        "in text-only space", "in vector-level space", "in label-level space"]
    assert all(len(ax.get_lines()) == 1 for ax in shown)      # never two spaces on one axis
    assert "not comparable" in fig._suptitle.get_text()
