"""Default response targets (working days to accept or decline), editable by clinic admins.

Urgent 2, soon 5, routine 10 working days for every discipline; the MS nurse service, which runs
the relapse line, answers faster (1 / 3 / 5); ophthalmology urgent is 1 day (acute visual loss).
"""

from django.db import migrations

DEFAULT = {"urgent": 2, "soon": 5, "routine": 10}
OVERRIDES = {
    ("ms_nurse", "urgent"): 1,
    ("ms_nurse", "soon"): 3,
    ("ms_nurse", "routine"): 5,
    ("ophthalmology", "urgent"): 1,
}
DISCIPLINES = [
    "physiotherapy",
    "occupational_therapy",
    "speech_language",
    "psychology",
    "continence",
    "ophthalmology",
    "social_work",
    "dietetics",
    "pain",
    "neuro_rehab",
    "ms_nurse",
]


def seed(apps, schema_editor):
    ReferralTarget = apps.get_model("patients", "ReferralTarget")
    for discipline in DISCIPLINES:
        for urgency, days in DEFAULT.items():
            ReferralTarget.objects.get_or_create(
                discipline=discipline,
                urgency=urgency,
                defaults={"working_days": OVERRIDES.get((discipline, urgency), days)},
            )


class Migration(migrations.Migration):
    dependencies = [("patients", "0003_referrals")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
