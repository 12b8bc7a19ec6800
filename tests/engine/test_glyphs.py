"""Emoji and other characters the installed fonts lack never become boxes in PNG galleries."""
from __future__ import annotations

import warnings

from clustering_engine import figures, glyphs


def _undrawable(text: str, fonts) -> list[str]:
    return [c for c in text if not glyphs._covered(c, fonts)]


def test_drawable_names_what_no_font_has():
    fonts = ["DejaVu Sans"]
    assert glyphs.drawable("Fire \U0001F525 near Paris \U0001F1EB\U0001F1F7", fonts) == (
        "Fire :fire: near Paris :France:")
    family = "\U0001F468\u200d\U0001F469\u200d\U0001F467"
    assert glyphs.drawable(family, fonts) == ":family_man_woman_girl:"
    assert glyphs.drawable("caf\u00e9 \u2764", fonts) == "caf\u00e9 \u2764"   # DejaVu has both
    assert glyphs.drawable("x \U0001F525", ["No Such Font"]).startswith("[LATIN text")


def test_gallery_png_has_no_missing_glyphs():
    fonts = figures.figure_fonts()
    texts = ["Flooding downtown \U0001F30A\U0001F30A stay safe \U0001F64F",
             "RT @x: \U0001F525\U0001F525 fire near the bridge \U0001F692"]
    clusters = [{"label": 0, "image_paths": [], "texts": texts, "size": 2, "share": 1.0,
                 "top_terms": [("\U0001F30A", 0.4), ("flooding", 0.3)]}]
    fig = figures.plot_cluster_gallery(clusters, n_images=1)
    drawn = " ".join(t.get_text() for ax in fig.axes for t in ax.texts)
    assert "flooding" in drawn.lower()
    assert _undrawable(drawn, fonts) == []
    if glyphs.emoji_font() is None:
        assert ":water_wave:" in drawn and ":fire:" in drawn
    with warnings.catch_warnings():
        warnings.simplefilter("error")      # a missing glyph would warn while drawing
        fig.canvas.draw()


THAI = "ประเทศไทยมีพายุใหญ่มากวันนี้"


def test_a_script_whose_marks_no_font_has_becomes_one_placeholder_never_boxes():
    shown = glyphs.drawable(f"Storm {THAI} today", ["DejaVu Sans"])   # DejaVu has no Thai
    assert shown == f"Storm [THAI text, {len(THAI)} characters] today"
    assert _undrawable(shown, ["DejaVu Sans"]) == []


def test_galleries_draw_thai_with_the_installed_thai_font():
    if not glyphs.installed(["Noto Sans Thai"]):
        import pytest
        pytest.skip("Debian's fonts-noto-core is not installed (scripts/system_packages.sh)")
    fonts = figures.figure_fonts()
    assert "Noto Sans Thai" in fonts
    assert glyphs.drawable(THAI, fonts) == THAI
    clusters = [{"label": 0, "image_paths": [], "texts": [THAI], "size": 1, "share": 1.0,
                 "top_terms": [("พายุ", 0.4)]}]
    fig = figures.plot_cluster_gallery(clusters, n_images=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig.canvas.draw()
