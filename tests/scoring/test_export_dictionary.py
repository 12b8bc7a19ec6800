"""A real export is self-contained and documented: the coded posts carry, per code, where it
comes from and what the PI decided; every file and every column is in data_dictionary.json
(and README.md, made from it); every CSV equals the JSON read API where one exists, its Parquet
and (coded posts) its Stata .dta, which carries variable and value labels."""
import io
import json
import zipfile

import pandas as pd
import pytest
from django.urls import reverse

from annotation.services.adjudication import record_decision
from annotation.services.codebook import merge_themes
from annotation.models import Theme
from scoring.models import ExportJob
from scoring.services.exports.dictionary import describe_column, stata_label
from scoring.services.exports.glossary import CODED_POST_COLUMNS
from scoring.services.exports.stata import write_stata

# Over Stata's str2045: stored as strL, and must come back whole.
LONG_NOTE = "Coder 2 read the banner as a flood warning; the photo shows a march. " * 40 + "抗议"


def canonical(frame: pd.DataFrame, table: dict) -> pd.DataFrame:
    """``frame`` with each column cast by its type in the data dictionary, so a CSV, a Parquet
    file, a .dta file and JSON rows compare value by value (missing text: NaN, as in Stata)."""
    types = {c["name"]: c["type"] for c in table["columns"]}
    out = {}
    for name in frame.columns:
        values, kind = frame[name], types[name]
        if kind == "timestamp":
            values = pd.to_datetime(values, utc=True, format="ISO8601")
        elif kind in ("integer", "number"):
            values = pd.to_numeric(values).astype("float64")
        elif kind == "boolean":
            values = values.map({True: True, False: False, "True": True, "False": False,
                                 1: True, 0: False}).astype("boolean")
        else:
            values = values.astype(object).where(values.notna(), None)
            values = values.map(lambda v: None if v in ("", None) else str(v))
        out[name] = values
    return pd.DataFrame(out).reset_index(drop=True)


def read_csv(folder, table: dict) -> pd.DataFrame:
    """A CSV as a user following the dictionary reads it: text columns as text."""
    text = [c["name"] for c in table["columns"] if c["type"] == "string"]
    return pd.read_csv(folder / f"{table['name']}.csv", dtype={name: str for name in text})


def api_rows(client, url: str, **params) -> list[dict]:
    response = client.get(url, {"page_size": 5000, **params})
    assert response.status_code == 200, response.content[:300]
    return response.json()["results"]


def assert_same(csv: pd.DataFrame, other: pd.DataFrame, table: dict, columns=None):
    columns = columns or list(csv.columns)
    pd.testing.assert_frame_equal(canonical(csv[columns], table),
                                  canonical(other[columns], table), check_dtype=False)


@pytest.fixture
def decided_export(scored_run, coded, validation_round, users, client,
                   django_capture_on_commit_callbacks, tmp_path):
    """The coded cluster named by the PI, coder 2's "Flood" merged into "Protest", the first
    post decided (long note) and the cluster's common theme decided; then a real export."""
    sample, posts = coded
    project, pi = validation_round.project, users["pi"]
    protest = Theme.objects.get(project=project, name="Protest")
    merge_themes(Theme.objects.get(project=project, name="Flood"), protest, pi, "same event")
    sample.name = "Street protests"
    sample.save(update_fields=["name"])
    record_decision(sample, "text", protest, pi, LONG_NOTE, sampled_post=posts[0])
    record_decision(sample, "text", protest, pi, "both coders agree")
    client.force_login(pi)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("scoring:exports", args=[project.pk]))
    job = ExportJob.objects.get()
    assert job.status == "succeeded", job.error
    download = client.get(reverse("scoring:export-download", args=[job.pk]))
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    archive.extractall(tmp_path)
    dictionary = json.loads((tmp_path / "data_dictionary.json").read_text(encoding="utf-8"))
    return {"folder": tmp_path, "names": archive.namelist(), "dictionary": dictionary,
            "tables": {t["name"]: t for t in dictionary["tables"]}, "project": project,
            "sample": sample, "posts": posts}


@pytest.mark.django_db
def test_coded_posts_carry_where_each_code_comes_from_and_the_pis_decision(decided_export):
    export = decided_export
    sample, first = export["sample"], export["posts"][0]
    codes = read_csv(export["folder"], export["tables"]["data/coded_posts"])
    assert list(codes.columns[:12]) == [
        "code_id", "round_id", "round_name", "cluster_sample", "cluster_label", "cluster_name",
        "is_calibration", "solution_id", "run_id", "method", "algorithm", "k"]
    mine = codes[codes["cluster_sample"] == sample.public_id]
    assert set(mine["cluster_name"]) == {"Street protests"}
    assert set(mine["round_name"]) == {sample.round.name}
    assert set(mine["round_id"]) == {sample.round_id}
    solution = sample.solution
    assert mine[["solution_id", "method", "algorithm", "k"]].drop_duplicates().values.tolist() \
        == [[solution.solution_id, solution.method, solution.algorithm, solution.k]]
    on_first = mine[mine["post"] == first.public_id].set_index("coder")
    # coder_2 typed "Flood", reconciled by the merge into "Protest"; the PI decided "Protest"
    assert on_first.loc["coder_2", ["theme_raw", "theme", "theme_adjudicated"]].tolist() == \
        ["Flood", "Protest", "Protest"]
    assert set(on_first["decided_by"]) == {"pi"}
    assert set(on_first["decision_note"]) == {LONG_NOTE}
    assert on_first["decided_at"].notna().all() and on_first["lead_time_s"].isna().all()
    others = mine[mine["post"] != first.public_id]
    assert others[["theme_adjudicated", "decided_by", "decision_note"]].isna().all().all()
    assert others["created_at"].notna().all() and others["updated_at"].notna().all()

    common = read_csv(export["folder"], export["tables"]["data/common_themes"])
    decided = common[common["cluster_sample"] == sample.public_id]
    assert decided[["cluster_name", "theme_adjudicated", "decided_by", "decision_note"]] \
        .drop_duplicates().values.tolist() == [["Street protests", "Protest", "pi",
                                                "both coders agree"]]


@pytest.mark.django_db
def test_every_file_and_column_is_in_the_data_dictionary_and_the_readme(decided_export):
    export, dictionary = decided_export, decided_export["dictionary"]
    assert sorted(f["path"] for f in dictionary["files"]) == sorted(export["names"])
    assert all(f["description"] for f in dictionary["files"])
    assert dictionary["undocumented"] == []
    csvs = sorted(n.removesuffix(".csv") for n in export["names"] if n.endswith(".csv"))
    assert sorted(export["tables"]) == csvs          # every table described, none missing
    readme = (export["folder"] / "README.md").read_text(encoding="utf-8")
    for stem, table in export["tables"].items():
        header = list(pd.read_csv(export["folder"] / f"{stem}.csv", nrows=0).columns)
        assert [c["name"] for c in table["columns"]] == header, stem
        for column in table["columns"]:
            assert column["meaning"] and column["type"] in dictionary["types"], (stem, column)
            assert f"| `{column['name']}` | {column['type']} |" in readme, (stem, column)
        assert f"### {stem}" in readme
    tables = export["tables"]
    assert tables["data/coded_posts"]["files"] == [f"data/coded_posts{suffix}" for suffix in
                                                   (".csv", ".dta", ".jsonl", ".parquet")]
    assert "tables/comparison.tex" not in tables["tables/comparison"]["files"]
    passes = next(c for c in tables["data/coded_posts"]["columns"] if c["name"] == "pass")
    assert passes["allowed_values"] == ["text", "image", "joint"]
    for how in ("arrow::read_parquet", "haven::read_dta", "use data/coded_posts.dta"):
        assert how in readme


@pytest.mark.django_db
def test_every_csv_equals_its_parquet_and_the_json_api(decided_export, client):
    export, folder = decided_export, decided_export["folder"]
    for stem, table in export["tables"].items():
        assert_same(read_csv(folder, table), pd.read_parquet(folder / f"{stem}.parquet"),
                    table)

    project = export["project"]
    base = f"/api/scoring/projects/{project.pk}/analysis"
    for stem, kind in (("data/coded_posts", "post"), ("data/common_themes", "common")):
        table = export["tables"][stem]
        csv = read_csv(folder, table).sort_values("code_id")
        api = pd.DataFrame(api_rows(client, f"{base}/codes/", kind=kind)).rename(
            columns={"theme_id": "theme_raw_id"}).sort_values("code_id")
        shared = [c for c in csv.columns if c in api.columns]
        assert len(csv) == len(api) > 0 and len(shared) >= 18, shared
        assert_same(csv, api, table, shared)
    for stem, level in (("scores/cluster_scores", "cluster"),
                        ("scores/cluster_coder_scores", "coder")):
        table = export["tables"][stem]
        api = pd.DataFrame(api_rows(client, f"{base}/cluster-scores/", level=level))
        csv = read_csv(folder, table)
        assert len(csv) == len(api) > 0
        assert_same(csv, api, table, [c for c in csv.columns if c in api.columns])
    table = export["tables"]["tables/comparison"]
    api = pd.DataFrame(client.get(f"/api/scoring/projects/{project.pk}/comparison/")
                       .json()["rows"]).sort_values("solution_id")
    csv = read_csv(folder, table).sort_values("solution_id")
    assert len(csv) == len(api) == 2 and set(csv.columns) <= set(api.columns)
    assert_same(csv, api, table)
    reliability = client.get(f"{base}/reliability/").json()
    for stem, key in (("scores/reliability", "per_solution"),
                      ("scores/reliability_overall", "overall")):
        table = export["tables"][stem]
        csv, api = read_csv(folder, table), pd.DataFrame(reliability[key])
        assert len(csv) == len(api) > 0
        assert_same(csv, api, table, list(api.columns))


@pytest.mark.django_db
def test_stata_file_equals_the_csv_with_variable_and_value_labels(decided_export):
    folder, table = decided_export["folder"], decided_export["tables"]["data/coded_posts"]
    csv = read_csv(folder, table)
    with pd.io.stata.StataReader(folder / "data/coded_posts.dta") as reader:
        stata = reader.read()
        labels, value_labels = reader.variable_labels(), reader.value_labels()
    assert list(stata.columns) == list(csv.columns)
    times = [c["name"] for c in table["columns"] if c["type"] == "timestamp"]
    here, there = canonical(csv, table), canonical(stata, table)
    for name in times:          # Stata's %tc keeps milliseconds
        gap = (here[name] - there[name]).abs().dropna()
        assert here[name].isna().equals(there[name].isna()) and (gap < pd.Timedelta("1ms")).all()
    pd.testing.assert_frame_equal(here.drop(columns=times), there.drop(columns=times),
                                  check_dtype=False)
    assert LONG_NOTE in set(stata["decision_note"])       # strL: the whole note
    assert labels == {name: stata_label(describe_column("data/coded_posts", name).meaning)
                      for name in csv.columns}
    assert all(labels.values())
    assert set(value_labels["pass"].values()) == {"text", "image", "joint"}
    assert {"method", "algorithm"} <= set(value_labels)
    assert isinstance(stata["pass"].dtype, pd.CategoricalDtype)


def test_stata_file_of_no_codes_or_of_an_unforeseen_value_keeps_its_labels(tmp_path):
    """pandas cannot write an empty categorical column: the labels are given as such."""
    write_stata(pd.DataFrame(columns=CODED_POST_COLUMNS), tmp_path / "empty.dta",
                "data/coded_posts")
    with pd.io.stata.StataReader(tmp_path / "empty.dta") as reader:
        empty = reader.read()
        assert set(reader.value_labels()["pass"].values()) == {"text", "image", "joint"}
    assert list(empty.columns) == CODED_POST_COLUMNS and empty.empty
    legacy = pd.DataFrame({"method": ["rcca", "vector", None], "pass": ["joint", None, "text"]})
    write_stata(legacy, tmp_path / "legacy.dta", "data/coded_posts")
    back = pd.read_stata(tmp_path / "legacy.dta")
    assert back["method"].astype(object).where(back["method"].notna(), None).tolist() == \
        ["rcca", "vector", None]
    assert back["pass"].astype(object).where(back["pass"].notna(), None).tolist() == \
        ["joint", None, "text"]
