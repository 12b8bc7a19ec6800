"""A simulated study with known answers on the intrusion fixtures' finished run (300 real
MediaEval pairs, two solutions), coded through the real API on the test database: the scores
the API serves recover the planted values, and the export's CSVs equal the API."""
import io
from collections import Counter

import pytest
from django.core.management import CommandError, call_command

from annotation.models import PostCode
from scoring.services.simulated_study import SimulatedStudy
from scoring.services.simulation import CoderModel

pytestmark = pytest.mark.django_db(transaction=True)


def test_simulated_study_recovers_the_planted_values(intrusion_run):
    model = CoderModel(consistency={"label": 0.8, "vector": 0.6}, intrusion=0.7)
    study = SimulatedStudy(intrusion_run, model, coders=3, seed=1, clusters_per_solution=6)
    result = study.run_all()

    assert "NOT stored" not in " ".join(result.steps)
    assert any(step.startswith("merged “truth") for step in result.steps)
    consistency = result.consistency
    assert set(consistency["method"]) == {"label", "vector"}
    # label: p = 0.8; vector: p = 0.6 (planted E[modal share] a little above p)
    for row in consistency.to_dict("records"):
        assert row["planted"] >= row["p"] - 1e-9
        assert row["recovered"] == pytest.approx(row["planted"], abs=0.15), row
        assert row["ci_low"] < row["ci_high"]
    by_method = consistency.groupby("method")["recovered"].mean()
    assert by_method["label"] > by_method["vector"]
    assert consistency["covers"].mean() >= 0.5
    clusters = result.clusters
    assert clusters["covers"].mean() >= 0.8      # per coder × cluster Wilson intervals
    intrusion = result.intrusion
    assert len(set(intrusion["kind"])) >= 2 and intrusion["n_answers"].sum() >= 30, intrusion
    pooled = intrusion["n_correct"].sum() / intrusion["n_answers"].sum()
    assert pooled == pytest.approx(0.7, abs=0.15)
    # the PI's merge counts: coder 1's two spellings of one cluster's true theme score as one
    coder, sample, truth = study.variant_of
    names = [c.theme.name for c in PostCode.objects.filter(
        coder=coder, cluster_sample=sample, pass_name="text").select_related("theme")]
    merged = Counter(truth if name.startswith(truth) else name for name in names)
    unmerged = Counter(names)
    assert max(unmerged.values()) < max(merged.values())
    shown = clusters[(clusters["cluster_sample"] == sample.public_id)
                     & (clusters["pass"] == "text")]["consistency"]
    assert any(abs(v - max(merged.values()) / len(names)) < 1e-12 for v in shown), shown
    assert result.export_checks and all(equal for _, equal, _ in result.export_checks), \
        result.export_checks


def test_command_prints_planted_vs_recovered(intrusion_run):
    out = io.StringIO()
    call_command("simulate_study", run=intrusion_run.pk, consistency="label=0.8,vector=0.6",
                 intrusion=0.7, coders=2, seed=2, clusters_per_solution=2, stdout=out)
    text = out.getvalue()
    assert "planted" in text and "recovered" in text
    assert "label-kmeans-k9" in text and "vector-kmeans-k24" in text
    assert "DIFFERENT" not in text and text.count("  equal  ") == 3
    with pytest.raises(CommandError, match="unknown methods"):
        call_command("simulate_study", run=intrusion_run.pk, consistency="bogus=0.5",
                     stdout=io.StringIO())
