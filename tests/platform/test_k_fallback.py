"""The dashboard's K table and solutions table flag a K the marginal-gain rule never chose."""
from types import SimpleNamespace

from clustering_engine.spec import K_THRESHOLD_NEVER_MET
from tests.fixtures.k_selection import k_selection_manifest as _manifest


def test_dashboard_k_table_and_solutions_flag_the_fallback():
    from projects.services import run_queries, run_tables

    run = SimpleNamespace(manifest=_manifest(False))
    rows = run_queries.k_table(run)
    assert [r["k_fallback"] for r in rows] == [False, False, True]
    assert run_queries.fallback_solution_ids(run) == {"vector-kmeans-k25"}
    assert run_queries.fallback_solution_ids(SimpleNamespace(manifest=_manifest(True))) == set()
    spec = next(c for c in run_tables.K_SELECTION if c.name == "k")
    assert any(K_THRESHOLD_NEVER_MET in label for _, label, _ in spec.flags)
