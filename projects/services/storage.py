"""Where the platform keeps files (all under MEDIA_ROOT, never served without a permission check)."""
from pathlib import Path

from django.conf import settings

from ..models.run import RUNS_FOLDER


def datasets_root() -> Path:
    return Path(settings.MEDIA_ROOT) / "datasets"


def runs_root() -> Path:
    return Path(settings.MEDIA_ROOT) / RUNS_FOLDER


def thumbnails_root() -> Path:
    return Path(settings.MEDIA_ROOT) / "thumbnails"


def run_output_dir(run_id: int) -> Path:
    return runs_root() / f"run-{run_id}"


def resolve_inside(root: str | Path, relative: str) -> Path | None:
    """``root/relative`` if it stays inside ``root`` after resolving links and ``..``; else None."""
    base = Path(root).resolve()
    try:
        target = (base / relative).resolve()
    except (OSError, RuntimeError, ValueError):
        return None
    if target != base and base not in target.parents:
        return None
    return target
