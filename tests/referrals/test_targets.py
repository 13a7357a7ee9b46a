"""Clinic admins set the response targets; clinicians cannot."""

from __future__ import annotations

import pytest
from django.urls import reverse

from patients.models import ReferralTarget


def formset_data(overrides: dict[int, str]) -> dict[str, str]:
    targets = list(ReferralTarget.objects.all())
    data = {
        "form-TOTAL_FORMS": str(len(targets)),
        "form-INITIAL_FORMS": str(len(targets)),
        "form-MIN_NUM_FORMS": "0",
        "form-MAX_NUM_FORMS": "1000",
    }
    for index, target in enumerate(targets):
        data[f"form-{index}-id"] = str(target.pk)
        data[f"form-{index}-working_days"] = overrides.get(target.pk, str(target.working_days))
    return data


def test_a_clinic_admin_changes_a_response_target(signed_in, admin_user):
    urgent_physio = ReferralTarget.objects.get(discipline="physiotherapy", urgency="urgent")
    response = signed_in(admin_user).post(
        reverse("referrals:targets"), formset_data({urgent_physio.pk: "1"})
    )
    urgent_physio.refresh_from_db()
    assert response.status_code == 302
    assert urgent_physio.working_days == 1


def test_a_target_of_zero_days_is_refused_at_its_field(signed_in, admin_user):
    target = ReferralTarget.objects.get(discipline="psychology", urgency="routine")
    response = signed_in(admin_user).post(
        reverse("referrals:targets"), formset_data({target.pk: "0"})
    )
    target.refresh_from_db()
    assert response.status_code == 422
    assert "A response target is 1 to 120 working days." in response.content.decode()
    assert target.working_days == 10


@pytest.mark.parametrize("who", ["neurologist", "nurse", "therapist"])
def test_clinicians_cannot_change_targets(who, cast, signed_in):
    assert signed_in(cast[who]).get(reverse("referrals:targets")).status_code == 403
