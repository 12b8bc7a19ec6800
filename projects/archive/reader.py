"""Open a project archive and check all of it before anything is written: a readable zip, a
manifest of this format, a schema this installation knows, every listed file present with its
sha256, nothing unlisted, and users that parse (records are parsed as they are imported,
inside the import's transaction). Every refusal names the file."""
from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Iterator

from .contents import unknown_migrations
from .writer import FORMAT, MANIFEST, RECORDS, USERS

CHUNK = 1 << 20


class ArchiveRefused(Exception):
    """The archive cannot be imported; the message names the file and is for the user."""


@dataclass
class OpenedArchive:
    path: Path
    zip: zipfile.ZipFile
    manifest: dict
    users: list[dict]

    def members_under(self, prefix: str) -> list[str]:
        return sorted(n for n in self.manifest["files"] if n.startswith(prefix))

    def records(self) -> Iterator[dict]:
        """records.jsonl one record at a time (a bad line refuses the import, which then
        rolls back whatever it had written)."""
        with self.zip.open(RECORDS) as lines:
            for number, line in enumerate(lines, 1):
                try:
                    record = json.loads(line)
                except (ValueError, UnicodeDecodeError) as exc:
                    raise ArchiveRefused(f"{RECORDS} line {number}: not valid JSON ({exc})") \
                        from None
                if not isinstance(record, dict) or not {"model", "pk", "fields"} <= set(record):
                    raise ArchiveRefused(f"{RECORDS} line {number}: not a record "
                                         "(model, pk, fields)")
                yield record


def _safe_name(name: str) -> bool:
    parts = PurePosixPath(name).parts
    return bool(parts) and not name.startswith("/") and ".." not in parts and "\\" not in name \
        and ":" not in parts[0]


def _json(archive: zipfile.ZipFile, name: str):
    try:
        return json.loads(archive.read(name).decode("utf-8"))
    except KeyError:
        raise ArchiveRefused(f"{name}: missing from the archive") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ArchiveRefused(f"{name}: not valid JSON ({exc})") from None


def _sha256(archive: zipfile.ZipFile, name: str) -> str:
    digest = hashlib.sha256()
    with archive.open(name) as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def open_archive(path: str | Path, using: str = "default") -> OpenedArchive:
    path = Path(path)
    try:
        archive = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise ArchiveRefused(f"{path}: no such file") from None
    except (zipfile.BadZipFile, OSError) as exc:
        raise ArchiveRefused(f"{path.name}: not a readable zip archive, truncated or corrupt "
                             f"({exc})") from None
    try:
        return _checked(path, archive, using)
    except BaseException:
        archive.close()
        raise


def _checked(path: Path, archive: zipfile.ZipFile, using: str) -> OpenedArchive:
    manifest = _json(archive, MANIFEST)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ArchiveRefused(f"{MANIFEST}: not a Diptych project archive (format "
                             f"{manifest.get('format') if isinstance(manifest, dict) else None!r},"
                             f" expected {FORMAT!r})")
    files = manifest.get("files")
    if not isinstance(files, dict) or not isinstance(manifest.get("schema"), dict):
        raise ArchiveRefused(f"{MANIFEST}: lacks its file list or schema")
    newer = unknown_migrations(manifest["schema"], using)
    if newer:
        raise ArchiveRefused(
            f"{MANIFEST}: the archive was written by a newer Diptych (schema "
            f"{', '.join(newer)} is unknown here); upgrade this installation and migrate first")
    present = set(archive.namelist())
    for name in sorted(present - set(files) - {MANIFEST}):
        if not name.endswith("/"):
            raise ArchiveRefused(f"{name}: in the archive but not in its manifest (tampered?)")
    for name, expected in sorted(files.items()):
        if not _safe_name(name):
            raise ArchiveRefused(f"{name}: not a safe path inside the archive")
        if name not in present:
            raise ArchiveRefused(f"{name}: listed in the manifest but missing from the archive")
        try:
            actual = _sha256(archive, name)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise ArchiveRefused(f"{name}: unreadable, the archive is corrupt ({exc})") from None
        if actual != expected:
            raise ArchiveRefused(f"{name}: sha256 {actual[:12]}… differs from the manifest's "
                                 f"{str(expected)[:12]}… (changed or corrupt)")
    if RECORDS not in files:
        raise ArchiveRefused(f"{RECORDS}: missing from the archive")
    users = _json(archive, USERS)
    if not isinstance(users, list) or not all(
            isinstance(u, dict) and {"pk", "pseudonym", "role"} <= set(u) for u in users):
        raise ArchiveRefused(f"{USERS}: not a list of users (pk, pseudonym, role)")
    return OpenedArchive(path, archive, manifest, users)
