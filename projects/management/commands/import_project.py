"""Recreate a study from an archive written by export_project (checked whole before any write;
nothing is left behind when it is refused)."""
from django.core.management.base import BaseCommand, CommandError

from projects.archive import ArchiveRefused, import_archive


class Command(BaseCommand):
    help = ("Import a project archive (export_project) as a new project; its users become "
            "inactive pseudonymous accounts. Refuses a corrupt, tampered or newer archive.")

    def add_arguments(self, parser):
        parser.add_argument("archive", help="the zip written by export_project")

    def handle(self, *args, **opts):
        try:
            imported = import_archive(opts["archive"])
        except ArchiveRefused as exc:
            raise CommandError(f"archive refused, nothing imported: {exc}") from None
        project = imported.project
        self.stdout.write(f"imported as project {project.pk} ({project.name}): "
                          f"{len(imported.ids)} rows, {len(imported.users)} users; "
                          f"runs in {', '.join(r.output_dir for r in project.runs.order_by('pk')) or 'none'}")
