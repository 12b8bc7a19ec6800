"""The run's readings end to end on real MediaEval pairs: known groupings (--truth-column),
the AMI card, the K table with its flags, the S_Dbw matrix, the joint-model notice and the
distinct representatives."""
import json

import pytest

from clustering_engine.cli import main as cli_main, truth_table
from clustering_engine.spec import K_THRESHOLD_NEVER_MET

from .mediaeval import DATA, needs_data, small_table


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    if not (DATA / "pairs.csv").exists():
        pytest.skip(f"MediaEval demo data not found at {DATA}")
    tmp = tmp_path_factory.mktemp("readings")
    table, _ = small_table(tmp, n=80)
    out = tmp / "out"
    code = cli_main(["run", "--data", str(table), "--images", str(tmp), "--out", str(out),
                     "--ks", "4,9", "--algorithms", "kmeans", "--reduction", "pca",
                     "--n-components", "8", "--methods", "text,image,label,vector",
                     "--truth-column", "event", "--cache-dir", str(tmp / "cache")])
    assert code == 0
    return out, json.loads((out / "manifest.json").read_text())


@needs_data
def test_truth_metrics_for_every_solution_in_manifest_report_and_figure(run):
    out, manifest = run
    assert manifest["truth"] == {"column": "event", "used_to_cluster": False,
                                 "metrics": ["ami", "ari", "homogeneity", "completeness"]}
    for s in manifest["solutions"]:
        truth = s["metrics"]["truth"]
        assert set(truth) >= {"ami", "ari", "homogeneity", "completeness", "share_left_out"}
    html = (out / "report.html").read_text()
    assert "Known groupings: agreement with &#x27;event&#x27;" in html or \
        "Known groupings: agreement with 'event'" in html
    assert "class='sortable truth'" in html
    assert (out / "figures" / "truth_ami_by_k.png").stat().st_size > 1000
    table = truth_table(manifest)
    assert table.splitlines()[1].split() == ["method", "K=4", "K=9"]
    assert {line.split()[0] for line in table.splitlines()[2:]} == {"text", "image", "label",
                                                                    "vector"}


@needs_data
def test_report_reads_ami_in_the_papers_direction_and_flags_k_steps(run):
    out, manifest = run
    assert manifest["ami"]["normalisation"] == "max" and "Eq. (1)" in manifest["ami"]["formula"]
    row = manifest["ami_diagnostic"][0]
    assert row["average_method"] == "max" and "share_left_out" in row
    html = (out / "report.html").read_text()
    assert "the less joint clustering should add" in html
    assert "project&#x27;s own convention" in html or "project's own convention" in html
    assert "class='sortable ktable'" in html
    choosing = [v for v in manifest["k_selection"].values() if v["selects_k"]]
    # a K the rule chose is starred; the grid's largest K taken because it never fired is not
    assert ("★ chosen" in html) == any(v["threshold_met"] for v in choosing)
    assert (K_THRESHOLD_NEVER_MET in html) == (not all(v["threshold_met"] for v in choosing))
    assert "class='sortable matrix'" in html and " ●" in html
    # The notice that no pretrained multimodal model was configured comes first.
    assert html.index("class=notice") < html.index("AMI diagnostic")
    rose = [v for v in manifest["k_selection"].values() if v["selects_k"] and any(v["s_dbw_rose"][1:])]
    if rose:
        assert "S_Dbw rose from the previous K" in html


@needs_data
def test_descriptions_record_languages_and_duplicates_skipped(run):
    out, manifest = run
    assert "en" in manifest["description"]["stop_word_languages"]
    clusters = json.loads((out / "clusters.json").read_text())
    assert "_about" not in clusters
    skipped = sum(c["duplicates_skipped"] for cl in clusters.values() for c in cl)
    assert skipped == manifest["description"]["representatives_duplicates_skipped"]
    # The first MediaEval pairs repeat a few photos many times: some duplicates are skipped,
    # and no cluster shows the same photo twice while it has other photos.
    assert skipped > 0


@needs_data
def test_missing_truth_column_is_a_clear_error(tmp_path, capsys):
    table, _ = small_table(tmp_path, n=20)
    code = cli_main(["run", "--data", str(table), "--images", str(tmp_path), "--out",
                     str(tmp_path / "o"), "--ks", "4", "--algorithms", "kmeans",
                     "--reduction", "pca", "--n-components", "4", "--methods", "vector",
                     "--truth-column", "evnt", "--cache-dir", str(tmp_path / "cache")])
    err = capsys.readouterr().err
    assert code == 2 and "'evnt'" in err and "event" in err
