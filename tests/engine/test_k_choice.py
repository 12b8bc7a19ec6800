"""A K the marginal-gain rule never chose (no gain below the threshold: the grid's largest K) is
never shown as "★ chosen": the report's K table, the CLI and the dashboard's tables say so."""
from clustering_engine.html_report import k_table_html
from clustering_engine.spec import K_THRESHOLD_NEVER_MET
from tests.fixtures.k_selection import k_selection_manifest as _manifest


def test_report_k_table_flags_the_fallback_and_states_the_threshold():
    never = k_table_html(_manifest(False))
    assert K_THRESHOLD_NEVER_MET in never and "★ chosen" not in never
    assert "below 0.01" in never
    fired = k_table_html(_manifest(True))
    assert "★ chosen" in fired and f"⚠ {K_THRESHOLD_NEVER_MET}" not in fired

