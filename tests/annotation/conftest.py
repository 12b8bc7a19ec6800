"""Annotation test setup: a finished engine run made directly (Solution rows + a tiny
labels.parquet / pairs.parquet in a temporary output folder), on real MediaEval texts and images
(used in place from ../shared/data, never copied).

Fixtures from tests/platform/conftest.py are imported, not edited. The annotation tests use
their own PostgreSQL database name so they can run beside the platform tests.
"""

from tests.databases import use_postgres_database  # noqa: E402

use_postgres_database("diptych_annotation")   # before tests.platform.conftest configures Django

import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from tests.platform.conftest import (DATA, POSTGRES_UP, client_for, embedding_cache,  # noqa: E402,F401
                                     platform_settings, project, users)

N_PAIRS = 48
SOLUTION_IDS = ("vector-kmeans-k25", "label-kmeans-k25")
SOLUTION_PKS = (9001, 9002)   # distinctive, so a leak of a solution's DB id is findable
SPECIAL_TEXTS = {
    0: "抗议者在政府大楼前集会，要求公开选举结果",
    1: "مظاهرة أمام مبنى الحكومة للمطالبة بالشفافية",
    2: "<script>alert('x')</script> & <b>not bold</b>",
}


def vector_labels(n=N_PAIRS):
    """4 clusters (i mod 4), two noise pairs."""
    return [-1 if i in (5, 9) else i % 4 for i in range(n)]


def label_labels(n=N_PAIRS):
    """3 clusters of 15 and a small cluster of 3."""
    return [3 if i >= 45 else i // 15 for i in range(n)]


@pytest.fixture(scope="session")
def pairs_frame():
    if not (DATA / "pairs.csv").exists():
        pytest.skip(f"the MediaEval data is not at {DATA}")
    frame = pd.read_csv(DATA / "pairs.csv", dtype=str, nrows=N_PAIRS)
    for i, text in SPECIAL_TEXTS.items():
        frame.loc[i, "text"] = text
        frame.loc[i, "lang"] = "und"
    return pd.DataFrame({"pair_id": frame["id"], "post_id": frame["id"], "text": frame["text"],
                         "image": frame["image"], "lang": frame["lang"]})


@pytest.fixture
def run_output(tmp_path, pairs_frame):
    out = tmp_path / "run-output"
    out.mkdir()
    pairs_frame.to_parquet(out / "pairs.parquet", index=False)
    pd.DataFrame({"pair_id": pairs_frame["pair_id"],
                  SOLUTION_IDS[0]: pd.array(vector_labels(), dtype="int32"),
                  SOLUTION_IDS[1]: pd.array(label_labels(), dtype="int32")}
                 ).to_parquet(out / "labels.parquet", index=False)
    return out


@pytest.fixture
def finished_run(project, run_output):
    from projects.models import Dataset, EngineRun, RunStatus, Solution

    dataset = Dataset.objects.create(project=project, name="mediaeval", source="folder",
                                     table_path=str(DATA / "pairs.csv"), images_root=str(DATA),
                                     n_rows_read=N_PAIRS, n_pairs_valid=N_PAIRS)
    run = EngineRun.objects.create(project=project, dataset=dataset, status=RunStatus.SUCCEEDED,
                                   stage="done", progress=1.0, output_dir=str(run_output))
    for pk, sid, method, labels in zip(SOLUTION_PKS, SOLUTION_IDS, ("vector", "label"),
                                       (vector_labels(), label_labels())):
        Solution.objects.create(pk=pk, run=run, solution_id=sid, method=method,
                                algorithm="kmeans", k=25, n_clusters=len(set(labels) - {-1}),
                                space="common")
    return run


@pytest.fixture
def solutions(finished_run):
    return list(finished_run.solutions.order_by("pk"))


@pytest.fixture
def coder2(project, django_user_model):
    from projects.models import Role
    from projects.services import access

    user = django_user_model.objects.create_user("coder2", password="pw-coder2")
    access.add_member(project, user, Role.CODER)
    return user


@pytest.fixture
def validation_round(project, solutions, users, coder2):
    from annotation.services.sampling import create_round

    return create_round(project, solutions, name="vector-kmeans-k25 vs label-kmeans-k25",
                        created_by=users["pi"], posts_per_cluster=4, seed=7,
                        calibration_clusters=2, coders=[users["coder"], coder2])


def pytest_configure(config):
    # whitenoise warns when STATIC_ROOT was never collected; irrelevant here.
    config.addinivalue_line("filterwarnings", "ignore:No directory at:UserWarning")
