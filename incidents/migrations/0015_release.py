"""Dataset releases (API.md "Releases and feeds"), which editors may make and view in the admin."""

from importlib import import_module

import django.utils.timezone
from django.db import migrations, models

# The editors' group holds every permission of this app: given again, now that there is a new model.
grant_editors_every_permission = import_module("incidents.migrations.0002_editors_group").create_editors_group


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0014_grid_levels_and_keyed_rollups"),
    ]

    operations = [
        migrations.CreateModel(
            name="Release",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("version", models.CharField(help_text="YYYY.N", max_length=16, unique=True, verbose_name="version")),
                ("year", models.PositiveSmallIntegerField(verbose_name="year")),
                (
                    "number",
                    models.PositiveIntegerField(help_text="N: the how-manieth release of its year", verbose_name="number"),
                ),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="created at")),
                ("created_by", models.CharField(blank=True, max_length=150, verbose_name="created by")),
                (
                    "data_as_of",
                    models.DateTimeField(
                        help_text="The latest change in the released data.", null=True, verbose_name="data as of"
                    ),
                ),
                ("incidents", models.PositiveIntegerField(verbose_name="incidents")),
                ("sha256", models.CharField(max_length=64, verbose_name="SHA-256 of datapackage.json")),
                (
                    "changes",
                    models.JSONField(
                        help_text="uids added, changed and removed since the previous release", verbose_name="changes"
                    ),
                ),
                (
                    "files",
                    models.JSONField(help_text="[{name, bytes, sha256}] of the package's files", verbose_name="files"),
                ),
            ],
            options={
                "verbose_name": "dataset release",
                "verbose_name_plural": "dataset releases",
                "ordering": ["-year", "-number"],
                "constraints": [models.UniqueConstraint(fields=("year", "number"), name="release_unique_year_number")],
            },
        ),
        migrations.RunPython(grant_editors_every_permission, migrations.RunPython.noop),
    ]
