"""Scoring test setup: the annotation fixtures (a finished run with two solutions, a round
coded by two coders) imported, not edited; machine metrics and a manifest.json added to the
run folder here. Own PostgreSQL database name, so the scoring tests run beside the others.
"""
import json

from tests.databases import use_postgres_database  # noqa: E402

use_postgres_database("diptych_scoring")   # before tests.platform.conftest configures Django

import pytest  # noqa: E402

from tests.annotation.conftest import (coder2, finished_run, pairs_frame,  # noqa: E402,F401
                                       run_output, solutions, validation_round)
from tests.platform.conftest import (DATA, client_for, embedding_cache,  # noqa: E402,F401
                                     platform_settings, project, users)

METRICS = {
    "vector-kmeans-k25": {"s_dbw_own": 0.812, "s_dbw_common": 0.905, "ami_text_image": 0.031,
                          "data_loss_top25": 0.0417},
    "label-kmeans-k25": {"s_dbw_own": None, "s_dbw_common": 1.204, "ami_text_image": 0.031,
                         "data_loss_top25": 0.0},
}
ENGINE_MANIFEST = {
    "format": "diptych-engine-run/1", "created_at": "2026-11-27T10:00:00+00:00", "seed": 0,
    "config": {"grid": {"seed": 0, "ks": [25]}},
    "versions": {"python": "3.12", "numpy": "2.x"},
    "models": {"text": {"id": "use-multilingual", "weights_sha256": "ab12"},
               "image": {"id": "efficientnet-lite0", "weights_sha256": "cd34"}},
    "evaluation_spaces": {"own": "the reduced space each solution was clustered in",
                          "common": "common space: L2-normalised text+image concatenation"},
}


@pytest.fixture
def scored_run(finished_run, run_output):
    """The annotation run with machine metrics, a manifest.json and one engine figure."""
    for solution in finished_run.solutions.all():
        solution.metrics = METRICS[solution.solution_id]
        solution.save(update_fields=["metrics"])
    (run_output / "manifest.json").write_text(json.dumps(ENGINE_MANIFEST), encoding="utf-8")
    (run_output / "figures").mkdir()
    (run_output / "figures" / "sdbw_common.svg").write_text("<svg/>", encoding="utf-8")
    return finished_run


def pytest_configure(config):
    config.addinivalue_line("filterwarnings", "ignore:No directory at:UserWarning")
