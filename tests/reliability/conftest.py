"""Reliability catalogue setup: own PostgreSQL database name; the shared fixtures are in
tests/fixtures (loaded by tests/conftest.py).

``degenerate_run`` runs the real engine once per session on 30 MediaEval pairs whose texts are
all one string holding HTML, a <script>, emoji and right-to-left text: it serves the "every
text identical", "HDBSCAN all noise", "no NaN in any table" and "HTML rendered inert" cases.
"""
import pandas as pd
import pytest

from tests.databases import use_postgres_database
from tests.fixtures.platform import DATA

use_postgres_database("diptych_reliability")   # own database, so this package runs beside the others

HOSTILE_TEXT = ("<script>alert('xss')</script><img src=x onerror=alert(1)> <b>bold</b> "
                "مرحبا بالعالم 😀🇨🇳 שלום")
N_DEGENERATE = 30


@pytest.fixture(autouse=True)
def _platform_settings(platform_settings):
    """Every test here runs with the platform test settings (tests/fixtures/platform.py)."""
    return platform_settings


@pytest.fixture(scope="session")
def degenerate_run(tmp_path_factory, embedding_cache):
    """(output folder, pairs.csv path) of one real engine run where every text is identical."""
    if not (DATA / "pairs.csv").exists():
        pytest.skip(f"the MediaEval data is not at {DATA}")
    from clustering_engine.grid import GridConfig
    from clustering_engine.pipeline import EngineConfig, run
    from clustering_engine.reduce import ReductionConfig

    folder = tmp_path_factory.mktemp("degenerate")
    pairs = pd.read_csv(DATA / "pairs.csv", dtype=str).head(N_DEGENERATE)
    pairs["text"] = HOSTILE_TEXT
    pairs.to_csv(folder / "pairs.csv", index=False)
    config = EngineConfig(
        grid=GridConfig(ks=(2, 3), algorithms=("kmeans", "hdbscan"), ami_permutations=5,
                        reduction=ReductionConfig(method="pca", n_components=5)),
        cache_dir=str(embedding_cache), figure_formats=("svg",), workers=1)
    out = folder / "out"
    run(str(folder / "pairs.csv"), str(DATA), str(out), config=config, echo=lambda m: None)
    return out, folder / "pairs.csv"
