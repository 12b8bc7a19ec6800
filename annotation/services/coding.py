"""Saving codes: idempotent, versioned, race-safe, with history.

Design note — a label is never lost and never duplicated
--------------------------------------------------------
The key of a post code is (sampled post, coder, pass), enforced by a unique constraint; of a
common theme (cluster sample, coder, pass). A save carries the client's ``base_version`` (the
version it last saw; 0 = none):

* no row yet → insert version 1. Two concurrent inserts: PostgreSQL makes the second wait on
  the unique index, then raise IntegrityError; we roll back to a savepoint and carry on with
  the row the first one committed (locked with SELECT … FOR UPDATE), as below.
* row exists (locked FOR UPDATE, so concurrent updates serialise):
  - same theme as stored → success, nothing written (idempotent: a retried request whose
    acknowledgement was lost succeeds again);
  - ``base_version`` equals the stored version → update, version + 1;
  - otherwise → conflict: the stored row is unchanged, the refused theme is recorded in the
    history (outcome "conflict") and the client gets the current value to show.
Every accepted or refused write adds a ``CodeHistory`` row.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction

from ..models import ClusterCode, CodeHistory, PostCode, Theme
from .codebook import CodebookError, clean_theme_name
from .intrusion_answers import MAX_LEAD_TIME_S
from ..passes import PASS_VALUES, Pass


class CodingError(Exception):
    pass


@dataclass
class SaveResult:
    status: str            # "created" | "changed" | "unchanged" | "conflict"
    code: object           # the PostCode / ClusterCode as stored now

    @property
    def ok(self) -> bool:
        return self.status != "conflict"


def get_or_create_theme(project, modality: str, name: str, owner=None, *,
                        created_by=None) -> Theme:
    """``owner``'s theme of that name (case-insensitive), created when new; ``owner`` None = a PI
    codebook theme (codebook and adjudication pages). Never another coder's theme, so the same
    spelling from two coders gives two themes (scores join them: codebook.effective_theme_map).
    A new theme of a name the PI merged away joins that merge, as its namesakes did."""
    try:
        name = clean_theme_name(name)
    except CodebookError as exc:
        raise CodingError(str(exc)) from None
    mine = Theme.objects.filter(project=project, modality=modality, name__iexact=name,
                                owner=owner)
    theme = mine.first()
    if theme is None:
        merged = Theme.objects.filter(project=project, modality=modality, name__iexact=name
                                      ).values_list("merged_into", flat=True).first()
        try:
            with transaction.atomic():
                theme = Theme.objects.create(project=project, modality=modality, name=name,
                                             owner=owner, created_by=created_by or owner,
                                             merged_into_id=merged)
        except IntegrityError:  # created concurrently
            theme = mine.get()
    return theme


def _lead_time(value) -> float | None:
    """What the browser measured, or None when there is none or it is not a duration (a clock
    jump, a tab left open overnight)."""
    if value is None:
        return None
    value = float(value)
    return value if 0 <= value <= MAX_LEAD_TIME_S else None


def _save(model, key: dict, theme: Theme, base_version: int | None, user, history_field: str,
          extra: dict | None = None, lead_time_s=None) -> SaveResult:
    lead_time_s = _lead_time(lead_time_s)
    with transaction.atomic():
        row = model.objects.select_for_update().filter(**key).first()
        if row is None:
            try:
                with transaction.atomic():
                    row = model.objects.create(**key, **(extra or {}), theme=theme, version=1,
                                               lead_time_s=lead_time_s)
                CodeHistory.objects.create(**{history_field: row}, theme=theme, version=1,
                                           base_version=base_version, outcome="created",
                                           changed_by=user)
                return SaveResult("created", row)
            except IntegrityError:
                row = model.objects.select_for_update().get(**key)
        if row.theme_id == theme.pk:
            return SaveResult("unchanged", row)
        if base_version is not None and int(base_version) == row.version:
            row.theme = theme
            row.version += 1
            row.lead_time_s = lead_time_s
            row.save(update_fields=["theme", "version", "lead_time_s", "updated_at"])
            CodeHistory.objects.create(**{history_field: row}, theme=theme, version=row.version,
                                       base_version=base_version, outcome="changed",
                                       changed_by=user)
            return SaveResult("changed", row)
        CodeHistory.objects.create(**{history_field: row}, theme=theme, version=row.version,
                                   base_version=base_version, outcome="conflict", changed_by=user)
        return SaveResult("conflict", row)


def save_post_code(sampled_post, coder, pass_name: str, theme: Theme,
                   base_version: int | None, lead_time_s: float | None = None) -> SaveResult:
    _check_theme(sampled_post.cluster_sample, pass_name, theme)
    return _save(PostCode, {"sampled_post": sampled_post, "coder": coder, "pass_name": pass_name},
                 theme, base_version, coder, "post_code",
                 extra={"cluster_sample_id": sampled_post.cluster_sample_id},
                 lead_time_s=lead_time_s)


def save_cluster_code(cluster_sample, coder, pass_name: str, theme: Theme,
                      base_version: int | None, lead_time_s: float | None = None) -> SaveResult:
    _check_theme(cluster_sample, pass_name, theme)
    return _save(ClusterCode, {"cluster_sample": cluster_sample, "coder": coder,
                               "pass_name": pass_name}, theme, base_version, coder, "cluster_code",
                 lead_time_s=lead_time_s)


class PassOrderError(CodingError):
    pass


def check_pass_order(cluster_sample, coder, pass_name: str) -> None:
    """Appendix E's order (text, image, joint) holds per cluster and coder on the server too:
    a pass is refused until every earlier pass of that cluster is complete."""
    from .assignment import sample_progress

    earlier = PASS_VALUES[:PASS_VALUES.index(pass_name)]
    if not earlier:
        return
    progress = sample_progress([cluster_sample], coder)[cluster_sample.pk]["passes"]
    missing = [p for p in earlier if not progress[p]["complete"]]
    if missing:
        raise PassOrderError(f"finish the {Pass(missing[0]).label.lower()} pass of this cluster "
                             "first")


class PassLockedError(CodingError):
    """A change to a pass after a later pass of the cluster has begun (the API answers 409)."""

    def __init__(self, pass_name: str, begun: str):
        self.pass_name, self.begun = pass_name, begun
        super().__init__(f"the {Pass(pass_name).label.lower()} pass of this cluster is closed: "
                         f"you have begun its {Pass(begun).label.lower()} pass")


def later_pass_begun(cluster_sample, coder, pass_name: str) -> str | None:
    """The first later pass of this cluster in which the coder saved anything, or None."""
    later = PASS_VALUES[PASS_VALUES.index(pass_name) + 1:]
    begun = set(PostCode.objects.filter(cluster_sample=cluster_sample, coder=coder,
                                        pass_name__in=later).values_list("pass_name", flat=True))
    begun |= set(ClusterCode.objects.filter(cluster_sample=cluster_sample, coder=coder,
                                            pass_name__in=later).values_list("pass_name",
                                                                             flat=True))
    return next((p for p in later if p in begun), None)


def check_pass_open(cluster_sample, coder, pass_name: str) -> None:
    """Pass isolation: once a coder has seen a cluster's images (image pass) or both modalities
    (joint pass), their judgement of an earlier pass can no longer be blind, so that pass is
    closed to them: a change is refused, never recorded as if it were blind."""
    begun = later_pass_begun(cluster_sample, coder, pass_name)
    if begun is not None:
        raise PassLockedError(pass_name, begun)


def _check_theme(cluster_sample, pass_name: str, theme: Theme) -> None:
    if theme.modality != pass_name or theme.project_id != cluster_sample.round.project_id:
        raise CodingError("that theme belongs to another codebook")
