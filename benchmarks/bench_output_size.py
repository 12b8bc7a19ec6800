"""Bytes a run writes for its figures: galleries as before (PNG + SVG + PDF at 200 dpi, every
tile embedded losslessly) and as now (one JPEG per gallery), charts in their vector formats.

The galleries are drawn from the real MediaEval 2016 pairs (their images and texts): per method
(label, vector, joint) 10 clusters x 5 images, the clusters being the data set's events in a
seeded shuffle, which is what a gallery holds (a run's representatives). The charts (S_Dbw vs K,
marginal gain, data loss) use a synthetic grid of 3 methods x 8 K. Sizes are on disk, in MB.

    python benchmarks/bench_output_size.py [--data ../shared/data/mediaeval2016_vmu]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from benchmarks.measure import machine_load, measured, print_table  # noqa: E402
from clustering_engine import figures  # noqa: E402
from clustering_engine.html_report import GALLERY_DPI  # noqa: E402
from clustering_engine.spec import FIGURE_FORMATS, GALLERY_FORMAT  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "data" / "mediaeval2016_vmu"


def gallery_clusters(data: Path, seed: int) -> list[dict]:
    pairs = pd.read_csv(data / "pairs.csv", dtype=str)
    rng = np.random.default_rng(seed)
    clusters = []
    for label, (_, group) in enumerate(pairs.groupby("event")):
        picks = group.iloc[rng.permutation(len(group))[:5]]
        clusters.append({"label": label, "size": len(group), "share": len(group) / len(pairs),
                         "top_terms": group["event"].iloc[0].split("_"),
                         "image_paths": [str(data / p) for p in picks["image"]],
                         "texts": list(picks["text"])})
    order = rng.permutation(len(clusters))
    return [clusters[i] for i in order[:10]]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    ks = [9, 16, 25, 36, 49, 64, 81, 100]
    series = {m: list(zip(ks, rng.uniform(0.5, 1.5, len(ks)))) for m in ("label", "vector", "joint")}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        before, after = Path(tmp, "before"), Path(tmp, "after")
        for name, fig in (("sdbw_vs_k_common", figures.plot_sdbw_vs_k(series, "common space")),
                          ("data_loss", figures.plot_data_loss(
                              {m: list(np.cumsum(rng.dirichlet(np.ones(25)))) for m in series}))):
            for folder in (before, after):
                figures.save_figure(fig, folder / name, formats=FIGURE_FORMATS)
        for seed, method in enumerate(("label", "vector", "joint")):
            fig = figures.plot_cluster_gallery(gallery_clusters(args.data, seed))
            with measured({}) as old:
                figures.save_figure(fig, before / f"gallery_{method}", formats=FIGURE_FORMATS)
            with measured({}) as new:
                figures.save_figure(fig, after / f"gallery_{method}", formats=(GALLERY_FORMAT,),
                                    dpi=GALLERY_DPI)
            rows.append({"figure": f"gallery_{method}",
                         "before_mb": sum((before / f"gallery_{method}.{f}").stat().st_size
                                          for f in FIGURE_FORMATS) / 1e6,
                         "before_seconds": old["seconds"],
                         "after_mb": (after / f"gallery_{method}.{GALLERY_FORMAT}").stat().st_size / 1e6,
                         "after_seconds": new["seconds"]})
        charts_mb = sum(p.stat().st_size for p in before.iterdir()
                        if not p.name.startswith("gallery_")) / 1e6
        rows.append({"figure": "2 charts (png+svg+pdf), unchanged", "before_mb": charts_mb,
                     "after_mb": charts_mb})
        rows.append({"figure": "all of the above",
                     "before_mb": sum(p.stat().st_size for p in before.iterdir()) / 1e6,
                     "after_mb": sum(p.stat().st_size for p in after.iterdir()) / 1e6})
    print_table(rows, ["figure", "before_mb", "after_mb", "before_seconds", "after_seconds"],
                f"Figure bytes on disk (galleries: MediaEval 2016 images, 10 clusters x 5 images); "
                f"{machine_load()}")


if __name__ == "__main__":
    main()
