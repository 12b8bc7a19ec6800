"""Platform test setup: Django settings, PostgreSQL when it answers, small real data.

``make test`` needs nothing extra: the settings module and DATABASE_URL are set here, before
Django is configured. PostgreSQL (127.0.0.1:5432) is used when reachable, else SQLite (the
integration test then skips with the reason).
"""
import csv
import os
import shutil
import socket
import zipfile
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "mediaeval2016_vmu"
PG_HOST, PG_PORT, REDIS_PORT = "127.0.0.1", 5432, 6379
PG_URL = f"postgres://postgres@{PG_HOST}:{PG_PORT}/diptych_platform"
N_ROWS = 60


def reachable(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


POSTGRES_UP = reachable(PG_PORT)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "diptych.settings")
os.environ.setdefault("MPLBACKEND", "Agg")
if POSTGRES_UP:
    os.environ.setdefault("DATABASE_URL", PG_URL)

import django  # noqa: E402  (after the environment above)

django.setup()


def pytest_configure(config):
    # whitenoise warns when STATIC_ROOT was never collected; irrelevant to these tests.
    config.addinivalue_line("filterwarnings", "ignore:No directory at:UserWarning")


@pytest.fixture(scope="session")
def embedding_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("embedding-cache")


@pytest.fixture(autouse=True)
def platform_settings(settings, tmp_path, embedding_cache):
    """Every test gets its own MEDIA_ROOT; runs execute synchronously (no thread)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.DIPTYCH_EMBEDDING_CACHE = embedding_cache
    settings.DIPTYCH_RUNS_IN_THREAD = False
    settings.DIPTYCH_ALLOWED_DATA_ROOTS = [DATA.parent.resolve()]
    settings.DIPTYCH_ENGINE_WORKERS = 1
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast
    return settings


def _small_rows(n=N_ROWS):
    with open(DATA / "pairs.csv", encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        return reader.fieldnames, [row for _, row in zip(range(n), reader)]


@pytest.fixture(scope="session")
def small_dataset_dir(tmp_path_factory):
    """A folder with the first 60 MediaEval rows (pairs.csv) and their 15 images."""
    if not (DATA / "pairs.csv").exists():
        pytest.skip(f"the MediaEval data is not at {DATA}")
    folder = tmp_path_factory.mktemp("small-dataset")
    fields, rows = _small_rows()
    with open(folder / "pairs.csv", "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    for image in {r["image"] for r in rows}:
        (folder / image).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(DATA / image, folder / image)
    return folder


@pytest.fixture(scope="session")
def small_zip(small_dataset_dir, tmp_path_factory):
    path = tmp_path_factory.mktemp("zips") / "images.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for image in sorted((small_dataset_dir / "images").iterdir()):
            archive.write(image, f"images/{image.name}")
    return path


SMALL_RUN_OPTIONS = {"methods": ["label", "vector", "joint"], "ks": [4, 9],
                     "algorithms": ["kmeans"], "reduction": "pca", "n_components": 10,
                     "ami_permutations": 20, "seed": 0}


@pytest.fixture(scope="session")
def engine_output(small_dataset_dir, embedding_cache, tmp_path_factory):
    """One real engine run on the small data set, shared by the dashboard tests."""
    from django.conf import settings as django_settings
    from django.test import override_settings

    from clustering_engine.pipeline import run
    from projects.services.run_config import engine_config, normalise_options

    out = tmp_path_factory.mktemp("engine-output")
    with override_settings(DIPTYCH_EMBEDDING_CACHE=embedding_cache, DIPTYCH_ENGINE_WORKERS=1):
        assert django_settings.DIPTYCH_EMBEDDING_CACHE == embedding_cache
        config = engine_config(normalise_options(SMALL_RUN_OPTIONS))
    run(str(small_dataset_dir / "pairs.csv"), str(small_dataset_dir), str(out), config=config,
        echo=lambda message: None)
    return out


@pytest.fixture
def users(django_user_model):
    return {name: django_user_model.objects.create_user(name, password="pw-" + name)
            for name in ("pi", "viewer", "coder", "outsider")}


@pytest.fixture
def project(users):
    from projects.models import Role
    from projects.services import access

    project = access.create_project(users["pi"], "Test project")
    access.add_member(project, users["viewer"], Role.VIEWER)
    access.add_member(project, users["coder"], Role.CODER)
    return project


@pytest.fixture
def dataset(project, small_dataset_dir):
    from projects.services.datasets import import_server_folder

    return import_server_folder(project, "MediaEval sample 60", small_dataset_dir,
                                extra_roots=[small_dataset_dir])


@pytest.fixture
def stored_run(project, dataset, engine_output):
    """A succeeded run whose output folder is the shared engine output."""
    from projects.models import EngineRun, RunStatus
    from projects.services.run_config import normalise_options
    from projects.services.run_outputs import store_run_outputs

    run = EngineRun.objects.create(project=project, dataset=dataset,
                                   config=normalise_options(SMALL_RUN_OPTIONS),
                                   status=RunStatus.SUCCEEDED, stage="done", progress=1.0,
                                   output_dir=str(engine_output))
    store_run_outputs(run)
    return run


def client_for(client, user):
    client.force_login(user)
    return client
