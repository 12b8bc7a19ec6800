"""Themes a coder gave a cluster in the earlier passes, offered as suggestions in the later ones.

Each pass has its own codebook, so a suggestion is a name, not a theme id: choosing it finds (or
adds) the theme of that name in the current pass's codebook. Order: the nearest earlier pass
first; in a pass, the common theme first, then post themes by how often they were given.
"""
from __future__ import annotations

from collections import Counter

from ..models import ClusterCode, PostCode
from ..passes import PASS_VALUES


def earlier_pass_themes(sample, coder, pass_name: str) -> list[dict]:
    """``[{"name", "pass"}]``: distinct (case-insensitive) names from the passes before this one."""
    earlier = PASS_VALUES[:PASS_VALUES.index(pass_name)]
    out, seen = [], set()
    for p in reversed(earlier):
        common = ClusterCode.objects.filter(cluster_sample=sample, coder=coder, pass_name=p
                                            ).select_related("theme__merged_into").first()
        counts = Counter(code.theme.effective.name for code in PostCode.objects.filter(
            cluster_sample=sample, coder=coder, pass_name=p).select_related("theme__merged_into"))
        names = ([common.theme.effective.name] if common else []) + [
            name for name, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
        for name in names:
            if name.lower() not in seen:
                seen.add(name.lower())
                out.append({"name": name, "pass": p})
    return out
