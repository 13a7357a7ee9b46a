"""The bench's generated clinic: reproducible from its seed, and in the steady state the
sweeps leave behind (so "a sweep with nothing due" measures an idle sweep)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from patients.models import EdssAssessment, Patient
from treatments.models import Alert, AlertKind, CarePlan, MonitoringItem
from treatments.monitoring import sweeps


class _Undo(Exception):
    pass


def _fingerprint() -> tuple:
    """What the clinic says, without database ids (sequences move on after a rollback)."""
    return (
        sorted(Patient.objects.values_list("mrn", "family_name", "date_of_birth", "status")),
        sorted(EdssAssessment.objects.values_list("patient__mrn", "assessed_on", "step")),
        sorted(
            MonitoringItem.objects.values_list(
                "patient__mrn", "investigation", "due_on", "status", "overdue_since"
            )
        ),
        Alert.objects.count(),
    )


def test_the_same_seed_gives_the_same_clinic(generated_clinic):
    first: tuple = ()
    try:
        with transaction.atomic():
            generated_clinic(patients=24, caseload=12, seed=5)
            first = _fingerprint()
            raise _Undo  # roll the first clinic back
    except _Undo:
        pass
    assert not Patient.objects.exists()

    generated_clinic(patients=24, caseload=12, seed=5)

    assert first[0]
    assert _fingerprint() == first


def test_a_generated_clinic_is_already_swept(generated_clinic):
    generated_clinic(patients=40, caseload=20)
    assert Alert.objects.filter(kind=AlertKind.OVERDUE_MONITORING).exists()

    result = sweeps.sweep_overdue(at=timezone.now())

    assert (result.created, result.claimed, result.reopened, result.resolved) == (0, 0, 0, 0)


def test_a_large_clinic_is_written_a_batch_of_patients_at_a_time(
    generated_clinic, monkeypatch, capsys
):
    from treatments.bench import generate

    monkeypatch.setattr(generate, "PATIENT_BATCH", 10)  # 90,000 patients: 2,000 at a time
    generated_clinic(patients=24, caseload=12)

    assert CarePlan.objects.count() == Patient.objects.count() == 24
    assert not Patient.objects.filter(monitoring_items__isnull=True).exists()
    said = capsys.readouterr().err
    assert "[generate] patients 21-24 of 24:" in said  # each phase says how long it took
