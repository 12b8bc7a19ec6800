"""The export carries the intrusion answers in long format (one row per task × coder, with lead
time) and the score tables; read back with pandas they match the dashboard's numbers, and the
manifest holds the conventions and each round's intrusion plan (seed, secret)."""
import io
import json
import zipfile

import numpy as np
import pandas as pd
import pytest
from django.urls import reverse

from annotation.intrusion_models import IntrusionTask
from annotation.services.intrusion_answers import save_answer
from scoring.models import ExportJob
from tests.fixtures.platform import client_for

pytestmark = pytest.mark.django_db


def test_export_matches_the_dashboard(intrusion_round, users, coder2, client, tmp_path,
                                      django_capture_on_commit_callbacks):
    rng = np.random.default_rng(8)
    tasks = list(IntrusionTask.objects.filter(round=intrusion_round).order_by("order")[:30])
    for task in tasks:
        save_answer(task, users["coder"], choice=task.intruder_position, unsure=False,
                    base_version=0, lead_time_s=float(rng.uniform(1, 9)))
        pick = int(rng.integers(0, 7))     # 0 = unsure
        save_answer(task, coder2, choice=pick or None, unsure=pick == 0, base_version=0,
                    lead_time_s=float(rng.uniform(1, 9)))
    project = intrusion_round.project
    client_for(client, users["pi"])
    dashboard = client.get(reverse("scoring-api:comparison", args=[project.pk])).json()
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(reverse("scoring-api:exports", args=[project.pk]))
    assert started.status_code == 202
    job = client.get(reverse("scoring-api:export-detail", args=[started.json()["id"]])).json()
    assert job["status"] == "succeeded", ExportJob.objects.get().error
    download = client.get(job["download_url"])
    zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content))).extractall(tmp_path)

    answers = pd.read_csv(tmp_path / "data/intrusion_answers.csv")
    assert len(answers) == 60 and not answers.duplicated(["task", "coder"]).any()
    assert set(answers["coder"]) == {"coder_1", "coder_2"}
    assert answers["lead_time_s"].between(1, 9).all()
    assert answers.loc[answers["coder"] == "coder_1", "correct"].all()
    assert (answers.loc[answers["unsure"], "correct"] == False).all()  # noqa: E712
    assert "coder_id" not in answers and "solution_pk" not in answers
    parquet = pd.read_parquet(tmp_path / "data/intrusion_answers.parquet")
    assert parquet["task"].tolist() == answers["task"].tolist()
    items = pd.read_csv(tmp_path / "data/intrusion_items.csv")
    assert items.groupby("task").size().eq(6).all() and items.groupby("task")["is_intruder"].sum().eq(1).all()

    # the export's per-solution table = the dashboard's intrusion rows
    exported = pd.read_csv(tmp_path / "scores/intrusion_solution_scores.csv")
    shown = pd.DataFrame(dashboard["intrusion"]["rows"])
    merged = exported.merge(shown, on=["solution_id", "kind"], suffixes=("_export", "_dashboard"))
    assert len(merged) == len(shown) == len(exported) > 0
    for column in ("precision", "wilson_low", "wilson_high", "p_value", "fisher_p", "n_answers",
                   "n_unsure", "median_lead_time_s"):
        assert np.allclose(merged[f"{column}_export"], merged[f"{column}_dashboard"],
                           rtol=1e-9, equal_nan=True), column
    # and recomputed from the long table with pandas: precision = mean of correct
    recomputed = answers.groupby(["solution_id", "kind"])["correct"].mean()
    for _, row in exported.iterrows():
        assert row["precision"] == pytest.approx(recomputed[(row["solution_id"], row["kind"])])

    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert "intrusion_precision" in manifest["scoring_conventions"]
    plan = manifest["intrusion_plans"][0]
    assert plan["round_id"] == intrusion_round.pk and plan["items_per_task"] == 5
    round_entry = next(r for r in manifest["rounds"] if r["round_id"] == intrusion_round.pk)
    assert round_entry["seed"] == 3 and round_entry["sampling_secret"] == intrusion_round.sampling_secret
    assert "data/intrusion_answers.csv" in manifest["files"]
