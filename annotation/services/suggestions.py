"""Themes a coder gave a cluster in the earlier passes, offered as suggestions in the later ones.

Each pass has its own codebook, so a suggestion is a name, not a theme id: choosing it finds (or
adds) the theme of that name in the current pass's codebook. Order: the nearest earlier pass
first; in a pass, the common theme first, then post themes by how often they were given.

Pass isolation: a pass is offered only the themes of earlier passes that saw nothing it does not
show. The joint pass shows texts and images, so it gets both; the image-only pass gets none (the
text pass's themes would carry the texts into a judgement of the images alone).
"""
from __future__ import annotations

from collections import Counter

from ..models import ClusterCode, PostCode
from ..passes import PASS_VALUES, SHOWS_IMAGE, SHOWS_TEXT


def _shown(pass_name: str) -> set[str]:
    return {m for m, passes in (("text", SHOWS_TEXT), ("image", SHOWS_IMAGE))
            if pass_name in passes}


def offered_passes(pass_name: str) -> list[str]:
    """The earlier passes whose themes this pass may offer (nearest first)."""
    earlier = PASS_VALUES[:PASS_VALUES.index(pass_name)]
    return [p for p in reversed(earlier) if _shown(p) <= _shown(pass_name)]


def earlier_pass_themes(sample, coder, pass_name: str) -> list[dict]:
    """``[{"name", "pass"}]``: distinct (case-insensitive) names from the earlier passes this
    one may offer (``offered_passes``)."""
    out, seen = [], set()
    for p in offered_passes(pass_name):
        common = ClusterCode.objects.filter(cluster_sample=sample, coder=coder, pass_name=p
                                            ).select_related("theme").first()
        counts = Counter(code.theme.name for code in PostCode.objects.filter(
            cluster_sample=sample, coder=coder, pass_name=p).select_related("theme"))
        names = ([common.theme.name] if common else []) + [
            name for name, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
        for name in names:
            if name.lower() not in seen:
                seen.add(name.lower())
                out.append({"name": name, "pass": p})
    return out
