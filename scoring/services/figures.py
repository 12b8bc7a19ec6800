"""Human-validation figures (matplotlib ``Figure`` objects, no pyplot state; saved through
``clustering_engine.figures.save_figure``).

* ``plot_mean_consistency``: the paper's figure 9 — bars per solution (method × K × algorithm),
  one bar per pass, 95% interval whiskers, the mean chance baseline as a tick.
* ``plot_cluster_consistency``: figure E.1 — per solution and pass, one bar per cluster
  (sorted), the mean as a red line labelled M.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from annotation.passes import PASS_VALUES

PASS_COLOURS = dict(zip(PASS_VALUES, ("#4C72B0", "#DD8452", "#55A868")))


def solution_label(row) -> str:
    k = row.get("k")
    k_text = f"K={int(k)}" if k is not None and not pd.isna(k) else "K auto"
    return f"{row['method']}\n{row['algorithm']} {k_text}"


def plot_mean_consistency(rows: list[dict], passes=("text", "image", "joint")) -> Figure:
    fig = Figure(figsize=(max(6.0, 1.3 * len(rows) + 2), 4.2))
    ax = fig.add_subplot()
    if not rows:
        ax.text(0.5, 0.5, "no coded clusters yet", ha="center", va="center")
        ax.set_axis_off()
        return fig
    width = 0.8 / len(passes)
    x = np.arange(len(rows))
    for i, p in enumerate(passes):
        means = np.array([r.get(f"consistency_{p}") if r.get(f"consistency_{p}") is not None
                          else np.nan for r in rows], dtype=float)
        low = np.array([r.get(f"consistency_{p}_low") for r in rows], dtype=float)
        high = np.array([r.get(f"consistency_{p}_high") for r in rows], dtype=float)
        errors = np.vstack([np.where(np.isnan(low), 0, means - low),
                            np.where(np.isnan(high), 0, high - means)])
        xs = x + (i - (len(passes) - 1) / 2) * width
        ax.bar(xs, np.nan_to_num(means), width, label=p, color=PASS_COLOURS.get(p),
               yerr=np.nan_to_num(errors), capsize=3, error_kw={"elinewidth": 1})
        chance = np.array([r.get(f"consistency_{p}_chance") for r in rows], dtype=float)
        ax.scatter(xs, chance, marker="_", s=120, color="black", zorder=3,
                   label="chance baseline" if i == 0 else None)
    ax.set_xticks(x, [solution_label(r) for r in rows], fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("Mean within-cluster consistency")
    ax.set_title("Human-coded within-cluster consistency (95% interval)")
    ax.legend(ncol=4, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.22), frameon=False)
    return fig


def plot_cluster_consistency(cluster_means: pd.DataFrame, solution_rows: list[dict],
                             passes=("text", "image", "joint")) -> Figure:
    rows = [r for r in solution_rows if r.get("solution_pk") in set(cluster_means["solution_pk"])]
    fig = Figure(figsize=(4.0 * len(passes), max(2.4, 2.2 * len(rows))))
    if not rows:
        ax = fig.add_subplot()
        ax.text(0.5, 0.5, "no coded clusters yet", ha="center", va="center")
        ax.set_axis_off()
        return fig
    axes = fig.subplots(len(rows), len(passes), squeeze=False, sharey=True)
    axes[0][0].set_ylim(0, 1.05)     # shared: once, not once per panel
    for r, row in enumerate(rows):
        for c, p in enumerate(passes):
            ax = axes[r][c]
            values = np.sort(cluster_means[(cluster_means["solution_pk"] == row["solution_pk"])
                                           & (cluster_means["pass"] == p)]["consistency"]
                             .to_numpy(dtype=float))[::-1]
            # one step patch per panel, not one rectangle per cluster: 2,500 clusters draw
            # in a fraction of a second instead of minutes
            ax.stairs(values, np.arange(values.size + 1) - 0.5, fill=True,
                      color=PASS_COLOURS.get(p))
            if values.size:
                mean = float(values.mean())
                ax.axhline(mean, color="red", linewidth=1.2)
                ax.text(0.98, 0.95, f"M = {mean:.2f}", color="red", ha="right", va="top",
                        transform=ax.transAxes, fontsize=8,
                        bbox={"facecolor": "white", "edgecolor": "none", "pad": 1})
            ax.set_xticks([])
            if r == 0:
                ax.set_title(p)
            if c == 0:
                ax.set_ylabel(solution_label(row).replace("\n", " "), fontsize=8)
    fig.suptitle("Within-cluster consistency per cluster")
    return fig
