"""Images of a data set, served to project members only, with thumbnails made once and cached."""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from PIL import Image, ImageOps

from ..models import Dataset
from .storage import resolve_inside, thumbnails_root

THUMBNAIL_SIZES = {"thumb": 256, "medium": 720}
# Every thumbnail is exactly its size's square, the image scaled to fit and centred on this
# colour: the served size never tells the original's resolution or shape.
LETTERBOX = (245, 245, 245)
# Originals are served only for image files: an images root may also hold the table itself.
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".tif", ".tiff"}


class ImageNotFound(Exception):
    pass


def image_path(dataset: Dataset, relative: str) -> Path:
    """The image file for a path as written in the table; never outside the images root."""
    path = resolve_inside(dataset.images_root, relative)
    if path is None or not path.is_file() or path.suffix.lower() not in IMAGE_SUFFIXES:
        raise ImageNotFound(relative)
    return path


def thumbnail(dataset: Dataset, relative: str, size: str = "thumb") -> Path:
    """A cached JPEG thumbnail without metadata, letterboxed to its size's square (created on
    first request; an atomic rename avoids torn files)."""
    if size not in THUMBNAIL_SIZES:
        raise ImageNotFound(relative)
    source = image_path(dataset, relative)
    stat = source.stat()
    # "v3": thumbnails made before metadata was stripped, or not letterboxed, are not reused.
    key = hashlib.sha256(f"v3|{source}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:32]
    target = thumbnails_root() / f"dataset-{dataset.pk}" / size / f"{key}.jpg"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    pixels = THUMBNAIL_SIZES[size]
    try:
        with Image.open(source) as img:
            img = ImageOps.exif_transpose(img)
            rgb = ImageOps.pad(img.convert("RGB"), (pixels, pixels), Image.LANCZOS,
                               color=LETTERBOX)
            fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".part")
            with os.fdopen(fd, "wb") as out:
                rgb.info.clear()   # no EXIF, comment or ICC text travels to the thumbnail
                rgb.save(out, "JPEG", quality=85)
    except (OSError, ValueError, Image.DecompressionBombError):
        raise ImageNotFound(relative) from None
    os.replace(tmp, target)
    return target
