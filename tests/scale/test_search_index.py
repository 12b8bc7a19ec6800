"""Gallery text search through the per-run trigram index gives exactly what a scan of every
text gives (case-insensitive substring), without reading pairs.parquet per request."""
import numpy as np
import pandas as pd
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from projects.models import ClusterSummary, Dataset, EngineRun, RunStatus, Solution
from projects.services import run_queries, search_index

from tests.fixtures.platform import DATA, client_for

TEXTS = ["Road BLOCKADE near the bridge", "a*b [x] 10? glob specials", 'he said "stop" NOW',
         "抗议者在政府大楼前集会", "مظاهرة أمام مبنى الحكومة",
         "100% sure_thing", "a\\b back\\slash", "", "blockade again, road closed", "Ünïcödé ÉCOLE",
         "short", "x"]


@pytest.fixture
def search_run(project, tmp_path):
    real = pd.read_csv(DATA / "pairs.csv", dtype=str, nrows=300)["text"].tolist() \
        if (DATA / "pairs.csv").exists() else []
    texts = TEXTS + real
    n = len(texts)
    out = tmp_path / "run"
    out.mkdir()
    ids = [f"p{i}" for i in range(n)]
    pd.DataFrame({"pair_id": ids, "post_id": ids, "text": texts, "image": ["i.jpg"] * n}
                 ).to_parquet(out / "pairs.parquet", index=False)
    labels = np.array([-1 if i % 11 == 0 else i % 7 for i in range(n)], dtype=np.int32)
    pd.DataFrame({"pair_id": ids, "vector-kmeans-k7": labels}).to_parquet(
        out / "labels.parquet", index=False)
    dataset = Dataset.objects.create(project=project, name="s", source="folder",
                                     table_path=str(out / "t.csv"), images_root=str(out),
                                     n_rows_read=n, n_pairs_valid=n)
    run = EngineRun.objects.create(project=project, dataset=dataset, status=RunStatus.SUCCEEDED,
                                   output_dir=str(out))
    solution = Solution.objects.create(run=run, solution_id="vector-kmeans-k7", method="vector",
                                       algorithm="kmeans", k=7, n_clusters=7)
    ClusterSummary.objects.bulk_create([ClusterSummary(solution=solution, label=c, rank=c + 1,
                                                       size=int((labels == c).sum()), share=0.1)
                                        for c in range(7)])
    return run, solution


def _scan(solution, query):
    """The previous implementation: a scan of every text."""
    out = solution.run.output_dir
    texts = pq.read_table(f"{out}/pairs.parquet", columns=["text"])["text"]
    hits = pc.match_substring(texts, query, ignore_case=True).to_numpy(zero_copy_only=False)
    labels = pq.read_table(f"{out}/labels.parquet", columns=[solution.solution_id])
    labels = labels[solution.solution_id].to_numpy()[hits.astype(bool)]
    values, counts = np.unique(labels[labels >= 0], return_counts=True)
    return {int(v): int(c) for v, c in zip(values, counts)}


@pytest.mark.django_db
def test_index_matches_a_full_scan(search_run, monkeypatch):
    run, solution = search_run
    queries = ["blockade", "ROAD", "政府", "الحكومة", "100%", "%", "_", "sure_", "a\\b", "\\",
               "x", "ro", "é", "école", "the", "http", "bomb", "4chan", "nothing-like-this",
               "10?", "[x", "a*b", '"stop"', 'd "st', '"', "now", "sure_thing", "ÉCOLE", "政府大楼"]
    for query in queries:
        assert run_queries.clusters_matching_text(solution, query) == _scan(solution, query), query

    # Requests never read pairs.parquet once the index exists.
    reads = []
    real_read = pq.read_table
    monkeypatch.setattr(pq, "read_table", lambda path, *a, **k: (reads.append(str(path)),
                                                                 real_read(path, *a, **k))[1])
    # "blockade" is in rows 0 (noise) and 8 (cluster 1)
    assert run_queries.clusters_matching_text(solution, "blockade") == {1: 1}
    assert reads and not any(r.endswith("pairs.parquet") for r in reads), reads


@pytest.mark.django_db
def test_gallery_search_page_and_rebuild(search_run, client, users):
    run, solution = search_run
    path = search_index.build_index(run)
    assert path.exists() and path.parent.name == "search"
    page = client_for(client, users["pi"]).get(f"/solutions/{solution.pk}/gallery/?q=blockade")
    assert page.status_code == 200 and b"1 matching" in page.content
    # Re-stored outputs (new pairs.parquet) get a fresh index; the stale one is removed.
    out = run.output_dir
    frame = pd.read_parquet(f"{out}/pairs.parquet")
    frame.loc[2, "text"] = "a new blockade"
    frame.to_parquet(f"{out}/pairs.parquet", index=False)
    assert search_index.index_path(run) != path
    assert sum(run_queries.clusters_matching_text(solution, "blockade").values()) == 2  # + row 2
    assert not path.exists()
