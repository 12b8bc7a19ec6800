"""One cell of a pairs table to a clean value: ids, text, image lists, kept extra columns.
Each function returns (value, problem message or None) so the caller can reject the row."""
from __future__ import annotations

import math
from typing import Any

IMAGE_SEPARATOR = ";"


def is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def has_undecodable_bytes(value: str) -> bool:
    """True if ``value`` holds surrogate-escaped bytes that were not valid in the file encoding."""
    try:
        value.encode("utf-8")
        return False
    except UnicodeEncodeError:
        return True


def clean_extra(value: Any) -> Any:
    if isinstance(value, str) and has_undecodable_bytes(value):
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return value


def as_id(value: Any) -> tuple[str | None, str | None]:
    """(id string, problem) for an ``id`` / ``post_id`` value."""
    if isinstance(value, str):
        return value.strip() or None, None
    if is_missing(value):
        return None, None
    if isinstance(value, bool):
        return None, f"boolean id {value!r}"
    if isinstance(value, int):
        return str(value), None
    if isinstance(value, float):
        return None, f"floating-point id {value!r} (digits may be lost; store ids as text or integers)"
    return None, f"id of type {type(value).__name__}"


def as_text(value: Any) -> tuple[str, str | None]:
    if isinstance(value, str):
        return value, None
    if is_missing(value):
        return "", None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value), None
    return "", f"text of type {type(value).__name__}"


def as_images(value: Any) -> tuple[list[str], str | None]:
    """Image strings of one post (``;``-separated string or a list), blanks dropped."""
    if isinstance(value, str):
        if IMAGE_SEPARATOR not in value:  # fast path: the common single image
            value = value.strip()
            return ([value] if value else []), None
        items = value.split(IMAGE_SEPARATOR)
    elif is_missing(value):
        return [], None
    elif isinstance(value, (list, tuple)):
        items = value
    else:
        return [], f"image of type {type(value).__name__}"
    if not all(isinstance(v, str) or v is None for v in items):
        return [], "image list holds non-string items"
    return [s.strip() for s in items if s and s.strip()], None
