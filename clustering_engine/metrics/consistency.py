"""Within-cluster consistency of coded themes (the paper's appendix E).

Within-cluster consistency
    Share of coded posts whose theme equals the modal theme; ties between modal themes give
    the same share. ``None``, NaN and blank themes are excluded (uncoded); themes are compared
    after stripping surrounding whitespace, case-sensitively. No coded post: ``ValueError``.
"""
from __future__ import annotations

import math
from collections import Counter
from typing import Iterable


def _is_coded(theme) -> bool:
    if theme is None:
        return False
    if isinstance(theme, float) and math.isnan(theme):
        return False
    return not (isinstance(theme, str) and not theme.strip())


def within_cluster_consistency(themes: Iterable) -> float:
    """Share of coded posts whose theme equals the most frequent theme (appendix E).

    ``None``/NaN/blank themes are excluded; raises ``ValueError`` if none is left.
    """
    coded = [t.strip() if isinstance(t, str) else t for t in themes if _is_coded(t)]
    if not coded:
        raise ValueError("no coded themes: consistency is undefined")
    return Counter(coded).most_common(1)[0][1] / len(coded)
