"""The full engine run on the MediaEval data (1,776 pairs): the default grid (3 methods x
9..100 x K-Means + HDBSCAN, UMAP to 50), time per stage and peak memory, with a cold and a
warm embedding cache.

    python benchmarks/bench_pipeline.py [--data ../shared/data/mediaeval2016_vmu]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.measure import measured, print_table  # noqa: E402
from clustering_engine.pipeline import EngineConfig, run  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "mediaeval2016_vmu"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        config = EngineConfig(cache_dir=f"{tmp}/cache")
        for label in ("cold cache", "warm cache"):
            with measured({"run": label}) as row:
                manifest = run(f"{args.data}/pairs.csv", args.data, f"{tmp}/{label}", config,
                               echo=lambda _: None)
            row.update({k: v for k, v in manifest["timings"].items()})
            rows.append(row)
    stages = [k for k in rows[0] if k not in ("run", "seconds", "peak_rss_gib", "delta_rss_gib")]
    print_table(rows, ["run", "seconds", "peak_rss_gib", *stages],
                title=f"Engine run on {manifest['data']['n_pairs_clustered']} MediaEval pairs, "
                      f"{len(manifest['solutions'])} solutions (seconds per stage)")


if __name__ == "__main__":
    main()
