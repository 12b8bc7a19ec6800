import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("projects", "0006_blinding"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ArchiveJob",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                           verbose_name="ID")),
                ("with_images", models.BooleanField(default=True)),
                ("status", models.CharField(choices=[("queued", "Queued"), ("running", "Running"),
                                                     ("succeeded", "Ready"), ("failed", "Failed")],
                                            default="queued", max_length=10)),
                ("file_path", models.CharField(blank=True, help_text="the zip, when ready",
                                               max_length=1000)),
                ("size_bytes", models.BigIntegerField(default=0)),
                ("error", models.TextField(blank=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("finished_at", models.DateTimeField(blank=True, null=True)),
                ("created_by", models.ForeignKey(null=True,
                                                 on_delete=django.db.models.deletion.SET_NULL,
                                                 related_name="+", to=settings.AUTH_USER_MODEL)),
                ("project", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE,
                                              related_name="archive_jobs",
                                              to="projects.project")),
            ],
            options={"ordering": ["-created_at", "-id"]},
        ),
    ]
