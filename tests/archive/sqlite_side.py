"""The other installation of the round trip: migrate the SQLite database named by DATABASE_URL,
import the archive, write the scoring export's CSVs and a new archive of the imported project.

    python -m tests.archive.sqlite_side ARCHIVE WORKDIR   (prints the imported project as JSON)
"""
import json
import os
import sys
from pathlib import Path


def main(archive: str, workdir: str) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "diptych.settings")
    django.setup()
    from django.core.management import call_command

    from projects.archive import import_archive, write_archive
    from tests.archive.study import export_tables

    call_command("migrate", verbosity=0)
    imported = import_archive(archive)
    work = Path(workdir)
    for name, frame in export_tables(imported.project).items():
        (work / "csv" / name).parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(work / "csv" / name, index=False)
    write_archive(imported.project, work / "again.zip")
    print(json.dumps({"project": imported.project.pk,
                      "runs": [r.output_dir for r in imported.project.runs.order_by("pk")]}))


if __name__ == "__main__":
    main(*sys.argv[1:3])
