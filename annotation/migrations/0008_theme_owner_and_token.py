"""Themes owned by the coder who named them, under opaque public ids; reversible merges; renames
audited.

Existing themes: owner = the coder who made it. A theme several coders coded with is split: each
other coder gets a copy of the same name (and the same merge), and their codes and code history
move to it, so no coder's theme id is another's. Scores do not change: themes of the same name
are one category (services.codebook.effective_theme_map). A merge made before this migration
records the source and its copies as re-pointed (the themes it flattened were not recorded).

Not atomic: the data step commits before the table is altered (PostgreSQL refuses to alter a
table with pending trigger events, and the score-version triggers fire on every write here).
"""
import importlib

import django.db.models.deletion
import django.db.models.functions.text
from django.conf import settings
from django.db import migrations, models

import annotation.models
from annotation.tokens import new_token


def own_and_split_themes(apps, schema_editor):
    Theme = apps.get_model("annotation", "Theme")
    PostCode = apps.get_model("annotation", "PostCode")
    ClusterCode = apps.get_model("annotation", "ClusterCode")
    CodeHistory = apps.get_model("annotation", "CodeHistory")
    ThemeMerge = apps.get_model("annotation", "ThemeMerge")
    copies = {}
    for theme in list(Theme.objects.order_by("pk")):
        coders = sorted(set(PostCode.objects.filter(theme=theme).values_list("coder_id", flat=True))
                        | set(ClusterCode.objects.filter(theme=theme)
                              .values_list("coder_id", flat=True)))
        owner = (theme.created_by_id if not coders or theme.created_by_id in coders
                 else coders[0])
        theme.owner_id, theme.public_id = owner, new_token("T")
        theme.save(update_fields=["owner", "public_id"])
        for coder in coders:
            if coder == owner:
                continue
            copy = Theme.objects.create(
                project_id=theme.project_id, modality=theme.modality, name=theme.name,
                owner_id=coder, created_by_id=coder, merged_into_id=theme.merged_into_id,
                public_id=new_token("T"))
            copies.setdefault(theme.pk, []).append(copy.pk)
            PostCode.objects.filter(theme=theme, coder_id=coder).update(theme=copy)
            ClusterCode.objects.filter(theme=theme, coder_id=coder).update(theme=copy)
            CodeHistory.objects.filter(theme=theme, post_code__coder_id=coder).update(theme=copy)
            CodeHistory.objects.filter(theme=theme, cluster_code__coder_id=coder).update(theme=copy)
    for merge in ThemeMerge.objects.select_related("source"):
        if merge.source.merged_into_id == merge.target_id:
            merge.repointed = [[pk, None] for pk in [merge.source_id,
                                                     *copies.get(merge.source_id, [])]]
            merge.save(update_fields=["repointed"])


def restore_sqlite_score_triggers(apps, schema_editor):
    """SQLite rebuilt the theme table (new unique column) and dropped its score-version triggers
    (scoring migration 0002): put them back when that migration has run."""
    connection = schema_editor.connection
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type='table' AND "
                       "name='scoring_scoreversion'")
        if cursor.fetchone() is None:
            return
        cursor.execute("SELECT name FROM sqlite_master WHERE type='trigger' AND "
                       "tbl_name='annotation_theme'")
        if cursor.fetchone() is not None:
            return
    stored_scores = importlib.import_module("scoring.migrations.0002_stored_scores")
    for statement in stored_scores._sqlite("annotation_theme",
                                           stored_scores.WATCHED["annotation_theme"][1]):
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ('annotation', '0007_adjudication_record'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='theme',
            name='unique_theme_name_per_modality',
        ),
        migrations.AddField(
            model_name='theme',
            name='owner',
            field=models.ForeignKey(blank=True, help_text='the coder whose theme this is; empty = PI codebook theme', null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='theme',
            name='public_id',
            field=models.CharField(max_length=16, null=True),
        ),
        migrations.AddField(
            model_name='thememerge',
            name='repointed',
            field=models.JSONField(blank=True, default=list, help_text='[theme id, merged_into id before the merge] of every theme the merge moved'),
        ),
        migrations.AddField(
            model_name='thememerge',
            name='undone_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='thememerge',
            name='undone_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.CreateModel(
            name='ThemeRename',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('old_name', models.CharField(max_length=200)),
                ('new_name', models.CharField(max_length=200)),
                ('renamed_at', models.DateTimeField(auto_now_add=True)),
                ('renamed_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('theme', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='renames', to='annotation.theme')),
            ],
            options={
                'ordering': ['-renamed_at', '-id'],
            },
        ),
        migrations.RunPython(own_and_split_themes, migrations.RunPython.noop, atomic=True),
        migrations.AlterField(
            model_name='theme',
            name='public_id',
            field=models.CharField(default=annotation.models.theme_token, editable=False, max_length=16, unique=True),
        ),
        migrations.AddConstraint(
            model_name='theme',
            constraint=models.UniqueConstraint(django.db.models.functions.text.Lower('name'), 'project', 'modality', 'owner', condition=models.Q(('owner__isnull', False)), name='unique_theme_name_per_owner'),
        ),
        migrations.AddConstraint(
            model_name='theme',
            constraint=models.UniqueConstraint(django.db.models.functions.text.Lower('name'), 'project', 'modality', condition=models.Q(('owner__isnull', True)), name='unique_codebook_theme_name'),
        ),
        migrations.AlterField(
            model_name='validationround',
            name='independent_coding',
            field=models.BooleanField(default=True, help_text='each coder is offered only their own themes, all round long'),
        ),
        migrations.AlterField(
            model_name='validationround',
            name='adjudication_open',
            field=models.BooleanField(default=False, help_text='opened by the PI to decide disagreements; coders see no change'),
        ),
        migrations.RunPython(restore_sqlite_score_triggers, migrations.RunPython.noop),
    ]
