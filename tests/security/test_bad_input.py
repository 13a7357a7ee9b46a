"""Hostile or mistaken input is a clear 4xx answer, never a server error (issue #13, finding 7).

One test per input the issue named: a `next` leading off the site, a NUL character, a username
too long for the sign-in log, page numbers that are huge or not ASCII, dates before 1900 (and
before the patient was born), and a referral-targets formset with a form added or its
management data missing.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from clinic.middleware import NUL_MESSAGE
from patients.models import EdssAssessment, ReferralTarget, Relapse
from tests.factories import TEST_PASSWORD
from tests.patients.conftest import scores
from tests.security.world import build_side
from treatments.models import AlertStatus


def patient_url(name: str, patient: Any) -> str:
    return reverse(f"patients:{name}", kwargs={"external_id": patient.external_id})


def relapse_data(**overrides: str) -> dict[str, Any]:
    return {
        "onset_on": "2026-05-01",
        "symptoms": "Numb legs",
        "severity": "moderate",
        "recovery": "unknown",
        "treatment": "none",
        **overrides,
    }


# --- next -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "next_url",
    ["https://evil.example/phish", "//evil.example/phish", "http://[", "javascript:alert(1)"],
)
@pytest.mark.parametrize("action", ["acknowledge", "snooze", "resolve"])
def test_an_alert_action_never_redirects_off_the_site(action, next_url, cast, patient_a, signed_in):
    alert = build_side(patient_a, cast["neurologist"], "a").alert
    client = signed_in(cast["neurologist"])
    client.raise_request_exception = False
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    payload = {
        "acknowledge": {},
        # A snooze the rules accept (a refused one is answered in place, with no redirect).
        "snooze": {"until": tomorrow, "reason": "Waiting for the lab"},
        "resolve": {"note": "Bloods booked"},
    }[action]

    response = client.post(
        reverse(f"alerts:{action}", kwargs={"alert_id": alert.pk}),
        {**payload, "next": next_url},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("alerts:inbox")  # the fallback, not the given URL


def test_an_alert_action_follows_a_next_on_the_site(cast, patient_a, signed_in):
    alert = build_side(patient_a, cast["neurologist"], "a").alert
    response = signed_in(cast["neurologist"]).post(
        reverse("alerts:acknowledge", kwargs={"alert_id": alert.pk}),
        {"next": "/alerts/?scope=team"},
    )
    alert.refresh_from_db()
    assert response["Location"] == "/alerts/?scope=team"
    assert alert.status == AlertStatus.ACKNOWLEDGED


# --- NUL characters -----------------------------------------------------------------------------


def test_a_nul_in_the_patient_search_is_a_400_saying_why(neurologist, signed_in):
    response = signed_in(neurologist).get("/patients/", {"q": "Arch\x00er"})
    assert response.status_code == 400
    assert NUL_MESSAGE in response.content.decode()


def test_a_nul_in_a_posted_field_is_a_400_and_nothing_is_saved(nurse, patient_a, signed_in):
    response = signed_in(nurse).post(
        patient_url("relapse_add", patient_a), relapse_data(symptoms="Numb\x00 legs")
    )
    assert response.status_code == 400
    assert not Relapse.objects.exists()


def test_a_nul_in_the_username_at_sign_in_is_a_400():
    client = Client(raise_request_exception=False)
    response = client.post("/accounts/login/", {"username": "dr\x00reyes", "password": "x"})
    assert response.status_code == 400


def test_a_nul_in_a_cookie_is_a_400():
    client = Client(raise_request_exception=False)
    client.cookies["sessionid"] = "abc\x00def"
    assert client.get("/accounts/login/").status_code == 400


# --- sign-in ------------------------------------------------------------------------------------


def test_a_username_longer_than_the_sign_in_log_holds_is_a_message_on_the_form(neurologist):
    client = Client(raise_request_exception=False)
    response = client.post("/accounts/login/", {"username": "x" * 300, "password": TEST_PASSWORD})
    assert response.status_code == 200
    assert "A username has at most 150 characters." in response.content.decode()


def test_signing_in_still_works(neurologist):
    client = Client()
    response = client.post(
        "/accounts/login/", {"username": neurologist.username, "password": TEST_PASSWORD}
    )
    assert response.status_code == 302


# --- page numbers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "page", ["9" * 30, "9" * 5000, "99999999999999999999", "٣", "²", "-1", "0x1", "1e3", " 2"]
)
@pytest.mark.parametrize("path", ["/alerts/", "/patients/", "/patients/caseload/", "/audit/"])
def test_a_page_number_that_is_huge_or_not_a_plain_number_shows_a_page(
    path, page, cast, patient_a, signed_in
):
    build_side(patient_a, cast["neurologist"], "a")
    who = cast["admin"] if path == "/audit/" else cast["neurologist"]
    response = signed_in(who).get(path, {"page": page})
    assert response.status_code == 200


# --- dates --------------------------------------------------------------------------------------


def test_a_relapse_dated_0001_01_01_is_refused_next_to_its_date(nurse, patient_a, signed_in):
    response = signed_in(nurse).post(
        patient_url("relapse_add", patient_a), relapse_data(onset_on="0001-01-01")
    )
    assert response.status_code == 422
    # The form knows the patient, so the floor is their birth, which says more than "1900".
    assert response.context["form"].errors["onset_on"] == [
        f"This is before the patient's date of birth ({patient_a.date_of_birth:%d %b %Y})."
    ]
    assert not Relapse.objects.exists()


def test_an_edss_dated_0001_01_01_is_refused_next_to_its_date(nurse, patient_a, signed_in):
    response = signed_in(nurse).post(
        patient_url("edss_add", patient_a), {"assessed_on": "0001-01-01", **scores()}
    )
    assert response.status_code == 422
    assert response.context["form"].errors["assessed_on"] == [
        f"This is before the patient's date of birth ({patient_a.date_of_birth:%d %b %Y})."
    ]
    assert not EdssAssessment.objects.exists()


def test_a_clinical_date_before_the_patient_was_born_is_refused(nurse, patient_a, signed_in):
    patient_a.date_of_birth = date(1980, 3, 1)
    patient_a.save(update_fields=["date_of_birth"])
    response = signed_in(nurse).post(
        patient_url("relapse_add", patient_a), relapse_data(onset_on="1979-12-31")
    )
    assert response.status_code == 422
    assert response.context["form"].errors["onset_on"] == [
        "This is before the patient's date of birth (01 Mar 1980)."
    ]


def test_the_date_pickers_say_where_the_dates_start(nurse, patient_a, signed_in):
    patient_a.date_of_birth = date(1980, 3, 1)
    patient_a.save(update_fields=["date_of_birth"])
    page = signed_in(nurse).get(patient_url("relapse_add", patient_a)).content.decode()
    assert 'min="1980-03-01"' in page


def test_the_database_refuses_a_relapse_before_1900_whatever_writes_it(patient_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        Relapse.objects.create(
            patient=patient_a, onset_on=date(1, 1, 1), symptoms="x", severity="mild"
        )


def test_a_new_patient_born_before_1900_is_refused(neurologist, team_a, signed_in):
    response = signed_in(neurologist).post(
        "/patients/new/",
        {
            "mrn": "OLD00001",
            "given_name": "Old",
            "family_name": "Typo",
            "date_of_birth": "0198-04-02",
            "sex": "female",
            "status": "active",
            "care_team": team_a.pk,
            "pregnancy_status": "not_applicable",
            "smoking_status": "unknown",
        },
    )
    assert response.status_code == 422
    assert response.context["form"].errors["date_of_birth"] == ["Enter a date from 1900 onwards."]


# --- the referral-targets formset --------------------------------------------------------------


def targets_post(*, extra: int = 0) -> dict[str, str]:
    targets = list(ReferralTarget.objects.all())
    data = {
        "form-TOTAL_FORMS": str(len(targets) + extra),
        "form-INITIAL_FORMS": str(len(targets)),
        "form-MIN_NUM_FORMS": "0",
        "form-MAX_NUM_FORMS": "1000",
    }
    for index, target in enumerate(targets):
        data[f"form-{index}-id"] = str(target.pk)
        data[f"form-{index}-working_days"] = str(target.working_days)
    for index in range(len(targets), len(targets) + extra):
        data[f"form-{index}-working_days"] = "3"
    return data


def test_an_extra_form_in_the_referral_targets_is_a_message_not_a_new_target(admin_user, signed_in):
    before = ReferralTarget.objects.count()
    response = signed_in(admin_user).post(reverse("referrals:targets"), targets_post(extra=1))
    assert response.status_code == 422
    assert "reload the page" in response.content.decode()
    assert ReferralTarget.objects.count() == before


def test_a_targets_form_whose_forms_lost_their_ids_is_a_message(admin_user, signed_in):
    data = {k: v for k, v in targets_post().items() if not k.endswith("-id")}
    data["form-0-working_days"] = "4"
    response = signed_in(admin_user).post(reverse("referrals:targets"), data)
    assert response.status_code == 422
    assert "reload the page" in response.content.decode()


def test_a_targets_form_without_its_management_data_is_a_message(admin_user, signed_in):
    response = signed_in(admin_user).post(reverse("referrals:targets"), {"form-0-id": "1"})
    assert response.status_code == 422
    assert "ManagementForm data is missing" in response.content.decode()
