"""What a coder has coded in one cluster sample: the state the coding page starts from and the
API returns for a resume after a reload (one builder for both, so they cannot disagree).

Blinding: only public ids, positions, themes and versions; never a solution, method or K.
"""
from __future__ import annotations

from ..models import ClusterCode, PostCode
from ..passes import PASS_VALUES


def theme_json(theme) -> dict | None:
    """A theme as the coder sees it: its opaque id and the coder's own spelling (never the name
    the PI merged it into: services.theme_visibility)."""
    return None if theme is None else {"id": theme.public_id, "name": theme.name}


def _code_json(code) -> dict:
    return {"theme": theme_json(code.theme) if code else None,
            "version": code.version if code else 0}


def coded_state(sample, coder, pass_names=PASS_VALUES, posts=None) -> dict[str, dict]:
    """Per pass: ``{"common": {theme, version}, "posts": [{id, position, theme, version}]}``,
    posts in their sample order (version 0 = not coded yet)."""
    posts = list(sample.posts.all()) if posts is None else posts
    codes = {(c.sampled_post_id, c.pass_name): c for c in PostCode.objects.filter(
        cluster_sample=sample, coder=coder, pass_name__in=pass_names).select_related(
        "theme")}
    commons = {c.pass_name: c for c in ClusterCode.objects.filter(
        cluster_sample=sample, coder=coder, pass_name__in=pass_names).select_related(
        "theme")}
    return {p: {"common": _code_json(commons.get(p)),
                "posts": [{"id": post.public_id, "position": post.position,
                           **_code_json(codes.get((post.pk, p)))} for post in posts]}
            for p in pass_names}
