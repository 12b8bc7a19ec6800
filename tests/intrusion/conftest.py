"""Intrusion-test setup: a finished engine run made directly on 900 real MediaEval pairs (used in
place from ../shared/data, never copied) with two solutions, real c-TF-IDF terms in
clusters.json (clustering_engine.describe) and a seeded common space with known cluster centres.

The platform and annotation fixtures (users, project, coder2) come from tests/fixtures (loaded
by tests/conftest.py). Own PostgreSQL database name, so these tests run beside the others.
"""
import json

import numpy as np
import pandas as pd
import pytest

from tests.databases import use_postgres_database
from tests.fixtures.platform import DATA

use_postgres_database("diptych_intrusion")   # own database, so this package runs beside the others


@pytest.fixture(autouse=True)
def _platform_settings(platform_settings):
    """Every test here runs with the platform test settings (tests/fixtures/platform.py)."""
    return platform_settings


N_PAIRS = 900
SHARED_PHOTO_ROWS = 40
BY_ROW = "vector-kmeans-k24"      # 24 clusters, label = row % 24 (distinct texts, mixed images)
BY_IMAGE = "label-kmeans-k9"      # 7 clusters by image; cluster 6 holds one image only
SOLUTION_PKS = {BY_ROW: 9101, BY_IMAGE: 9102}


def labels_by_row(frame):
    return np.arange(len(frame)) % 24


def labels_by_image(frame):
    codes = pd.factorize(frame["image"])[0]
    return np.where(codes == 0, 6, codes % 6)


@pytest.fixture(scope="session")
def intrusion_pairs():
    """The first 40 rows (tweets sharing a few photos), then one row per further photo, then
    further tweets of those photos: intrusion items are posts seen nowhere else in the round
    (consistency samples take some), and image tasks need many photos."""
    if not (DATA / "pairs.csv").exists():
        pytest.skip(f"the MediaEval data is not at {DATA}")
    everything = pd.read_csv(DATA / "pairs.csv", dtype=str)
    head = everything.head(SHARED_PHOTO_ROWS)
    rest = everything.iloc[SHARED_PHOTO_ROWS:]
    rest = rest[~rest["image"].isin(head["image"])]
    one_per_photo = rest.drop_duplicates("image")
    frame = pd.concat([head, one_per_photo, rest.drop(one_per_photo.index)]
                      ).head(N_PAIRS).reset_index(drop=True)
    return pd.DataFrame({"pair_id": frame["id"], "post_id": frame["id"], "text": frame["text"],
                         "image": frame["image"], "lang": frame["lang"]})


def common_space(labels: np.ndarray, seed: int = 11) -> np.ndarray:
    """Rows near seeded cluster centres (8 dimensions), so centroid distances are clear."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=5.0, size=(labels.max() + 1, 8))
    return (centres[labels] + rng.normal(scale=0.2, size=(len(labels), 8))).astype(np.float32)


@pytest.fixture
def intrusion_output(tmp_path, intrusion_pairs):
    from clustering_engine.describe import ctfidf_terms
    from clustering_engine.run_arrays import write_array

    out = tmp_path / "run-output"
    (out / "spaces").mkdir(parents=True)
    intrusion_pairs.to_parquet(out / "pairs.parquet", index=False)
    labels = {BY_ROW: labels_by_row(intrusion_pairs), BY_IMAGE: labels_by_image(intrusion_pairs)}
    pd.DataFrame({"pair_id": intrusion_pairs["pair_id"],
                  **{sid: pd.array(v, dtype="int32") for sid, v in labels.items()}}
                 ).to_parquet(out / "labels.parquet", index=False)
    write_array(out / "spaces", "vector", common_space(labels[BY_ROW]))
    clusters = {}
    for sid, values in labels.items():
        terms = ctfidf_terms(intrusion_pairs["text"].tolist(), values, top_n=10, language="en")
        clusters[sid] = [{"cluster": int(c), "size": int((values == c).sum()),
                          "top_terms": [[t, w] for t, w in terms[int(c)]]}
                         for c in sorted(set(values.tolist()))]
    (out / "clusters.json").write_text(json.dumps(clusters), encoding="utf-8")
    return out


@pytest.fixture
def intrusion_run(project, intrusion_output):
    from projects.models import Dataset, EngineRun, RunStatus, Solution

    dataset = Dataset.objects.create(project=project, name="mediaeval", source="folder",
                                     table_path=str(DATA / "pairs.csv"), images_root=str(DATA),
                                     n_rows_read=N_PAIRS, n_pairs_valid=N_PAIRS)
    run = EngineRun.objects.create(project=project, dataset=dataset, status=RunStatus.SUCCEEDED,
                                   stage="done", progress=1.0, output_dir=str(intrusion_output))
    for sid, method, space, k, n in ((BY_ROW, "vector", "vector", 24, 24),
                                     (BY_IMAGE, "label", "", 9, 7)):
        Solution.objects.create(pk=SOLUTION_PKS[sid], run=run, solution_id=sid, method=method,
                                algorithm="kmeans", k=k, n_clusters=n, space=space,
                                metrics={"s_dbw_own": 0.7 if space else None,
                                         "s_dbw_common": 0.9, "ami_text_image": 0.03})
    return run


@pytest.fixture
def intrusion_solutions(intrusion_run):
    return list(intrusion_run.solutions.order_by("pk"))


@pytest.fixture
def intrusion_round(project, intrusion_solutions, users, coder2):
    """A round with intrusion tasks of every kind (k = 5) and consistency coding, full overlap."""
    from annotation.services.intrusion import create_round_with_tasks

    return create_round_with_tasks(
        project, intrusion_solutions, name="intrusion round", created_by=users["pi"],
        posts_per_cluster=4, seed=3, calibration_clusters=2, overlap="full",
        intrusion_kinds=["term", "text", "image", "joint"], coders=[users["coder"], coder2])
