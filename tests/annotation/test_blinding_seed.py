"""A coder holding the public data and the engine must not be able to rerun a run: every run
without a seed from the PI draws a fresh secret one (kept in its config and manifest), and the
seed is shown to the project's PIs only (viewers read the configuration without it)."""
import json
import re
from pathlib import Path

import pytest
from django.urls import reverse

from projects.services.run_config import SEED_HIDDEN
from projects.services.runs import execute_run, start_run

# committed rows: the run's cancel watch reads them from its own thread and connection
pytestmark = pytest.mark.django_db(transaction=True)

QUICK = {"methods": ["text"], "ks": [4], "algorithms": ["kmeans"], "reduction": "pca",
         "n_components": 5, "ami_permutations": 1}


def _finished(project, dataset, user, options):
    run = start_run(project, dataset, dict(options), user, dispatch=False)
    assert execute_run(run.pk) == "succeeded", run.log
    run.refresh_from_db()
    return run


def test_runs_without_a_seed_get_fresh_seeds_shown_to_pis_only(project, dataset, users, client):
    first, second = (_finished(project, dataset, users["pi"], QUICK) for _ in range(2))
    seeds = [run.manifest["seed"] for run in (first, second)]
    assert seeds[0] != seeds[1] and 0 not in seeds                  # not the engine's default
    assert [run.config["seed"] for run in (first, second)] == seeds == [first.seed, second.seed]
    manifest = json.loads(Path(first.output_dir, "manifest.json").read_text(encoding="utf-8"))
    assert manifest["seed"] == seeds[0]                              # recorded in the run folder
    # a seed the PI gives is kept (to repeat a run)
    assert start_run(project, dataset, {**QUICK, "seed": 0}, dispatch=False).config["seed"] == 0

    client.force_login(users["pi"])
    assert client.get(f"/api/runs/{first.pk}/").json()["seed"] == seeds[0]
    client.force_login(users["viewer"])
    shown = client.get(f"/api/runs/{first.pk}/").json()
    assert shown["seed"] == shown["config"]["seed"] == shown["manifest"]["seed"] == SEED_HIDDEN
    assert shown["config"]["methods"] == ["text"]                    # the rest stays readable
    listed = client.get(f"/api/runs/?project={project.pk}").json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert rows and all(r["seed"] == SEED_HIDDEN for r in rows)
    page = client.get(reverse("projects:run-detail", args=[first.pk])).content.decode()
    assert re.search(r"<th>seed</th><td>hidden \(shown to the project&#x27;s PIs only\)</td>", page)
    client.force_login(users["coder"])
    assert client.get(f"/api/runs/{first.pk}/").status_code == 404
