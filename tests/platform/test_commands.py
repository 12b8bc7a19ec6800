"""Management commands: demo (set-up part), import_dataset, run_engine."""
import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from projects.models import Dataset, EngineRun, Membership, Project, RunStatus

pytestmark = pytest.mark.django_db


def test_demo_sets_up_accounts_data_and_a_run(small_dataset_dir, monkeypatch, capsys):
    from projects.management.commands import demo
    from projects.services import runs

    monkeypatch.setattr(demo, "start_run",
                        lambda *a, **k: runs.start_run(*a, **k, dispatch=False))
    call_command("demo", "--data", str(small_dataset_dir), "--no-serve")
    out = capsys.readouterr().out
    project = Project.objects.get(name=demo.PROJECT_NAME)
    assert {m.user.username: m.role for m in Membership.objects.filter(project=project)} == \
        {"pi": "pi", "coder1": "coder", "coder2": "coder"}
    for username in ("pi", "coder1", "coder2"):
        password = out.split(f"{username:<7} password ")[1].split()[0]
        assert get_user_model().objects.get(username=username).check_password(password)
    assert Dataset.objects.get(project=project).n_pairs_valid == 60
    assert EngineRun.objects.filter(project=project, status=RunStatus.QUEUED).count() == 1
    assert "http://127.0.0.1:8000/" in out

    # A second start: same project and data set; the interrupted run is marked resumable.
    call_command("demo", "--data", str(small_dataset_dir), "--no-serve")
    assert Dataset.objects.count() == 1
    assert EngineRun.objects.filter(status=RunStatus.FAILED).count() == 1


def test_demo_without_data_says_what_to_do(tmp_path):
    with pytest.raises(CommandError, match="pairs.csv"):
        call_command("demo", "--data", str(tmp_path), "--no-serve")


def test_import_dataset_and_run_engine_commands(users, small_dataset_dir, small_zip, monkeypatch,
                                                capsys):
    call_command("import_dataset", "--project", "cli", "--owner", "pi", "--name", "zipped",
                 "--table", str(small_dataset_dir / "pairs.csv"), "--zip", str(small_zip))
    dataset = Dataset.objects.get(name="zipped")
    assert dataset.n_pairs_valid == 60 and "60 usable pairs" in capsys.readouterr().out
    with pytest.raises(CommandError, match="no table"):  # the operator's folder is trusted
        call_command("import_dataset", "--project", "cli", "--name", "x", "--folder", "/etc")

    import clustering_engine.pipeline
    from clustering_engine.errors import ConfigError

    def failing_engine(*args, **kwargs):
        raise ConfigError("K = 9 is larger than the 5 usable pairs")
    monkeypatch.setattr(clustering_engine.pipeline, "run", failing_engine)
    with pytest.raises(CommandError, match="larger than"):
        call_command("run_engine", str(dataset.pk), "--ks", "9", "--reduction", "pca")
    assert EngineRun.objects.get().status == RunStatus.FAILED
