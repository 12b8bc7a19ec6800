"""What users see of server paths: relative to the data set or run they belong to.

Validation reports, import errors and export manifests used to show absolute paths
(``/srv/…/media/datasets/upload-…/table.csv``, the virtualenv's site-packages): they tell a
user how the server is laid out and nothing they need. ``relative_to_base`` rewrites every
string in a JSON-like value: paths under ``base`` become relative to it; paths under the media
root, the installation or the Python environment lose those prefixes; any other absolute path
(an embedding cache, model weights) keeps only its last name.
"""
from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from django.conf import settings


def _prefixes(bases) -> list[str]:
    roots = [*bases, settings.MEDIA_ROOT, settings.BASE_DIR, sys.prefix, sys.base_prefix]
    found = {str(Path(r).resolve()) for r in roots if r} | {str(r) for r in roots if r}
    # longest first, so a data set folder wins over the media root that holds it
    return sorted((p.rstrip(os.sep) + os.sep for p in found if p not in ("", os.sep)),
                  key=len, reverse=True)


# What is left of an absolute path once the known prefixes are gone (an embedding cache or model
# weights in the server's home folder): its folders, not its last name. Not after a word
# character, ".", ":" or "/", so URLs, dates and fractions stay as they are.
_ABSOLUTE_FOLDERS = re.compile(r"(?<![\w.:/~-])/(?:[^\s/'\"<>]+/)+(?=[^\s/'\"<>])")


def relative_to_base(value, *bases):
    """``value`` (str, dict, list) with server path prefixes removed (see the module doc)."""
    prefixes = _prefixes(bases)

    def scrub(item):
        if isinstance(item, str):
            for prefix in prefixes:
                if prefix in item:
                    item = item.replace(prefix, "")
            return _ABSOLUTE_FOLDERS.sub("", item) if "/" in item else item
        if isinstance(item, dict):
            return {k: scrub(v) for k, v in item.items()}
        if isinstance(item, (list, tuple)):
            return [scrub(v) for v in item]
        return item

    return scrub(value)


def shown_for_run(run, value):
    """``value`` (a run's log, error, manifest or config) as users see it: paths relative to the
    run's output folder and its data set."""
    dataset = run.dataset
    bases = [run.output_dir, dataset.images_root,
             Path(dataset.table_path).parent if dataset.table_path else None]
    return relative_to_base(value, *[b for b in bases if b])
