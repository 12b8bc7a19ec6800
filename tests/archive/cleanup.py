"""Remove a study's rows straight from the tables (children first), so its archive can come
back into the same test database: the copy carries the original's unique public ids."""


def delete_study(project) -> None:
    from projects.archive.contents import collect_ids, insertion_order
    from scoring.models import ExportJob, ScoreSnapshot, ScoreVersion

    rows = collect_ids(project)
    for model in (ScoreSnapshot, ExportJob, ScoreVersion):
        model.objects.filter(project=project).delete()
    for model in reversed(insertion_order(rows)):
        ids = rows[model]
        queryset = model._base_manager.filter(pk__in=ids)
        for field in model._meta.concrete_fields:
            if field.is_relation and field.related_model is model and field.null:
                queryset.update(**{field.attname: None})
        for relation in model._meta.many_to_many:
            relation.remote_field.through._base_manager.filter(
                **{f"{relation.m2m_field_name()}_id__in": ids})._raw_delete("default")
        queryset._raw_delete("default")
