"""Adjudication, page by page: which cluster samples disagree (one SQL aggregate, whole round or
a few samples), the disagreements of one page's samples from compact value rows, the common
themes per sample for naming them; and the decisions themselves (made, revised, undone), each
kept in ``AdjudicationHistory`` with who, when, the note and the options the row showed.

A page costs the same few queries whatever the size of the round: nothing here loads codes as
objects or queries per sample (a round of 2,500 samples coded by 10 coders holds ~750,000 codes).
"""
from __future__ import annotations

from collections import defaultdict
from itertools import islice

from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db import connection, transaction
from django.db.models import Count, Max, Min
from django.db.models.functions import Coalesce

from ..models import (Adjudication, AdjudicationHistory, ClusterCode, ClusterSample, PostCode,
                      SampledPost, Theme, ValidationRound)
from ..passes import PASS_INDEX, PASS_VALUES
from .codebook import effective_theme_map

# At 10 coders a cluster, 5 cluster blocks are ~165 rows and ~1,650 theme cells to read: about
# a screenful of work, and a page that renders in well under 300 ms (benchmarks/bench_adjudication).
PAGE_SIZE = 5
MAX_PAGE_SIZE = 100

# Per (sample, pass): a post disagrees when its coders' merged themes differ; the common theme
# disagrees when the coders' merged common themes differ or a coder who coded posts gave none.
# A row is open until it has a decision. Portable SQL (PostgreSQL and SQLite).
_COUNTS_SQL = """
WITH post_groups AS (
  SELECT pc.cluster_sample_id AS sample_id, pc.pass_name AS pass_name,
         pc.sampled_post_id AS post_id, MIN({effective}) AS lo, MAX({effective}) AS hi,
         MAX(CASE WHEN cc.id IS NULL THEN 1 ELSE 0 END) AS coder_without_common
  FROM {postcode} pc JOIN {theme} t ON t.id = pc.theme_id
  LEFT JOIN {theme} m ON m.id = t.merged_into_id
  LEFT JOIN {clustercode} cc ON cc.cluster_sample_id = pc.cluster_sample_id
       AND cc.coder_id = pc.coder_id AND cc.pass_name = pc.pass_name
  WHERE pc.cluster_sample_id IN ({samples})
  GROUP BY pc.cluster_sample_id, pc.pass_name, pc.sampled_post_id),
post_keys AS (
  SELECT g.sample_id, g.pass_name,
         SUM(CASE WHEN g.lo <> g.hi THEN 1 ELSE 0 END) AS n_differ,
         SUM(CASE WHEN g.lo <> g.hi AND a.id IS NULL THEN 1 ELSE 0 END) AS n_open,
         MAX(g.coder_without_common) AS coder_without_common
  FROM post_groups g LEFT JOIN {adjudication} a
       ON a.sampled_post_id = g.post_id AND a.pass_name = g.pass_name
  GROUP BY g.sample_id, g.pass_name),
common_keys AS (
  SELECT cc.cluster_sample_id AS sample_id, cc.pass_name AS pass_name,
         MIN({effective}) AS lo, MAX({effective}) AS hi,
         MAX(CASE WHEN a.id IS NULL THEN 0 ELSE 1 END) AS decided
  FROM {clustercode} cc JOIN {theme} t ON t.id = cc.theme_id
  LEFT JOIN {theme} m ON m.id = t.merged_into_id
  LEFT JOIN {adjudication} a ON a.cluster_sample_id = cc.cluster_sample_id
       AND a.pass_name = cc.pass_name AND a.sampled_post_id IS NULL
  WHERE cc.cluster_sample_id IN ({samples})
  GROUP BY cc.cluster_sample_id, cc.pass_name),
pass_keys AS (
  SELECT p.sample_id, p.n_differ, p.n_open,
         CASE WHEN c.lo <> c.hi OR p.coder_without_common = 1 THEN 1 ELSE 0 END AS common_differs,
         c.decided
  FROM post_keys p LEFT JOIN common_keys c
       ON c.sample_id = p.sample_id AND c.pass_name = p.pass_name
  UNION ALL
  SELECT c.sample_id, 0, 0, CASE WHEN c.lo <> c.hi THEN 1 ELSE 0 END, c.decided
  FROM common_keys c WHERE NOT EXISTS (
       SELECT 1 FROM post_keys p WHERE p.sample_id = c.sample_id AND p.pass_name = c.pass_name))
SELECT k.sample_id, s.{order}, COUNT(*),
       SUM(k.n_open + CASE WHEN k.common_differs = 1 AND k.decided = 0 THEN 1 ELSE 0 END)
FROM pass_keys k JOIN {clustersample} s ON s.id = k.sample_id
WHERE k.n_differ > 0 OR k.common_differs = 1
GROUP BY k.sample_id, s.{order}
ORDER BY s.{order}
"""


def disagreement_counts(validation_round: ValidationRound, samples=None) -> list[tuple]:
    """(sample id, order, passes that disagree, rows still to decide) for each sample with a
    disagreement, in round order; ``samples``: a queryset to look at (default: the round's)."""
    samples = validation_round.samples.all() if samples is None else samples
    samples_sql, samples_params = samples.order_by().values("pk").query.sql_with_params()
    sql = _COUNTS_SQL.format(
        # the scoring category (codebook.effective_theme_map): within one pass, the merged
        # theme's lower-cased name — two coders' own "Shark" themes agree
        effective="LOWER(COALESCE(m.name, t.name))", samples=samples_sql,
        order=connection.ops.quote_name("order"), postcode=PostCode._meta.db_table,
        clustercode=ClusterCode._meta.db_table, theme=Theme._meta.db_table,
        adjudication=Adjudication._meta.db_table, clustersample=ClusterSample._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*samples_params, *samples_params])
        return [(sample_id, order, int(n_passes), int(n_open))  # SUMs may come as Decimal
                for sample_id, order, n_passes, n_open in cursor.fetchall()]


def disagreements(validation_round: ValidationRound, samples=None) -> list[dict]:
    """Cluster samples × passes coded by several coders whose (merged) themes differ.

    One entry per (sample, pass) with ≥ 2 coders who gave a common theme or post themes, where
    the common themes differ or at least one post's themes differ. ``samples``: the samples to
    look at (default: all of the round), with their solutions selected.
    """
    if samples is None:
        samples = validation_round.samples.select_related("solution")
    samples = {s.pk: s for s in samples}
    ids = list(samples)
    category = effective_theme_map(validation_round.project)   # theme -> the one it scores as
    common = defaultdict(dict)  # (sample, pass) -> coder -> theme id
    for sample_id, pass_name, coder_id, theme_id in (
            ClusterCode.objects.filter(cluster_sample_id__in=ids).order_by()
            .values_list("cluster_sample_id", "pass_name", "coder_id", "theme")):
        common[(sample_id, pass_name)][coder_id] = category[theme_id]
    posts = defaultdict(lambda: defaultdict(dict))  # (sample, pass) -> post -> coder -> theme id
    for sample_id, pass_name, post_id, coder_id, theme_id in (
            PostCode.objects.filter(cluster_sample_id__in=ids).order_by()
            .values_list("cluster_sample_id", "pass_name", "sampled_post_id", "coder_id",
                         "theme")):
        posts[(sample_id, pass_name)][post_id][coder_id] = category[theme_id]
    decisions = defaultdict(dict)
    for adj in Adjudication.objects.filter(cluster_sample_id__in=ids).select_related(
            "theme", "decided_by"):
        decisions[(adj.cluster_sample_id, adj.pass_name)][adj.sampled_post_id] = adj
    history = decision_history(ids)
    keys = sorted(set(common) | set(posts), key=lambda k: (samples[k[0]].order, PASS_INDEX[k[1]]))
    coder_ids = {c for key in keys for c in _coders(common, posts, key)}
    coders = {u.pk: u for u in get_user_model().objects.filter(pk__in=coder_ids)}
    theme_ids = {t for by in common.values() for t in by.values()} | {
        t for by_post in posts.values() for by in by_post.values() for t in by.values()}
    themes = {t.pk: t for t in Theme.objects.filter(pk__in=theme_ids)}
    sample_posts = defaultdict(list)
    for post in SampledPost.objects.filter(cluster_sample_id__in=ids).order_by("position"):
        sample_posts[post.cluster_sample_id].append(post)
    out = []
    for key in keys:
        sample_id, pass_name = key
        key_coders = sorted((coders[c] for c in _coders(common, posts, key)),
                            key=lambda u: u.username)
        if len(key_coders) < 2:
            continue
        common_themes = common.get(key, {})
        common_differs = len(set(common_themes.values())) > 1 or (
            0 < len(common_themes) < len(key_coders))
        rows = []
        for post in sample_posts[sample_id]:
            by = posts.get(key, {}).get(post.pk, {})
            rows.append({"post": post, "themes": [themes.get(by.get(c.pk)) for c in key_coders],
                         "differs": len(set(by.values())) > 1,
                         "decision": decisions[key].get(post.pk),
                         "history": history.get((sample_id, pass_name, post.pk), [])})
        n_post_differ = sum(r["differs"] for r in rows)
        if not common_differs and not n_post_differ:
            continue
        out.append({"sample": samples[sample_id], "pass": pass_name, "coders": key_coders,
                    "common": [themes.get(common_themes.get(c.pk)) for c in key_coders],
                    "common_differs": common_differs, "posts": rows,
                    "n_posts_differ": n_post_differ, "decision": decisions[key].get(None),
                    "history": history.get((sample_id, pass_name, None), [])})
    return out


def _coders(common, posts, key) -> set[int]:
    return set(common.get(key, {})) | {c for by in posts.get(key, {}).values() for c in by}


def common_theme_counts(samples) -> dict[int, dict[str, list[tuple[str, int]]]]:
    """sample id -> pass -> the (merged) common themes the coders gave, most frequent first
    (for naming), in one query."""
    out = {s.pk: {p: [] for p in PASS_VALUES} for s in samples}
    for sample_id, pass_name, name, n in (
            ClusterCode.objects.filter(cluster_sample_id__in=list(out)).order_by()
            .values("cluster_sample_id", "pass_name",
                    theme_name=Coalesce("theme__merged_into__name", "theme__name"))
            .annotate(n=Count("id")).values_list("cluster_sample_id", "pass_name",
                                                 "theme_name", "n")):
        out[sample_id][pass_name].append((name, n))
    for by_pass in out.values():
        for names in by_pass.values():
            names.sort(key=lambda kv: (-kv[1], kv[0]))
    return out


def page_size(value) -> int:
    try:
        return min(MAX_PAGE_SIZE, max(1, int(value)))
    except (TypeError, ValueError):
        return PAGE_SIZE


def _scan(validation_round: ValidationRound, start: int, forward: bool, first_chunk: int):
    """Count rows (see disagreement_counts) of the samples from order ``start`` on (down from
    ``start - 1`` when not ``forward``), nearest first, a chunk of orders per query; the chunks
    double, so a caller that stops early reads only the codes it needs and a full scan takes
    a handful of queries (the whole round at once costs seconds at 750,000 codes)."""
    bounds = validation_round.samples.aggregate(lo=Min("order"), hi=Max("order"))
    if bounds["lo"] is None:
        return
    size = first_chunk
    while (start <= bounds["hi"]) if forward else (start > bounds["lo"]):
        lo, hi = (start, start + size) if forward else (start - size, start)
        rows = disagreement_counts(validation_round, validation_round.samples.filter(
            order__gte=lo, order__lt=hi))
        yield from (rows if forward else reversed(rows))
        start = hi if forward else lo
        size *= 2


def adjudication_page(validation_round: ValidationRound, number, per_page: int = PAGE_SIZE
                      ) -> dict:
    """One numbered page of the round's cluster samples in round order (``page``: a paginator
    page), their disagreements and their common themes."""
    page = Paginator(validation_round.samples.select_related("solution").order_by("order"),
                     per_page).get_page(number)
    return {"page": page, **_shown(validation_round, list(page.object_list))}


def disagreeing_page(validation_round: ValidationRound, start: int, forward: bool = True,
                     per_page: int = PAGE_SIZE) -> dict:
    """Up to ``per_page`` samples with a disagreement, from order ``start`` on (or the last
    ones before ``start`` when not ``forward``); ``more``: whether others lie further on."""
    rows = list(islice(_scan(validation_round, start, forward, 2 * (per_page + 1)), per_page + 1))
    more = len(rows) > per_page
    ids = [row[0] for row in rows[:per_page]]
    samples = list(validation_round.samples.filter(pk__in=ids).select_related("solution")
                   .order_by("order"))
    return {"more": more, **_shown(validation_round, samples)}


def _shown(validation_round, samples) -> dict:
    return {"samples": samples, "items": disagreements(validation_round, samples),
            "common_themes": common_theme_counts(samples)}


def next_open_sample(validation_round: ValidationRound, after_order: int) -> int | None:
    """Order of the first sample after ``after_order`` (wrapping round to the start) with a row
    still to decide; None when every disagreement has a decision."""
    first_chunk = 2 * PAGE_SIZE
    for start, stop in ((after_order + 1, None), (-1, after_order + 1)):
        for _, order, _, n_open in _scan(validation_round, max(start, 0), True, first_chunk):
            if stop is not None and order >= stop:
                break
            if n_open:
                return order
    return None


def page_number_of(validation_round: ValidationRound, order: int, per_page: int) -> int:
    return validation_round.samples.filter(order__lt=order).count() // per_page + 1


# ---------------------------------------------------------------- decisions

class AdjudicationError(Exception):
    """A decision that cannot be recorded; the message names the field at fault."""


def row_options(cluster_sample, pass_name: str, sampled_post=None) -> list[dict]:
    """What a row of the page offers, as text: each coder of the (sample, pass), in the page's
    order (by username), with the theme the page shows for the row — the common theme when
    ``sampled_post`` is None; the scoring category's name, as ``disagreements`` shows it; None
    where the coder gave none."""
    category = effective_theme_map(cluster_sample.round.project)
    common = dict(ClusterCode.objects.filter(cluster_sample=cluster_sample, pass_name=pass_name)
                  .values_list("coder__username", "theme"))
    posts = PostCode.objects.filter(cluster_sample=cluster_sample, pass_name=pass_name)
    coders = set(common) | set(posts.values_list("coder__username", flat=True))
    chosen = common if sampled_post is None else dict(
        posts.filter(sampled_post=sampled_post).values_list("coder__username", "theme"))
    names = dict(Theme.objects.filter(pk__in={category[t] for t in chosen.values()})
                 .values_list("pk", "name"))
    return [{"coder": coder, "theme": names[category[chosen[coder]]] if coder in chosen else None}
            for coder in sorted(coders)]


def _check_row(cluster_sample, pass_name: str, sampled_post) -> ClusterSample:
    """Lock the row's cluster sample, so decisions on one sample are recorded one at a time."""
    if pass_name not in PASS_INDEX:
        raise AdjudicationError(f"pass_name: no pass “{pass_name}”")
    if sampled_post is not None and sampled_post.cluster_sample_id != cluster_sample.pk:
        raise AdjudicationError("post: that post is not in this cluster")
    return ClusterSample.objects.select_for_update().get(pk=cluster_sample.pk)


def _current(cluster_sample, pass_name: str, sampled_post) -> Adjudication | None:
    return (Adjudication.objects.select_related("theme")
            .filter(cluster_sample=cluster_sample, pass_name=pass_name,
                    sampled_post=sampled_post).first())


def _log(decision: Adjudication, action: str, user) -> AdjudicationHistory:
    return AdjudicationHistory.objects.create(
        cluster_sample_id=decision.cluster_sample_id, sampled_post_id=decision.sampled_post_id,
        pass_name=decision.pass_name, action=action, theme=decision.theme,
        theme_name=decision.theme.name, note=decision.note,
        options_shown=decision.options_shown or [], acted_by=user)


@transaction.atomic
def record_decision(cluster_sample, pass_name: str, theme: Theme, user, note: str = "",
                    sampled_post=None) -> Adjudication:
    """Decide a row (the common theme when ``sampled_post`` is None): a first decision is
    created, a different theme or note revises it, the same one again changes nothing. Stores
    the merged theme and the options the row offered."""
    if theme.project_id != cluster_sample.round.project_id or theme.modality != pass_name:
        raise AdjudicationError("theme_name: that theme belongs to another codebook")
    _check_row(cluster_sample, pass_name, sampled_post)
    theme, note = theme.effective, (note or "").strip()
    decision = _current(cluster_sample, pass_name, sampled_post)
    if decision is not None and decision.theme_id == theme.pk and decision.note == note:
        return decision
    action = (AdjudicationHistory.Action.CREATED if decision is None
              else AdjudicationHistory.Action.REVISED)
    if decision is None:
        decision = Adjudication(cluster_sample=cluster_sample, pass_name=pass_name,
                                sampled_post=sampled_post)
    decision.theme, decision.note, decision.decided_by = theme, note, user
    decision.options_shown = row_options(cluster_sample, pass_name, sampled_post)
    decision.save()
    _log(decision, action, user)
    return decision


@transaction.atomic
def undo_decision(cluster_sample, pass_name: str, user,
                  sampled_post=None) -> AdjudicationHistory:
    """Take a row's decision back (the row is open again); its history keeps what was undone."""
    _check_row(cluster_sample, pass_name, sampled_post)
    decision = _current(cluster_sample, pass_name, sampled_post)
    if decision is None:
        raise AdjudicationError("post: this row has no decision to undo" if sampled_post
                                else "cluster: this row has no decision to undo")
    entry = _log(decision, AdjudicationHistory.Action.UNDONE, user)
    decision.delete()
    return entry


def decision_history(sample_ids) -> dict[tuple, list[AdjudicationHistory]]:
    """(sample id, pass, post id or None) -> the row's history, oldest first, in one query."""
    out = defaultdict(list)
    for entry in (AdjudicationHistory.objects.filter(cluster_sample_id__in=list(sample_ids))
                  .select_related("acted_by").order_by("acted_at", "pk")):
        out[(entry.cluster_sample_id, entry.pass_name, entry.sampled_post_id)].append(entry)
    return out
