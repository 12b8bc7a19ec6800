"""Every table a PI reads equals its data: each table of the run dashboard, the two-solution
comparison, the scores page (comparison and intrusion tables) and the round page is rendered
for the scoring fixtures' run (real MediaEval posts, an engine-shaped manifest) coded by two
coders through the API with intrusion answers, and every cell is read back under its header (by
position, as the PI reads it) and compared with the JSON API and the exported CSV (read with
pandas). The count of cells compared is printed (``pytest -s``)."""
import io
import math
import zipfile
from decimal import Decimal, InvalidOperation
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
from django.urls import reverse

from scoring.services.table_columns import COMPARISON, INTRUSION_SCORES, PAIRS

pytestmark = pytest.mark.django_db

MISSING = {"—", "n/a", "not coded", "auto", ""}
THEMES = ("protest", "flood", "crowd", "hoax")


class TableReader(HTMLParser):
    """Each <table> by id: its header (the last header row) and body rows; per cell the text, the
    ``value`` span's text and the ``interval`` span's text."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tables, self._table, self._section, self._row, self._cell = {}, None, None, None, None
        self._spans = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self._table = {"head": [], "body": []}
            self.tables[attrs.get("id") or f"table-{len(self.tables)}"] = self._table
        elif self._table is None:
            return
        elif tag in ("thead", "tbody"):
            self._section = tag
        elif tag == "tr":
            self._row = []
            self._table["head" if self._section == "thead" else "body"].append(self._row)
        elif tag in ("th", "td"):
            self._cell = {"text": "", "value": None, "interval": None,
                          "column": attrs.get("data-column"), "colspan": attrs.get("colspan")}
            self._row.append(self._cell)
        elif tag == "span" and self._cell is not None:
            classes = (attrs.get("class") or "").split()
            self._spans.append(classes)
            for key in ("value", "interval"):
                if key in classes:
                    self._cell[key] = ""

    def handle_endtag(self, tag):
        if tag == "span" and self._spans:
            self._spans.pop()
        elif tag in ("th", "td"):
            self._cell, self._spans = None, []
        elif tag == "table":
            self._table = self._section = None

    def handle_data(self, data):
        if self._cell is None:
            return
        self._cell["text"] += data
        for classes in self._spans:
            for key in ("value", "interval"):
                if key in classes:
                    self._cell[key] += data

    def table(self, table_id: str) -> tuple[list[dict], list[list[dict]]]:
        table = self.tables[table_id]
        rows = [r for r in table["body"] if not (len(r) == 1 and r[0]["colspan"])]
        return table["head"][-1], rows


def shown(cell: dict) -> str:
    return " ".join((cell["value"] if cell["value"] is not None else cell["text"]).split())


def missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def agrees(text: str, expected) -> bool:
    """Whether a cell's text shows ``expected``: a missing mark for None/NaN; a number within
    half a unit of the last digit shown (percentages read as shares); else the same text."""
    if missing(expected):
        return text in MISSING
    if isinstance(expected, (bool, np.bool_)):     # yes / no, or the choice cell's ✓ / button
        return (text == "yes" or text.startswith("✓")) == bool(expected) and bool(text)
    if isinstance(expected, (int, float, np.integer, np.floating)):
        number = text.removesuffix("%").strip()
        try:
            decimal = Decimal(number)
        except InvalidOperation:
            return False
        scale = Decimal(100) if text.endswith("%") else Decimal(1)
        tolerance = Decimal(5) * Decimal(10) ** (decimal.as_tuple().exponent - 1) / scale
        return abs(decimal / scale - Decimal(repr(float(expected)))) <= tolerance + Decimal("1e-12")
    return text == str(expected)


class Comparisons:
    """Counts every cell compared with a source; collects the disagreements."""

    def __init__(self):
        self.count, self.failures = 0, []

    def check(self, where: str, text: str, expected):
        self.count += 1
        if not agrees(text, expected):
            self.failures.append(f"{where}: page shows {text!r}, data says {expected!r}")

    def table(self, page: TableReader, table_id: str, key_of, sources: dict, names=None,
              expect_rows: int | None = None):
        """Every cell of ``table_id`` under its header's name against each source in
        ``sources`` (name -> {row key: record}); ``names`` maps header text to a name where the
        header has no data-column; ``key_of`` gives a row's key from its cells by name."""
        header, rows = page.table(table_id)
        columns = [h["column"] or (names or {}).get(" ".join(h["text"].split()))
                   for h in header]
        assert all(columns), f"{table_id}: a header without a name: {header}"
        assert rows, f"{table_id}: no rows"
        if expect_rows is not None:
            assert len(rows) == expect_rows, table_id
        for row in rows:
            assert len(row) == len(header), \
                f"{table_id}: {len(row)} cells under {len(header)} headers"
            by_name = dict(zip(columns, row))
            key = key_of({name: shown(cell) for name, cell in by_name.items()})
            for source, records in sources.items():
                assert key in records, f"{table_id}: row {key} missing from {source}"
                record = records[key]
                for name, cell in by_name.items():
                    if name in record:
                        self.check(f"{table_id} {key} {name} vs {source}", shown(cell),
                                   record[name])
                    interval = cell["interval"]
                    bounds = INTERVALS.get(name)
                    if interval and bounds and all(b in record for b in bounds):
                        low, high = interval.strip("[] ").split(",")
                        self.check(f"{table_id} {key} {name} low vs {source}", low.strip(),
                                   record[bounds[0]])
                        self.check(f"{table_id} {key} {name} high vs {source}", high.strip(),
                                   record[bounds[1]])


# the row keys of the bounds a column shows after its value
INTERVALS = {c.name: c.interval for c in [*COMPARISON, *INTRUSION_SCORES, *PAIRS] if c.interval}


def code_round(client, validation_round, coders, seed=5):
    """Every post of every assigned cluster in every pass, through the coding API: themes drawn
    per cluster with a cluster-specific favourite, so consistency differs between solutions."""
    from annotation.models import Assignment

    rng = np.random.default_rng(seed)
    for coder in coders:
        client.force_login(coder)
        for assignment in Assignment.objects.filter(round=validation_round, coder=coder
                                                    ).select_related("cluster_sample"):
            sample = assignment.cluster_sample
            favourite = THEMES[sample.order % len(THEMES)]
            for pass_name in ("text", "image", "joint"):
                for post in sample.posts.all():
                    theme = favourite if rng.random() < 0.7 else str(rng.choice(THEMES))
                    response = client.put(
                        reverse("annotation-api:post-code", args=[post.public_id, pass_name]),
                        {"theme_name": theme, "base_version": 0},
                        content_type="application/json")
                    assert response.status_code == 201, response.content
                response = client.put(   # the cluster's common theme closes the pass
                    reverse("annotation-api:common-code", args=[sample.public_id, pass_name]),
                    {"theme_name": favourite, "base_version": 0},
                    content_type="application/json")
                assert response.status_code == 201, response.content


# What the engine records about a run (manifest.json), for the dashboard's tables: the AMI
# diagnostic, K selection in each method's own space, the S_Dbw matrix's spaces, the known
# groupings' column and the stability settings.
RUN_MANIFEST = {
    "ami_diagnostic": [
        {"algorithm": "kmeans", "k_text": 4, "k_image": 4, "ami": 0.0312, "p_value": 0.0099,
         "null_band": [-0.004, 0.006], "share_left_out": 0.0, "reading": "little shared"},
        {"algorithm": "kmeans", "k_text": 5, "k_image": 5, "ami": 0.0418, "p_value": 0.0198,
         "null_band": [-0.005, 0.007], "share_left_out": 0.0417, "reading": "little shared"}],
    "k_selection": {
        "vector/kmeans": {"method": "vector", "algorithm": "kmeans", "space": "vector",
                          "ks": [4, 25], "s_dbw": [0.9514, 0.812], "marginal_gain": [None, 0.0066],
                          "chosen_k": 25, "selects_k": True, "s_dbw_rose": [False, False],
                          "reduced_to_scat": [False, True]},
        "label/kmeans": {"method": "label", "algorithm": "kmeans", "space": "label",
                         "ks": [4, 25], "s_dbw": [0.6021, 0.644], "marginal_gain": [None, 0.002],
                         "chosen_k": 4, "selects_k": True, "s_dbw_rose": [False, True],
                         "reduced_to_scat": [False, False]}},
    "evaluation_spaces": {"matrix": {"label": "text and image spaces", "vector": "concat"}},
    "truth": {"column": "image_label"},
    "stability": {"threshold": 0.8, "seeds": 2, "k_agreement": {}},
}
STABILITY = {"vector-kmeans-k25": (0.8731, [0.8312, 0.9104]),
             "label-kmeans-k25": (0.7406, [0.7011, 0.7893])}


@pytest.fixture
def study(scored_run, run_output, users, coder2, client, django_capture_on_commit_callbacks):
    """The scored run with its manifest and stability, a consistency round over its two
    solutions coded by two coders through the API, an intrusion round answered by both, a
    chosen solution, and the export's CSVs read back with pandas."""
    from annotation.models import IntrusionTask
    from annotation.services.intrusion import create_round_with_tasks
    from annotation.services.intrusion_answers import save_answer
    from annotation.services.sampling import create_round
    from clustering_engine.run_arrays import write_array
    from scoring.services.choices import set_choice

    run = scored_run
    run.manifest = RUN_MANIFEST
    run.save(update_fields=["manifest"])
    for solution in run.solutions.all():
        mean, spread = STABILITY[solution.solution_id]
        solution.metrics = {**solution.metrics, "stability_ari_mean": mean,
                            "stability_ari_range": spread}
        solution.save(update_fields=["metrics"])
    labels = pd.read_parquet(run_output / "labels.parquet")["vector-kmeans-k25"].to_numpy()
    rng = np.random.default_rng(11)   # a common space with clear centres, for the intruders
    centres = rng.normal(scale=5.0, size=(labels.max() + 2, 8))
    (run_output / "spaces").mkdir()
    write_array(run_output / "spaces", "vector",
                (centres[labels] + rng.normal(scale=0.2, size=(len(labels), 8))
                 ).astype(np.float32))
    project = run.project
    solutions = list(run.solutions.order_by("solution_id"))
    coders = [users["coder"], coder2]
    consistency_round = create_round(project, solutions, name="consistency",
                                     created_by=users["pi"], posts_per_cluster=3, seed=3,
                                     calibration_clusters=2, overlap="full", coders=coders)
    code_round(client, consistency_round, coders)
    consistency_round.adjudication_open = True
    consistency_round.save(update_fields=["adjudication_open"])
    intrusion_round = create_round_with_tasks(
        project, solutions, consistency=False, intrusion_kinds=["text", "image"],
        items_per_task=3, calibration_tasks=0, coders=coders, name="intrusion",
        created_by=users["pi"], seed=4, overlap="full")
    tasks = list(IntrusionTask.objects.filter(round=intrusion_round))
    assert tasks
    for task in tasks:
        save_answer(task, coders[0], choice=task.intruder_position, unsure=False,
                    base_version=0, lead_time_s=float(rng.integers(2, 9)))
        unsure = bool(rng.random() < 0.1)
        save_answer(task, coders[1],
                    choice=None if unsure else int(rng.integers(1, task.n_items + 1)),
                    unsure=unsure, base_version=0, lead_time_s=4.0)
    set_choice(project, solutions[0].pk, users["pi"], True, "clearest themes")

    client.force_login(users["pi"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("scoring-api:exports", args=[project.pk]))
    assert response.status_code == 202, response.content
    job = client.get(reverse("scoring-api:export-detail", args=[response.json()["id"]])).json()
    assert job["status"] == "succeeded", job
    download = client.get(job["download_url"])
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    csv = {name.removesuffix(".csv"): pd.read_csv(io.BytesIO(archive.read(name)))
           for name in archive.namelist() if name.endswith(".csv")}
    return {"project": project, "run": run, "solutions": solutions,
            "round": consistency_round, "csv": csv}


def records_by(frame_or_rows, *keys) -> dict:
    rows = (frame_or_rows.to_dict("records") if isinstance(frame_or_rows, pd.DataFrame)
            else frame_or_rows)
    return {tuple(str(r[k]) for k in keys) if len(keys) > 1 else str(r[keys[0]]): r
            for r in rows}


def test_every_table_on_every_pi_page_equals_the_json_and_the_csv(study, users, client):
    project, run, csv = study["project"], study["run"], study["csv"]
    client.force_login(users["pi"])
    seen = Comparisons()

    def page(url):
        response = client.get(url)
        assert response.status_code == 200, url
        return TableReader(response.content.decode())

    # --- scores page: the comparison table and the intrusion table
    scores = client.get(reverse("scoring-api:comparison", args=[project.pk])).json()
    labels = {label: name for name, label in scores["columns"].items()}
    html = page(reverse("scoring:comparison", args=[project.pk]))
    header, _ = html.table("comparison")
    assert [labels.get(" ".join(h["text"].split()).rstrip(" ↑↓")) for h in header] == \
        [h["column"] for h in header], "a header's label is not its column's"
    comparison_csv = csv["tables/comparison"]
    assert list(comparison_csv.columns)[:3] == ["solution_id", "run_id", "method"]
    assert set(comparison_csv.columns) - {"n_clusters", "choice_note"} <= set(scores["rows"][0])
    seen.table(html, "comparison", lambda r: r["solution_id"].split()[0],
               {"comparison JSON": records_by(scores["rows"], "solution_id"),
                "tables/comparison.csv": records_by(comparison_csv, "solution_id")},
               names=labels, expect_rows=2)
    chosen = [r["solution_id"] for r in scores["rows"] if r["chosen"]]
    assert chosen == [study["solutions"][0].solution_id]
    intrusion_api = client.get(reverse("scoring-api:intrusion-scores", args=[project.pk])).json()
    intrusion_labels = {label: name for name, label in scores["intrusion"]["columns"].items()}
    assert intrusion_api["columns"] == scores["intrusion"]["columns"]
    header, _ = html.table("intrusion-table")
    assert [intrusion_labels.get(" ".join(h["text"].split())) for h in header] == \
        [h["column"] for h in header], "a header's label is not its column's"
    seen.table(html, "intrusion-table", lambda r: (r["solution_id"], r["kind"]),
               {"comparison JSON (intrusion)": records_by(scores["intrusion"]["rows"],
                                                          "solution_id", "kind"),
                "intrusion JSON": records_by(intrusion_api["per_solution"], "solution_id",
                                             "kind"),
                "scores/intrusion_solution_scores.csv": records_by(
                    csv["scores/intrusion_solution_scores"], "solution_id", "kind")},
               names=intrusion_labels)

    # --- which solution is better: the ranking and every pair (solutions differ by design)
    for table_id, key, json_key, csv_name, keys in (
            ("solution-ranking", "solution_ranking", "solution_ranking",
             "tables/solution_ranking", ("statistic", "pass", "solution_id")),
            ("solution-pairs", "solution_comparisons", "solution_comparisons",
             "tables/solution_comparisons", ("statistic", "pass", "solution_a", "solution_b"))):
        assert scores[json_key]["rows"], f"{json_key}: no rows"
        names = {label: name for name, label in scores[json_key]["columns"].items()}
        seen.table(html, table_id, lambda r, keys=keys: tuple(r[k] for k in keys),
                   {f"comparison JSON ({json_key})": records_by(scores[json_key]["rows"], *keys),
                    f"{csv_name}.csv": records_by(csv[csv_name], *keys)}, names=names,
                   expect_rows=len(scores[json_key]["rows"]))

    # --- run dashboard: AMI rows, choosing K, S_Dbw in every space, solutions
    detail = client.get(f"/api/runs/{run.pk}/").json()
    manifest = detail["manifest"]
    api_solutions = client.get("/api/solutions/", {"run": run.pk}).json()
    api_solutions = api_solutions.get("results", api_solutions)
    flat = {}
    for s in api_solutions:
        metrics = s["metrics"] or {}
        flat[s["solution_id"]] = {
            **{k: s[k] for k in ("solution_id", "method", "algorithm", "k", "n_clusters",
                                 "noise_share")},
            **{k: metrics.get(k) for k in ("s_dbw_own", "stability_ari_mean",
                                           "data_loss_top25")},
            "truth_ami": (metrics.get("truth") or {}).get("ami"),
            "truth_ari": (metrics.get("truth") or {}).get("ari"),
            **{f"s_dbw_{space}": value
               for space, value in (metrics.get("s_dbw_by_space") or {}).items()}}
    html = page(reverse("projects:run-dashboard", args=[run.pk]))
    seen.table(html, "solutions", lambda r: r["solution_id"].split()[0],
               {"solutions JSON": flat},
               expect_rows=sum(s["kind"] == "combined" for s in api_solutions))
    known = csv["tables/known_groupings"].rename(columns={"ami": "truth_ami",
                                                          "ari": "truth_ari"})
    known = records_by(known, "solution_id")
    header, rows = html.table("solutions")
    in_round = [r for r in rows if shown(r[0]).split()[0] in known]
    assert len(in_round) == 2
    space = records_by(csv["tables/s_dbw_by_space"], "solution_id")
    seen.table(html, "space-matrix", lambda r: r["solution_id"],
               {"solutions JSON": flat})
    matrix_header, matrix_rows = html.table("space-matrix")
    for row in matrix_rows:                       # the round's solutions are in the export too
        sid = shown(row[0])
        for head, cell in zip(matrix_header, row):
            if sid in space and head["column"] in space[sid]:
                seen.check(f"space-matrix {sid} {head['column']} vs csv", shown(cell),
                           space[sid][head["column"]])
    for row in in_round:
        sid = shown(row[0]).split()[0]
        for head, cell in zip(header, row):
            if head["column"] in ("truth_ami", "truth_ari"):
                seen.check(f"solutions {sid} {head['column']} vs known_groupings.csv",
                           shown(cell), known[sid][head["column"]])
    k_rows = {}
    for entry in manifest["k_selection"].values():
        if not entry.get("selects_k", True):
            continue
        for i, k in enumerate(entry["ks"]):
            k_rows[(entry["method"], entry["algorithm"], entry["space"], str(k))] = {
                "method": entry["method"], "algorithm": entry["algorithm"],
                "space": entry["space"], "k": k, "s_dbw": entry["s_dbw"][i],
                "marginal_gain": entry["marginal_gain"][i]}
    seen.table(html, "k-selection", lambda r: (r["method"], r["algorithm"], r["space"], r["k"]),
               {"run JSON (manifest k_selection)": k_rows}, expect_rows=len(k_rows))
    if "ami-rows" in html.tables:
        seen.table(html, "ami-rows", lambda r: (r["algorithm"], r["k_text"], r["k_image"]),
                   {"run JSON (manifest ami_diagnostic)": records_by(
                       manifest["ami_diagnostic"], "algorithm", "k_text", "k_image")})

    # --- two solutions side by side: row shares against the exported cluster labels
    a, b = study["solutions"]
    html = page(reverse("projects:solution-compare", args=[run.pk]) + f"?a={a.pk}&b={b.pk}")
    labels_csv = csv[f"assignments/run-{run.pk}-labels"]
    counts = pd.crosstab(labels_csv[a.solution_id], labels_csv[b.solution_id])
    shares = {str(label): {"label": label, "n": int(counts.loc[label].sum()),
                           **{f"cluster_{c}": (counts.loc[label, c] / counts.loc[label].sum()
                                               if counts.loc[label, c] else None)
                              for c in counts.columns}}
              for label in counts.index}
    seen.table(html, "crosstab", lambda r: r["label"],
               {f"assignments/run-{run.pk}-labels.csv": shares}, expect_rows=len(shares))

    # --- the round page: the sampling report against the round's JSON
    round_ = study["round"]
    round_json = client.get(reverse("annotation-api:round-detail", args=[round_.pk])).json()
    html = page(reverse("annotation:round-manage", args=[round_.pk]))
    report_table = next(t for t, table in html.tables.items() if table["head"] and
                        [" ".join(h["text"].split()) for h in table["head"][-1]][:2]
                        == ["Solution", "Clusters"])
    seen.table(html, report_table, lambda r: r["solution_id"],
               {"round JSON (plan_report)": records_by(round_json["plan_report"]["solutions"],
                                                       "solution_id")},
               names={"Solution": "solution_id", "Clusters": "clusters", "Posts": "posts",
                      "Noise excluded": "noise_excluded",
                      "Clusters under the quota (posts)": "small_clusters_shown"},
               expect_rows=2)

    print(f"\npage tables vs JSON and CSV: {seen.count} cells compared")
    assert not seen.failures, "\n".join(seen.failures[:20])
    assert seen.count > 300
