"""A full export of the largest project already in a database, timed by part (read, build,
write per table and figures, zip) with the peak RSS of this process.

Reuses the project ``bench_platform_100coders.py`` creates (750,000 post codes), so no round is
built; the sum of the parts is what the export job spends. After the total, the same folder is
zipped again at deflate level 6 (zipfile's default, the level before) for comparison, with
both zips' sizes.

    python benchmarks/bench_export_parts.py
        [--database postgres://postgres@127.0.0.1:5432/diptych_scores_bench]
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.databases import largest_project, setup_django  # noqa: E402
from benchmarks.measure import machine_load, measured, print_table  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=os.environ.get(
        "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/diptych_scores_bench"))
    args = parser.parse_args()
    workdir = setup_django(args.database, "diptych-bench-export-")

    from clustering_engine.figures import FORMATS, save_figure
    from scoring.services.exports.builder import build_bundle
    from scoring.services.exports.reader import read_export_inputs
    from scoring.services.exports.dictionary import dictionary_files
    from scoring.services.exports.stata import write_stata
    from scoring.services.exports.writer import STATA_TABLES, ZIP_LEVEL, write_table, zip_folder

    project = largest_project()
    rows, folder = [], workdir / "export"

    def part(name, run):
        with measured({}) as m:
            value = run()
        rows.append({"part": name, "seconds": m["seconds"], "peak_rss_gib": m["peak_rss_gib"]})
        print(f"  {name}: {m['seconds']:.1f} s, peak {m['peak_rss_gib']:.2f} GiB", flush=True)
        return value

    with measured({}) as total:
        inputs = part("read", lambda: read_export_inputs(project))
        bundle = part("build", lambda: build_bundle(inputs))
        for stem, frame in bundle.tables.items():
            if len(frame) > 10_000:
                part(f"write {stem} ({len(frame):,} rows)", lambda: write_table(frame, folder / stem))
            else:
                write_table(frame, folder / stem)
            if stem in STATA_TABLES:
                part(f"write {stem}.dta", lambda: write_stata(frame, folder / f"{stem}.dta", stem))
        part("figures", lambda: [save_figure(f, folder / s, FORMATS)
                                 for s, f in bundle.figures.items()])
        part("data dictionary", lambda: [
            (folder / name).write_text(text, encoding="utf-8") for name, text in dictionary_files(
                bundle.tables, [p.relative_to(folder).as_posix() for p in folder.rglob("*")
                                if p.is_file()]).items()])
        zipped = part(f"zip (level {ZIP_LEVEL})", lambda: zip_folder(folder, workdir / "export.zip"))
        zip_row = rows[-1]
    rows.append({"part": "total", "seconds": total["seconds"],
                 "peak_rss_gib": total["peak_rss_gib"]})
    level6 = part("for comparison: zip at level 6 (not in the total)",
                  lambda: zip_folder(folder, workdir / "export-6.zip", compresslevel=6))
    zip_row["zip_mib"] = zipped.stat().st_size / 2**20
    rows[-1]["zip_mib"] = level6.stat().st_size / 2**20
    print_table(rows, ["part", "seconds", "peak_rss_gib", "zip_mib"],
                f"Export by part, project {project.pk}; {machine_load()}")
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
