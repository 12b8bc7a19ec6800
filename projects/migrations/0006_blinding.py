from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("projects", "0005_api_tokens"),
    ]

    operations = [
        migrations.AddField(
            model_name="project",
            name="name_for_coders",
            field=models.CharField(blank=True, help_text='the name coders see; empty: "Study <number>"',
                                   max_length=200),
        ),
    ]
