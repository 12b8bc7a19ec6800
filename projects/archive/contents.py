"""What an archive holds: every row that belongs to a project, the users those rows name (as
pseudonyms), and the schema the rows were written in.

The rows are found by the rules Django's deletion collector follows from the project (cascades,
and the rows that protect a collected row: a theme merge points at two themes with ``PROTECT``),
so a model added later that hangs off the project is archived without a change here. What is derived or installation-bound is left out on purpose
(``EXCLUDED``); auth secrets never enter: users are written as pseudonym + role only.
"""
from __future__ import annotations

import hashlib
from collections import defaultdict

from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.migrations.loader import MigrationLoader

# Recomputed or rebuilt on the receiving installation, or meaningful only on this one.
EXCLUDED = frozenset({
    "scoring.scoreversion", "scoring.scoresnapshot", "scoring.scoretable",   # recomputed
    "scoring.exportjob", "projects.archivejob",        # files of this installation
    "projects.datarootgrant",                          # a grant names this server's folders
    "projects.tokenuse",                               # API token bookkeeping (a secret's)
})
# Apps whose rows are auth secrets or installation bookkeeping: never archived.
EXCLUDED_APPS = frozenset({"auth", "authtoken", "sessions", "admin", "contenttypes"})
BATCH = 2000


def archived(model) -> bool:
    meta = model._meta
    return not (meta.auto_created or meta.app_label in EXCLUDED_APPS
                or meta.label_lower in EXCLUDED or model is get_user_model())


# What a deletion of a row would take with it (cascade) or be stopped by (protect, restrict):
# those rows belong to the study. SET_NULL and the like point at it without belonging to it.
def _belongs(relation) -> bool:
    on_delete = relation.field.remote_field.on_delete
    return on_delete in (models.CASCADE, models.PROTECT, models.RESTRICT)


def collect_ids(project) -> dict[type, list[int]]:
    """{model: sorted ids} of everything that belongs to ``project``, itself included, by the
    deletion collector's rules (rows a cascade from the project reaches, and rows that protect
    one of those: a theme merge protects its two themes), walked over ids only, so a round of
    750,000 codes never sits in memory as model instances."""
    db = project._state.db or DEFAULT_DB_ALIAS
    found: dict[type, set] = defaultdict(set)
    found[type(project)].add(project.pk)
    pending = {type(project): {project.pk}}
    while pending:
        model, ids = pending.popitem()
        for relation in model._meta.related_objects:
            if relation.many_to_many or not _belongs(relation):
                continue
            related = relation.related_model
            if related._meta.auto_created or related is get_user_model():
                continue
            ids_list = sorted(ids)
            new = set()
            for start in range(0, len(ids_list), BATCH):
                new.update(related._base_manager.using(db).filter(
                    **{f"{relation.field.name}__in": ids_list[start:start + BATCH]}
                ).values_list("pk", flat=True))
            new -= found[related]
            if new:
                found[related] |= new
                pending.setdefault(related, set()).update(new)
    return {model: sorted(ids) for model, ids in found.items() if archived(model)}


def rows_of(model, ids: list[int], using: str = DEFAULT_DB_ALIAS):
    """The rows, in id order, a batch at a time."""
    for start in range(0, len(ids), BATCH):
        yield from model._base_manager.using(using).filter(
            pk__in=ids[start:start + BATCH]).order_by("pk")


def insertion_order(models) -> list:
    """``models`` ordered so that every foreign key points at a model earlier in the list
    (a model's foreign keys to itself are filled in after its rows exist)."""
    models = set(models)
    needs = {m: {f.related_model for f in m._meta.concrete_fields
                 if f.is_relation and f.related_model in models and f.related_model is not m}
             | {f.related_model for f in m._meta.many_to_many if f.related_model in models}
             for m in models}
    ordered: list = []
    while needs:
        ready = sorted((m for m, deps in needs.items() if deps <= set(ordered)),
                       key=lambda m: m._meta.label_lower)
        if not ready:
            raise ValueError(f"foreign keys in a cycle: {sorted(m._meta.label for m in needs)}")
        ordered += ready
        for m in ready:
            del needs[m]
    return ordered


def referenced_user_ids(ids: dict[type, list[int]], using: str = DEFAULT_DB_ALIAS) -> set[int]:
    user_model = get_user_model()
    users = set()
    for model, model_ids in ids.items():
        fields = [f.attname for f in model._meta.concrete_fields
                  if f.is_relation and f.related_model is user_model]
        for start in range(0, len(model_ids), BATCH) if fields else ():
            for row in model._base_manager.using(using).filter(
                    pk__in=model_ids[start:start + BATCH]).values_list(*fields):
                users.update(row)
    users.discard(None)
    return users


def study_tag(project) -> str:
    """Six hex digits that stay the same for a project and its imported copies (name and
    creation time travel with it), so pseudonyms of two studies never meet by accident."""
    source = f"{project.name}|{project.created_at.isoformat()}".encode("utf-8")
    return hashlib.sha256(source).hexdigest()[:6]


def pseudonyms(project, user_ids) -> list[dict]:
    """One entry per user, in account order: old id, pseudonym ``<tag>-<role>-<n>`` (n counts
    the role's accounts in creation order) and role in the project ('' if none any more)."""
    roles = dict(project.memberships.values_list("user_id", "role"))
    counts: dict[str, int] = defaultdict(int)
    users = []
    for user_id in sorted(user_ids):
        role = roles.get(user_id, "")
        counts[role or "user"] += 1
        users.append({"pk": user_id, "role": role,
                      "pseudonym": f"{study_tag(project)}-{role or 'user'}-{counts[role or 'user']}"})
    return users


def schema(using: str = DEFAULT_DB_ALIAS) -> dict[str, str]:
    """The latest applied migration of every app, in the migration graph's order."""
    loader = MigrationLoader(connections[using])
    latest = {}
    for leaf in loader.graph.leaf_nodes():
        for app, name in loader.graph.forwards_plan(leaf):
            if app == leaf[0] and (app, name) in loader.applied_migrations:
                latest[app] = name
    return dict(sorted(latest.items()))


def unknown_migrations(archive_schema: dict, using: str = DEFAULT_DB_ALIAS) -> list[str]:
    """Migrations the archive was written at that this installation does not have (a newer
    Diptych wrote it)."""
    loader = MigrationLoader(connections[using])
    return sorted(f"{app}.{name}" for app, name in archive_schema.items()
                  if (app, name) not in loader.graph.nodes)
