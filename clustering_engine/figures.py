"""Paper-ready figures from plain data (dicts, arrays), matplotlib with the Agg backend.

Every ``plot_*`` function returns a ``matplotlib.figure.Figure`` built without pyplot (no
global state, safe in worker processes, and the backend of a notebook is left alone);
``save_figure`` writes it through matplotlib's Agg/SVG/PDF canvases.

Conventions:
    * Fonts: DejaVu Sans, then the first installed CJK font among common ones (Noto CJK,
      Source Han, WenQuanYi, SimHei, ...) and an emoji outline font (Symbola) as per-glyph
      fallbacks. Gallery texts and terms go through ``glyphs.drawable``: what no installed
      font can draw (emoji without Symbola, Chinese without a CJK font) is written by name,
      never as boxes; the "missing glyph" warnings are silenced.
    * ``None`` values (e.g. the first marginal gain, an S_Dbw that could not be computed) are
      skipped, never plotted as zero.
    * Gallery: an image path that is missing or unreadable becomes a grey placeholder tile
      that says so; texts are shortened to ``max_text_chars``.
    * PDF and PS embed TrueType fonts (fonttype 42), which journals prefer.
"""
from __future__ import annotations

import contextlib
import math
import os
import textwrap
import warnings
from pathlib import Path
from typing import Mapping, Sequence

import matplotlib
import numpy as np
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from . import glyphs
from .spec import FIGURE_FORMATS

CJK_FONT_CANDIDATES = (
    "Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans SC", "Source Han Sans SC",
    "Source Han Sans CN", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "SimHei",
    "Microsoft YaHei", "PingFang SC", "Heiti SC", "Droid Sans Fallback", "AR PL UMing CN",
)
FORMATS = FIGURE_FORMATS


def cjk_font() -> str | None:
    """Name of the first installed CJK-capable font, or None."""
    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONT_CANDIDATES if name in installed), None)


# Scripts DejaVu Sans lacks that tweets are written in (Debian's fonts-noto-core has them all).
SCRIPT_FONT_CANDIDATES = ("Noto Sans Thai", "Noto Sans Devanagari", "Noto Sans Bengali",
                          "Noto Sans Tamil", "Noto Sans Khmer", "Noto Sans Myanmar",
                          "Noto Sans Lao", "Noto Sans Sinhala", "Noto Sans Ethiopic")


def figure_fonts() -> list[str]:
    """The sans-serif fallback list: DejaVu Sans, then a CJK font, the other scripts' fonts and
    an emoji font, each where installed."""
    return (["DejaVu Sans"] + [f for f in (cjk_font(),) if f]
            + glyphs.installed(SCRIPT_FONT_CANDIDATES)
            + [f for f in (glyphs.emoji_font(),) if f])


@contextlib.contextmanager
def _paper_style():
    rc = {
        "font.family": "sans-serif",
        "font.sans-serif": figure_fonts(),
        "font.size": 11, "axes.titlesize": 13, "axes.labelsize": 12,
        "xtick.labelsize": 10, "ytick.labelsize": 10, "legend.fontsize": 10,
        "axes.spines.top": False, "axes.spines.right": False,
        "pdf.fonttype": 42, "ps.fonttype": 42, "svg.fonttype": "path",
    }
    with matplotlib.rc_context(rc), _quiet_glyphs():
        yield


@contextlib.contextmanager
def _quiet_glyphs():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*[Gg]lyph .* missing from.*")
        warnings.filterwarnings("ignore", message=r".*missing from (current )?font.*")
        yield


def _points(series) -> tuple[list, list]:
    """(k, value) pairs -> sorted xs, ys without None values."""
    pairs = sorted((k, v) for k, v in series if v is not None)
    return [k for k, _ in pairs], [float(v) for _, v in pairs]


# --------------------------------------------------------------------------------------------
# Model-selection figures
# --------------------------------------------------------------------------------------------

def plot_sdbw_vs_k(results: Mapping[str, Sequence[tuple[int, float | None]]],
                   space_label: str) -> Figure:
    """S_Dbw against K, one line per method; ``space_label`` names the scoring space."""
    return _lines_by_k(results, f"S_Dbw ({space_label})",
                       f"S_Dbw by K \u2014 scored in {space_label}\n(lower is better)")


def plot_sdbw_vs_k_own_spaces(results: Mapping[str, tuple[str, Sequence[tuple[int, float | None]]]]
                              ) -> Figure:
    """S_Dbw against K in each method's own space: one panel per method (small multiples),
    each with its own y axis, because S_Dbw values from different spaces are not comparable.
    ``results``: {method label: (space title, [(k, S_Dbw or None), ...])}."""
    n = max(len(results), 1)
    cols = min(n, 3)
    rows = math.ceil(n / cols)
    with _paper_style():
        fig = Figure(figsize=(3.4 * cols, 2.9 * rows + 0.6), layout="constrained")
        axes = fig.subplots(rows, cols, squeeze=False).ravel()
        for ax, (method, (space, series)) in zip(axes, results.items()):
            xs, ys = _points(series)
            ax.plot(xs, ys, marker="o")
            ax.set_title(f"{method}\nin {space}", fontsize=10)
            ax.set_xlabel("K")
            ax.set_ylabel("S_Dbw")
            ax.grid(alpha=0.3)
        for ax in axes[len(results):]:
            ax.set_visible(False)
        fig.suptitle("S_Dbw by K, each method in its own space (lower is better)\n"
                     "one panel per space: heights are not comparable across panels")
    return fig


def _lines_by_k(results: Mapping[str, Sequence[tuple[int, float | None]]], ylabel: str,
                title: str) -> Figure:
    """One line per method of a value against K."""
    with _paper_style():
        fig = Figure(figsize=(6.4, 4.2), layout="constrained")
        ax = fig.add_subplot()
        for method, series in results.items():
            xs, ys = _points(series)
            ax.plot(xs, ys, marker="o", label=str(method))
        ax.set_xlabel("Number of clusters K")
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.grid(alpha=0.3)
        if results:
            ax.legend(title="Method", frameon=False)
    return fig


def plot_marginal_gain(results: Mapping[str, Sequence[tuple[int, float | None]]],
                       threshold: float, chosen: Mapping[str, int] | int | None = None,
                       rose: Mapping[str, Sequence[int]] | None = None,
                       space_label: str = "each method's own space") -> Figure:
    """Marginal gain of S_Dbw against K per method, the threshold line and the chosen K.

    ``results``: {method: [(k, gain or None), ...]} (see ``metrics.marginal_gain``);
    ``chosen``: {method: K} or one K for all methods; ``rose``: {method: [K, ...]} where
    S_Dbw rose from the previous K (the gain is an absolute value, so such a step also reads
    as small): marked with a red cross.
    """
    with _paper_style():
        fig = Figure(figsize=(6.4, 4.2), layout="constrained")
        ax = fig.add_subplot()
        flagged = False
        for method, series in results.items():
            xs, ys = _points(series)
            (line,) = ax.plot(xs, ys, marker="o", label=str(method))
            k = chosen.get(method) if isinstance(chosen, Mapping) else chosen
            if k is not None and k in xs:
                ax.plot([k], [ys[xs.index(k)]], marker="*", markersize=16, linestyle="none",
                        color=line.get_color(), markeredgecolor="black", zorder=5)
            worse = [x for x in (rose or {}).get(method, ()) if x in xs]
            if worse:
                ax.plot(worse, [ys[xs.index(x)] for x in worse], marker="X", markersize=11,
                        linestyle="none", color="#d62728", zorder=6,
                        label="S_Dbw rose at this K" if not flagged else None)
                flagged = True
        ax.axhline(threshold, color="black", linestyle="--", linewidth=1,
                   label=f"threshold {threshold:g}")
        ax.set_xlabel("Number of clusters K")
        ax.set_ylabel("Marginal gain |\u0394S_Dbw| / \u0394K")
        ax.set_title(f"Marginal gain of S_Dbw in {space_label}\n"
                     "(\u2605 = chosen K; red \u2716 = S_Dbw got worse there)")
        ax.grid(alpha=0.3)
        ax.legend(frameon=False)
    return fig


def plot_truth_ami(results: Mapping[str, Sequence[tuple[int, float | None]]],
                   column: str) -> Figure:
    """AMI against the known groupings ``column`` by K, one line per method (the paper's
    Eq. (1), noise left out; higher = closer to the known groups)."""
    return _lines_by_k(results, f"AMI with '{column}'",
                       f"Agreement with the known groupings '{column}'\n(AMI, higher is closer)")


def plot_data_loss(curves: Mapping[str, Sequence[float]], mark_k: int | None = None
                   ) -> Figure:
    """Data loss (share of pairs outside the top-k clusters) against k, one line per
    solution; ``curves[name][k - 1]`` is the loss at top-k (``metrics.data_loss_curve``)."""
    with _paper_style():
        fig = Figure(figsize=(6.4, 4.2), layout="constrained")
        ax = fig.add_subplot()
        for name, curve in curves.items():
            curve = np.asarray(curve, dtype=float)
            ax.plot(np.arange(1, len(curve) + 1), 100.0 * curve, marker=".", label=str(name))
        if mark_k is not None:
            ax.axvline(mark_k, color="grey", linestyle=":", linewidth=1)
        ax.set_xlabel("Top-k clusters kept")
        ax.set_ylabel("Data loss (% of pairs)")
        ax.set_ylim(0, 100)
        ax.set_title("Data loss at top-k clusters (noise counts as lost)")
        ax.grid(alpha=0.3)
        if curves:
            ax.legend(frameon=False)
    return fig


# --------------------------------------------------------------------------------------------
# Co-occurrence heatmap
# --------------------------------------------------------------------------------------------

def _cooc_parts(cooc):
    if isinstance(cooc, Mapping):
        matrix = np.asarray(cooc["permuted"], dtype=float)
        rows = list(cooc["row_labels"])
        cols = list(cooc.get("permuted_col_labels")
                    or [cooc["col_labels"][i] for i in cooc["column_order"]])
    else:   # metrics.Cooccurrence
        matrix = np.asarray(cooc.permuted, dtype=float)
        rows = list(cooc.row_labels)
        cols = list(cooc.permuted_col_labels)
    return matrix, rows, cols


def heatmap_title(ami_value: float | None, k_text: int | None, k_image: int | None,
                  normalisation: str | None) -> str:
    """"Text x image co-occurrence at K_t x K_i = 6 x 6 / AMI = 0.115 (max normalisation)"."""
    grid = (f" at K_t \u00d7 K_i = {k_text} \u00d7 {k_image}"
            if k_text is not None and k_image is not None else "")
    ami_text = "n/a" if ami_value is None else f"{ami_value:.3f}"
    norm = f" ({normalisation} normalisation)" if normalisation else ""
    return f"Text \u00d7 image co-occurrence{grid}\nAMI = {ami_text}{norm}"


def plot_cooccurrence_heatmap(cooc, ami_value: float | None, k_text: int | None = None,
                              k_image: int | None = None,
                              normalisation: str | None = None) -> Figure:
    """Permuted text x image co-occurrence proportions; the title names the K_t x K_i grid
    point shown and its AMI with the normalisation, so it can be read beside the AMI table.

    ``cooc``: ``metrics.Cooccurrence`` or its ``to_dict()``.
    """
    matrix, rows, cols = _cooc_parts(cooc)
    with _paper_style():
        size = max(4.5, min(12.0, 0.45 * max(matrix.shape) + 2.5))
        fig = Figure(figsize=(size + 1.2, size), layout="constrained")
        ax = fig.add_subplot()
        image = ax.imshow(100.0 * matrix, cmap="viridis", aspect="auto")
        fig.colorbar(image, ax=ax, label="Share of pairs (%)")
        ax.set_xticks(range(len(cols)), [str(c) for c in cols],
                      rotation=90 if len(cols) > 12 else 0)
        ax.set_yticks(range(len(rows)), [str(r) for r in rows])
        ax.set_xlabel("Image cluster (Hungarian order)")
        ax.set_ylabel("Text cluster")
        ax.set_title(heatmap_title(ami_value, k_text, k_image, normalisation))
        if max(matrix.shape) <= 12:   # cell labels stay readable only on small grids
            top = matrix.max() if matrix.size else 0.0
            for (r, c), value in np.ndenumerate(matrix):
                ax.text(c, r, f"{100 * value:.1f}", ha="center", va="center", fontsize=8,
                        color="black" if value > 0.6 * top else "white")
    return fig


# --------------------------------------------------------------------------------------------
# Cluster gallery
# --------------------------------------------------------------------------------------------

def _load_tile(path, size: int = 256):
    """RGB array thumbnail, or None when the path is missing or unreadable."""
    if not path:
        return None
    try:
        from PIL import Image

        with Image.open(path) as img:
            img = img.convert("RGB")
            img.thumbnail((size, size))
            return np.asarray(img)
    except Exception:   # any decoding problem -> placeholder tile, never a crash
        return None


def _term_text(terms) -> str:
    words = [t[0] if isinstance(t, (tuple, list)) else str(t) for t in terms or []]
    return ", ".join(words)


def plot_cluster_gallery(clusters: Sequence[Mapping], n_images: int = 5, max_texts: int = 3,
                         max_text_chars: int = 140) -> Figure:
    """One row per cluster: up to ``n_images`` image tiles, then size/share, top terms and
    short texts.

    Each cluster mapping: ``label``, ``image_paths`` (list), ``texts`` (list of str),
    ``top_terms`` (terms or (term, score) pairs), ``size`` (int), ``share`` (0-1).
    """
    if not clusters:
        raise ValueError("no clusters to draw")
    fonts = figure_fonts()
    with _paper_style():
        n_rows = len(clusters)
        fig = Figure(figsize=(1.8 * n_images + 5.5, 2.0 * n_rows), layout="constrained")
        grid = fig.add_gridspec(n_rows, n_images + 1, width_ratios=[1.0] * n_images + [3.0])
        for r, cluster in enumerate(clusters):
            paths = list(cluster.get("image_paths") or [])[:n_images]
            for c in range(n_images):
                ax = fig.add_subplot(grid[r, c])
                ax.axis("off")
                if c >= len(paths):
                    continue
                tile = _load_tile(paths[c])
                if tile is None:
                    ax.add_patch(Rectangle((0.02, 0.02), 0.96, 0.96, color="#d9d9d9",
                                           transform=ax.transAxes))
                    ax.text(0.5, 0.5, "image\nunavailable", ha="center", va="center",
                            fontsize=9, color="#555555", transform=ax.transAxes)
                else:
                    ax.imshow(tile)
            text_ax = fig.add_subplot(grid[r, n_images])
            text_ax.axis("off")
            size = cluster.get("size")
            share = cluster.get("share")
            header = f"Cluster {cluster.get('label', r)}"
            if size is not None:
                header += f" \u2014 n = {int(size):,}"
            if share is not None:
                header += f" ({100 * float(share):.1f}%)"
            lines = [header, textwrap.fill("Terms: " + glyphs.drawable(
                _term_text(cluster.get("top_terms")), fonts),
                                           70)]
            for text in list(cluster.get("texts") or [])[:max_texts]:
                short = glyphs.drawable(str(text).replace("\n", " ").strip(), fonts)
                if len(short) > max_text_chars:
                    short = short[:max_text_chars - 1] + "\u2026"
                lines.append(textwrap.fill("\u2022 " + short, 70))
            text_ax.text(0.0, 1.0, "\n".join(lines), va="top", ha="left", fontsize=9,
                         transform=text_ax.transAxes, wrap=False)
    return fig


# --------------------------------------------------------------------------------------------
# Saving
# --------------------------------------------------------------------------------------------

def save_figure(fig: Figure, path_stem: str | os.PathLike,
                formats: Sequence[str] = FORMATS, dpi: int = 200) -> list[Path]:
    """Write ``fig`` as ``<path_stem>.<format>`` for each format; returns the paths.

    Parent folders are created. ``path_stem`` has no extension (one is appended).
    """
    stem = Path(path_stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    written = []
    with _paper_style():
        for fmt in formats:
            fmt = fmt.lower().lstrip(".")
            path = stem.parent / f"{stem.name}.{fmt}"
            # JPEG quality 80 keeps photographs sharp at a tenth of a PNG's size.
            extra = {"pil_kwargs": {"quality": 80, "optimize": True}} if fmt in ("jpg", "jpeg") else {}
            fig.savefig(path, format=fmt, dpi=dpi, bbox_inches="tight", **extra)
            written.append(path)
    return written
