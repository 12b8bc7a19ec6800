import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("authtoken", "0004_alter_tokenproxy_options"),
        ("projects", "0004_dataset_uploader_and_size"),
    ]

    operations = [
        migrations.CreateModel(
            name="TokenUse",
            fields=[
                ("token", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE,
                                               primary_key=True, related_name="use",
                                               serialize=False, to="authtoken.token")),
                ("last_used_at", models.DateTimeField()),
                ("last_used_from", models.CharField(blank=True, help_text="client address",
                                                    max_length=45)),
            ],
        ),
    ]
