"""Marginal gain of S_Dbw over the K grid, and the K it selects.

Marginal gain / K selection
    ``marginal_gain`` returns one entry per input K, aligned with the input order; the
    smallest K has no previous grid point and gets ``None`` (never NaN). ``select_k`` returns
    the first K (ascending) whose gain is strictly below the threshold, else the largest K
    (the paper's rule, kept as is); ``select_k_detail`` also says which of the two, so a
    "chosen" K that is only the grid's end is never shown as the rule's choice. The gain is an
    absolute value, so a step where S_Dbw got worse also counts as "small": ``s_dbw_rose``
    flags such steps for the figure and tables.
"""
from __future__ import annotations

import math
from typing import Sequence


def _validated_grid(ks, scores) -> tuple[list[int], list[float], list[int]]:
    """ks and scores as lists plus the ascending-K order; raises on bad input."""
    ks = [k for k in ks]
    scores = [s for s in scores]
    if len(ks) != len(scores):
        raise ValueError(f"ks and scores differ in length: {len(ks)} vs {len(scores)}")
    if not ks:
        raise ValueError("empty K grid")
    for k in ks:
        if isinstance(k, bool) or int(k) != k:
            raise ValueError(f"K must be an integer, got {k!r}")
    ks = [int(k) for k in ks]
    if len(set(ks)) != len(ks):
        raise ValueError(f"duplicate K in grid: {ks}")
    for s in scores:
        if s is None or not math.isfinite(float(s)):
            raise ValueError(f"scores must be finite numbers, got {s!r}")
    scores = [float(s) for s in scores]
    order = sorted(range(len(ks)), key=ks.__getitem__)
    return ks, scores, order


def marginal_gain(ks: Sequence[int], scores: Sequence[float]) -> list[float | None]:
    """|S(K) - S(K')| / (K - K'), K' the previous (smaller) grid point.

    Returns a list aligned with the input; the smallest K has no previous point: ``None``.
    """
    ks, scores, order = _validated_grid(ks, scores)
    gains: list[float | None] = [None] * len(ks)
    for prev, cur in zip(order, order[1:]):
        gains[cur] = abs(scores[cur] - scores[prev]) / (ks[cur] - ks[prev])
    return gains


def s_dbw_rose(ks: Sequence[int], scores: Sequence[float]) -> list[bool | None]:
    """Per K (aligned with the input), whether S_Dbw rose from the previous grid point: the
    gain is an absolute value, so such a step also reads as "small" and may be chosen; it is
    flagged wherever the gain is shown. ``None`` for the smallest K."""
    ks, scores, order = _validated_grid(ks, scores)
    rose: list[bool | None] = [None] * len(ks)
    for prev, cur in zip(order, order[1:]):
        rose[cur] = scores[cur] > scores[prev]
    return rose


def select_k(ks: Sequence[int], scores: Sequence[float], threshold: float = 0.01) -> int:
    """First K (ascending) whose marginal gain is strictly below ``threshold``; if none, the
    largest K. A single-point grid returns that K."""
    return select_k_detail(ks, scores, threshold)[0]


def select_k_detail(ks: Sequence[int], scores: Sequence[float],
                    threshold: float = 0.01) -> tuple[int, bool]:
    """``(K, threshold_met)``: the K ``select_k`` returns and whether the rule chose it."""
    gains = marginal_gain(ks, scores)
    ks, _, order = _validated_grid(ks, scores)
    for idx in order[1:]:
        if gains[idx] < threshold:
            return ks[idx], True
    return ks[order[-1]], False
