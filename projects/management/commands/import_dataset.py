"""Import a data set into a project from the command line (the route for very large tables)."""
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from projects.models import Project
from projects.services import access
from projects.services.datasets import (DatasetImportError, import_server_folder,
                                        import_uploaded_dataset)


class Command(BaseCommand):
    help = ("Import a pairs table with a zip of images (--table T --zip Z) or a server folder "
            "used in place (--folder DIR); prints the validation summary.")

    def add_arguments(self, parser):
        parser.add_argument("--project", required=True, help="project id or name")
        parser.add_argument("--owner", help="username of the PI when the project is created")
        parser.add_argument("--name", required=True, help="data set name")
        parser.add_argument("--table", help="pairs table to upload (with --zip)")
        parser.add_argument("--zip", help="zip of images for --table")
        parser.add_argument("--folder", help="folder on this server holding the table and images")
        parser.add_argument("--table-name", default="pairs.csv", help="table inside --folder")

    def handle(self, *args, **opts):
        project = self._project(opts["project"], opts.get("owner"))
        try:
            if opts.get("folder"):
                # The operator runs this command, so the folder given is trusted as a root.
                dataset = import_server_folder(project, opts["name"], opts["folder"],
                                               opts["table_name"], extra_roots=[opts["folder"]])
            elif opts.get("table"):
                with open(opts["table"], "rb") as table:
                    images = open(opts["zip"], "rb") if opts.get("zip") else None
                    try:
                        dataset = import_uploaded_dataset(project, opts["name"], table,
                                                          opts["table"], images)
                    finally:
                        if images:
                            images.close()
            else:
                raise CommandError("give --folder, or --table (with --zip)")
        except (DatasetImportError, OSError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"data set {dataset.pk} in project {project.pk}: "
                          f"{dataset.n_pairs_valid} usable pairs, {dataset.n_rejected} rejected")
        return None

    def _project(self, key: str, owner: str | None) -> Project:
        project = (Project.objects.filter(pk=int(key)).first() if key.isdigit()
                   else Project.objects.filter(name=key).first())
        if project:
            return project
        if not owner:
            raise CommandError(f"no project {key!r}; give --owner to create it")
        user = get_user_model().objects.filter(username=owner).first()
        if user is None:
            raise CommandError(f"no user {owner!r}")
        return access.create_project(user, key)
