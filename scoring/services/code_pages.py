"""Pages of a project's codes read from the database: what the codes read API serves.

The rows and their order are those of ``codes.post_codes`` then ``codes.cluster_codes`` (post
codes by cluster sample order, post position, coder, pass; common themes by cluster sample
order, coder, pass; the code id breaks ties between rounds), but a page reads only its own rows:
building the frame of all codes took 38 s a page at 825,000 codes.

How a page is found without sorting every code: one grouped count per cluster sample ``order``
(which also gives the total), then the page's rows come from the few orders it spans, sorted
and cut there (LIMIT/OFFSET within those orders only).

The post codes' counts and coders are cached under the project's score version (which the
database triggers of ``snapshots`` bump on every write of a post code or intrusion answer, in the
writer's transaction), as reading them costs a pass over every post code (~0.7 s at 750,000);
the version is read before them, so an entry is never older than its key. Common themes do not
bump that version: their (ten times fewer) counts and coders are read on every request.
"""
from __future__ import annotations

import hashlib
from bisect import bisect_right
from dataclasses import dataclass
from itertools import accumulate

import pandas as pd
from django.core.cache import cache
from django.db import connection
from django.db.models import Count

from annotation.models import ClusterCode, PostCode

from .codes import (COMMON_CODE_FIELDS, COMMON_CODE_ORDER, POST_CODE_FIELDS, POST_CODE_ORDER,
                    add_themes, coder_ids, pseudonyms)
from .snapshots import current_version

KINDS = ("post", "common")
CACHED_FOR_S = 3600


def _cached(key: str, compute):
    # the database's name in the key: project ids repeat across databases sharing one Redis
    key = f"{connection.settings_dict['NAME']}:{key}"
    key = "code-pages:" + hashlib.sha256(key.encode()).hexdigest()
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, CACHED_FOR_S)
    return value


def _order_counts(codes) -> list[tuple[int, int]]:
    """(cluster sample order, rows) for every order that has rows, ascending."""
    return sorted(codes.order_by().values_list("cluster_sample__order").annotate(n=Count("id")))


@dataclass(frozen=True)
class CodeFilters:
    """The read API's filters, all optional, combined with AND."""
    round_ids: list[int] | None = None
    pass_name: str | None = None
    solution_id: str | None = None
    coder: str | None = None      # pseudonym, e.g. coder_1
    kind: str | None = None       # post or common


class _Part:
    """The codes of one kind, as consecutive rows of the whole listing."""

    def __init__(self, kind: str, codes, fields: dict, order: list[str],
                 by_order: list[tuple[int, int]]):
        self.kind, self.codes, self.fields, self.order = kind, codes, fields, order
        self.orders = [o for o, _ in by_order]
        self.ends = list(accumulate(n for _, n in by_order))   # rows up to each order, inclusive

    def __len__(self):
        return self.ends[-1] if self.ends else 0

    def rows(self, start: int, stop: int) -> list[tuple]:
        if start >= stop:
            return []
        first = bisect_right(self.ends, start)        # the orders holding rows start … stop-1
        last = bisect_right(self.ends, stop - 1)
        before = self.ends[first - 1] if first else 0
        last = min(last, len(self.orders) - 1)
        page = self.codes.filter(cluster_sample__order__gte=self.orders[first],
                                 cluster_sample__order__lte=self.orders[last])
        skip = start - before
        return list(page.order_by(*self.order).values_list(*self.fields)[skip:skip + stop - start])


class CodePages:
    """The filtered codes as a sequence for a paginator: ``len`` counts in SQL; a slice reads
    that slice's rows into a frame with the columns of ``post_codes`` plus ``kind``."""

    def __init__(self, project, filters: CodeFilters):
        self.project = project
        self.version = current_version(project.pk)     # before the codes it labels
        cached_coders = _cached(f"coders:{project.pk}:{self.version}",
                                lambda: coder_ids(project, ("post", "intrusion")))
        self.pseudonyms = pseudonyms(cached_coders | coder_ids(project, ("common",)))
        self.parts = [self._part(kind, filters) for kind in KINDS
                      if filters.kind in (None, kind)]

    def _part(self, kind: str, filters: CodeFilters) -> _Part:
        # the code id breaks ties between rounds, so a page boundary never splits them unstably
        model, fields, order = ((PostCode, POST_CODE_FIELDS, [*POST_CODE_ORDER, "id"])
                                if kind == "post" else
                                (ClusterCode, COMMON_CODE_FIELDS, [*COMMON_CODE_ORDER, "id"]))
        codes = model.objects.filter(cluster_sample__round__project=self.project)
        if filters.round_ids is not None:
            codes = codes.filter(cluster_sample__round_id__in=filters.round_ids)
        if filters.pass_name:
            codes = codes.filter(pass_name=filters.pass_name)
        if filters.solution_id:
            codes = codes.filter(cluster_sample__solution__solution_id=filters.solution_id)
        coders = None
        if filters.coder:
            coders = [pk for pk, name in self.pseudonyms.items() if name == filters.coder]
            codes = codes.filter(coder_id__in=coders)
        if kind == "post":
            key = (f"post-orders:{self.project.pk}:{self.version}:{filters.round_ids}:"
                   f"{filters.pass_name}:{filters.solution_id}:{coders}")
            by_order = _cached(key, lambda: _order_counts(codes))
        else:
            by_order = _order_counts(codes)
        return _Part(kind, codes, fields, order, by_order)

    def __len__(self):
        return sum(len(part) for part in self.parts)

    def __getitem__(self, index: slice) -> pd.DataFrame:
        start, stop, _ = index.indices(len(self))
        frames, offset = [], 0
        for part in self.parts:
            rows = part.rows(max(start - offset, 0), min(stop - offset, len(part)))
            if rows:
                frames.append(pd.DataFrame(rows, columns=list(part.fields.values()))
                              .assign(kind=part.kind))
            offset += len(part)
        if not frames:
            return pd.DataFrame()
        frame = pd.concat(frames, ignore_index=True)
        frame["coder"] = frame["coder_id"].map(self.pseudonyms)
        return add_themes(frame, self.project)

