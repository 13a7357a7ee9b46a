"""Before the database refuses them: duplicate relapses (the same onset twice) and male patients
recorded with a pregnancy status (issue #15). The data is corrected, never deleted, and the next
migration adds the constraints."""

from django.db import migrations
from django.db.models import Count
from django.utils import timezone

DUPLICATE_REASON = (
    "Marked automatically when a second relapse with the same onset became impossible "
    "(migration patients 0009): the same onset as relapse {first}, recorded earlier."
)


def mark_duplicate_relapses(apps, schema_editor):
    Relapse = apps.get_model("patients", "Relapse")
    groups = (
        Relapse.objects.filter(correction="")
        .values("patient_id", "onset_on")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    now = timezone.now()
    for group in groups:
        ids = list(
            Relapse.objects.filter(
                correction="", patient_id=group["patient_id"], onset_on=group["onset_on"]
            )
            .order_by("id")
            .values_list("id", flat=True)
        )
        Relapse.objects.filter(id__in=ids[1:]).update(
            correction="entered_in_error",
            corrected_at=now,
            correction_reason=DUPLICATE_REASON.format(first=ids[0]),
        )


def male_patients_not_pregnant(apps, schema_editor):
    Patient = apps.get_model("patients", "Patient")
    Patient.objects.filter(sex="male").exclude(pregnancy_status="not_applicable").update(
        pregnancy_status="not_applicable"
    )


class Migration(migrations.Migration):
    dependencies = [("patients", "0008_corrections")]

    operations = [
        migrations.RunPython(mark_duplicate_relapses, migrations.RunPython.noop),
        migrations.RunPython(male_patients_not_pregnant, migrations.RunPython.noop),
    ]
