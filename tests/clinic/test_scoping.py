"""Who sees which patient: one scoping method, tested for every role."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from clinic.accounts.models import User
from patients.models import EmergencyAccess, Patient


def visible(user: User) -> set[str]:
    return set(Patient.objects.visible_to(user).values_list("mrn", flat=True))


@pytest.mark.parametrize("role", ["neurologist", "nurse", "therapist"])
def test_team_a_clinicians_see_team_a_patients_only(role, cast, patient_a, patient_b):
    assert visible(cast[role]) == {"AAA00001"}


def test_team_b_neurologist_never_sees_team_a_patient(cast, patient_a, patient_b):
    assert visible(cast["other_neurologist"]) == {"BBB00001"}


def test_clinic_admin_sees_no_patients(cast, patient_a, patient_b):
    # Admins manage users and protocols; patient data is for the care team.
    assert visible(cast["admin"]) == set()


def test_deactivated_clinician_sees_nothing(cast, patient_a):
    neurologist = cast["neurologist"]
    neurologist.is_active = False
    neurologist.save()
    assert visible(neurologist) == set()


def test_anonymous_user_sees_nothing(patient_a):
    from django.contrib.auth.models import AnonymousUser

    assert not Patient.objects.visible_to(AnonymousUser()).exists()  # type: ignore[arg-type]


def test_clinician_on_two_teams_sees_both(cast, team_b, patient_a, patient_b):
    nurse = cast["nurse"]
    nurse.care_teams.add(team_b)
    assert visible(nurse) == {"AAA00001", "BBB00001"}


def test_emergency_access_grant_opens_one_patient_until_it_expires(cast, patient_a, patient_b):
    outsider = cast["other_neurologist"]
    outsider.can_break_glass = True
    outsider.save(update_fields=["can_break_glass"])
    grant = EmergencyAccess.objects.create(
        user=outsider,
        patient=patient_a,
        reason="Seen in A&E",
        expires_at=timezone.now() + timedelta(hours=1),
    )
    assert visible(outsider) == {"AAA00001", "BBB00001"}
    EmergencyAccess.objects.filter(pk=grant.pk).update(
        granted_at=timezone.now() - timedelta(hours=5),
        expires_at=timezone.now() - timedelta(minutes=1),
    )
    assert visible(outsider) == {"BBB00001"}


def test_visible_to_does_not_duplicate_rows(cast, team_b, patient_a):
    nurse = cast["nurse"]
    nurse.care_teams.add(team_b)
    nurse.can_break_glass = True
    nurse.save(update_fields=["can_break_glass"])
    EmergencyAccess.objects.create(
        user=nurse,
        patient=patient_a,
        reason="cover",
        expires_at=timezone.now() + timedelta(hours=1),
    )
    assert Patient.objects.visible_to(nurse).count() == 1
