"""Conversions get a marker for their side effects (roles, telling the member), so a periodic
sweep can finish what a lost or failed task left undone. Existing rows were handled by the old
task: they are marked done, so the first sweep does not re-run years of role assignments."""

from django.db import migrations, models
from django.db.models import F


def mark_existing_done(apps, schema_editor):
    Conversion = apps.get_model("analytics", "Conversion")
    Conversion.objects.filter(side_effects_done_at__isnull=True).update(
        side_effects_done_at=F("created_at")
    )


class Migration(migrations.Migration):

    dependencies = [
        ("analytics", "0005_return_visit_event"),
    ]

    operations = [
        migrations.AddField(
            model_name="conversion",
            name="side_effects_done_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(mark_existing_done, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="conversion",
            index=models.Index(
                condition=models.Q(("side_effects_done_at__isnull", True)),
                fields=["created_at"],
                name="conversion_side_effects_due",
            ),
        ),
    ]
