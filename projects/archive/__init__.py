"""Project archives: a whole study in one zip that another installation imports whole.

``write_archive`` (writer) and ``import_archive`` (loader) are the two ends; ``contents`` says
what belongs to a study, ``files`` where its files go, ``reader`` checks an archive before any
write, ``jobs`` builds one in the background for the project page. The format is described in
docs/deploy.md ("Archive and restore a study").
"""
from .loader import Imported, import_archive
from .reader import ArchiveRefused
from .writer import write_archive

__all__ = ["ArchiveRefused", "Imported", "import_archive", "write_archive"]
