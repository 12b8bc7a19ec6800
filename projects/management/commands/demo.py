"""The embedded demo: migrate, accounts, the MediaEval data, an engine run, a web server.

    python manage.py demo [--data ../shared/data/mediaeval2016_vmu] [--addrport 127.0.0.1:8000]

Without REDIS_URL everything runs in this one process: SQLite, the engine run in a background
thread (so the server answers at once), and Django's server.
"""
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from projects.models import EngineRun, Project, Role, RunStatus
from projects.services import access
from projects.services.datasets import DatasetImportError, import_server_folder
from projects.services.runs import start_run

DEFAULT_DATA = "../shared/data/mediaeval2016_vmu"  # relative to the repository
PROJECT_NAME = "MediaEval 2016 demo"
ACCOUNTS = (("pi", Role.PI), ("coder1", Role.CODER), ("coder2", Role.CODER))
# The shared data's news event is the known grouping every solution is scored against. No
# seed: the run draws a fresh secret one, or a coder could rerun these public options on the
# public data and read each cluster's method and K (docs/reliability.md, threat model).
DEMO_RUN_OPTIONS = {"methods": ["text", "image", "label", "vector", "cca"],
                    "ks": [9, 16, 25, 36, 49], "algorithms": ["kmeans"], "reduction": "umap",
                    "n_components": 50, "truth_column": "event"}


class Command(BaseCommand):
    help = "Set up and serve the demo: accounts, the MediaEval data set, an engine run."

    def add_arguments(self, parser):
        parser.add_argument("--data", default=None,
                            help=f"folder with pairs.csv and its images (default: {DEFAULT_DATA} "
                                 "relative to the repository)")
        parser.add_argument("--table-name", default="pairs.csv")
        parser.add_argument("--addrport", default="127.0.0.1:8000")
        parser.add_argument("--no-serve", action="store_true", help="set up only")
        parser.add_argument("--rerun", action="store_true",
                            help="start a new engine run even if one already succeeded")

    def handle(self, *args, **opts):
        data = self._data_folder(opts["data"])
        call_command("migrate", interactive=False, verbosity=0)
        passwords = self._accounts()
        pi = get_user_model().objects.get(username="pi")
        pi.groups.add(Group.objects.get_or_create(name=settings.DIPTYCH_PI_GROUP)[0])
        project = Project.objects.filter(name=PROJECT_NAME).first() or \
            access.create_project(pi, PROJECT_NAME, "Tweets and images from MediaEval 2016 VMU")
        for username, role in ACCOUNTS:
            access.add_member(project, get_user_model().objects.get(username=username), role)
        dataset = project.datasets.filter(table_path=str(data / opts["table_name"])).first()
        if dataset is None:
            self.stdout.write(f"importing {data} (validating every image) ...")
            try:
                dataset = import_server_folder(project, data.name, data, opts["table_name"],
                                               extra_roots=[data])
            except DatasetImportError as exc:
                raise CommandError(str(exc)) from None
        self.stdout.write(f"data set: {dataset.n_pairs_valid} usable pairs, "
                          f"{dataset.n_rejected} rejected")
        run = self._run(project, dataset, pi, opts["rerun"])

        base = f"http://{opts['addrport']}"
        self.stdout.write(self.style.SUCCESS("\nDiptych demo"))
        self.stdout.write(f"  open {base}/  (API: {base}/api/docs/)")
        for username, _ in ACCOUNTS:
            self.stdout.write(f"  {username:<7} password {passwords[username]}")
        self.stdout.write(f"  engine run: {base}/runs/{run.pk}/ ({run.get_status_display()})\n")
        if not opts["no_serve"]:
            call_command("runserver", opts["addrport"], "--noreload", "--skip-checks")

    def _data_folder(self, given: str | None) -> Path:
        folder = Path(given) if given else Path(settings.BASE_DIR) / DEFAULT_DATA
        folder = folder.resolve()
        if not (folder / "pairs.csv").is_file() and not given:
            raise CommandError(f"no demo data at {folder}; give a folder holding pairs.csv "
                               "and its images: manage.py demo --data /path/to/folder")
        if not folder.is_dir():
            raise CommandError(f"{folder} is not a folder")
        return folder

    def _accounts(self) -> dict[str, str]:
        """Create or reset the demo accounts with fresh random passwords (printed once)."""
        users = get_user_model().objects
        passwords = {}
        for username, _ in ACCOUNTS:
            user = users.filter(username=username).first() or users.create_user(username)
            passwords[username] = secrets.token_urlsafe(9)
            user.set_password(passwords[username])
            user.save()
        return passwords

    def _run(self, project, dataset, pi, rerun: bool) -> EngineRun:
        # A run left queued/running by a previous server process was interrupted with it.
        EngineRun.objects.filter(dataset=dataset, status__in=[RunStatus.QUEUED, RunStatus.RUNNING]
                                 ).update(status=RunStatus.FAILED, finished_at=timezone.now(),
                                          error_message="interrupted: the server stopped; "
                                                        "resume the run to finish it")
        done = dataset.runs.filter(status=RunStatus.SUCCEEDED).first()
        if done and not rerun:
            return done
        self.stdout.write("starting an engine run in the background ...")
        return start_run(project, dataset, DEMO_RUN_OPTIONS, pi)
