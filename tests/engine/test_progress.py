"""A run's progress never goes backwards and says "done" once, last (the grid's own end used to
print "[90 %] done" before "[88 %] stability")."""
import dataclasses

from clustering_engine.grid import GridConfig
from clustering_engine.pipeline import EngineConfig, monotonic_progress, run
from clustering_engine.reduce import ReductionConfig

from .mediaeval import needs_data, small_table


def test_monotonic_progress_never_goes_back_and_keeps_done_for_the_end():
    seen = []
    advance = monotonic_progress(lambda stage, fraction: seen.append((stage, fraction)))
    for stage, fraction in (("a", 0.1), ("done", 0.9), ("b", 0.88), ("done", 1.0)):
        advance(stage, fraction)
    assert seen == [("a", 0.1), ("finishing", 0.9), ("b", 0.9), ("done", 1.0)]


@needs_data
def test_a_run_with_stability_reports_monotonic_progress_and_done_once_last(tmp_path):
    table, _ = small_table(tmp_path)
    seen = []
    grid = dataclasses.replace(GridConfig(), methods=("text", "vector"), ks=(4, 9),
                               algorithms=("kmeans",),
                               reduction=ReductionConfig(method="pca", n_components=8))
    config = EngineConfig(grid=grid, cache_dir=str(tmp_path / "cache"), stability_seeds=1)
    run(str(table), str(tmp_path), str(tmp_path / "out"), config,
        lambda stage, fraction: seen.append((stage, fraction)), echo=lambda _: None)
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions)
    assert [s for s, _ in seen].count("done") == 1 and seen[-1] == ("done", 1.0)
    assert "stability" in [s for s, _ in seen]
