"""Write one archive of a whole study (rows, users as pseudonyms, data set, run folders)."""
from django.core.management.base import BaseCommand, CommandError

from projects.archive import write_archive
from projects.models import Project


class Command(BaseCommand):
    help = ("Archive a project for replication or a move: its data set table and images, every "
            "engine run's folder, rounds, codes, codebook, adjudications, intrusion tests, "
            "choices, and its users as pseudonyms with roles (no passwords, tokens or emails).")

    def add_arguments(self, parser):
        parser.add_argument("project", type=int, help="project id")
        parser.add_argument("--out", required=True, help="the zip to write, e.g. study.zip")
        parser.add_argument("--no-images", action="store_true",
                            help="leave the images out; the archive lists their sha256 instead")

    def handle(self, *args, **opts):
        project = Project.objects.filter(pk=opts["project"]).first()
        if project is None:
            raise CommandError(f"no project {opts['project']}")
        manifest = write_archive(project, opts["out"], with_images=not opts["no_images"])
        rows = sum(n for name, n in manifest["counts"].items() if name != "users")
        self.stdout.write(f"project {project.pk} archived to {opts['out']}: {rows} rows, "
                          f"{manifest['counts']['users']} users, {len(manifest['files'])} files "
                          f"(images {manifest['images']})")
