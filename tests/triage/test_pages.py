"""The triage pages: bad input is answered at its field, the suggestion can be previewed before
the call is logged, and open calls with their clocks are on the nurse's worklist."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from tests.treatments.conftest import TODAY
from treatments.models import TriageCall
from treatments.triage import services as triage
from treatments.triage.services import CallReport

pytestmark = pytest.mark.django_db

FORM = {
    "called_on": "2026-06-15",
    "called_time": "11:30",
    "onset_on": "2026-06-13",
    "duration_hours": "48",
    "symptoms": "Double vision",
    "systems": ["brainstem"],
    "dipstick": "negative",
    "functional_impact": "mild",
}


def test_the_suggestion_is_shown_before_anything_is_saved(today, patient_a, nurse, signed_in):
    client = signed_in(nurse)
    url = reverse("treatments:triage_new", args=[patient_a.external_id])

    response = client.post(url, {**FORM, "preview": "1"})

    assert response.status_code == 200
    assert "Suggestion: Possible relapse: urgent review" in response.content.decode()
    assert not TriageCall.objects.exists()


def test_logging_a_call_opens_it_with_its_clock(today, patient_a, nurse, signed_in):
    client = signed_in(nurse)

    response = client.post(reverse("treatments:triage_new", args=[patient_a.external_id]), FORM)

    call = TriageCall.objects.get()
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Review due by 17 Jun 2026 11:30" in page
    # Called at 11:30 in London (10:30 UTC); it is noon UTC: 1 h 30 min of the 48 h are gone.
    assert "46 h 30 min left" in page
    assert call.taken_by == nurse


def test_an_impossible_duration_is_refused_at_its_field(today, patient_a, nurse, signed_in):
    client = signed_in(nurse)

    response = client.post(
        reverse("treatments:triage_new", args=[patient_a.external_id]),
        {**FORM, "duration_hours": "90"},
    )

    assert response.status_code == 422
    form = response.context["form"]
    assert "cannot have lasted 90 hours" in form.errors["duration_hours"][0]
    assert not TriageCall.objects.exists()


def test_a_missing_field_is_named(today, patient_a, nurse, signed_in):
    client = signed_in(nurse)
    data = {k: v for k, v in FORM.items() if k != "onset_on"}

    response = client.post(reverse("treatments:triage_new", args=[patient_a.external_id]), data)

    assert response.status_code == 422
    assert "onset_on" in response.context["form"].errors


def test_open_calls_are_on_the_worklist_with_their_clocks(today, patient_a, nurse, signed_in):
    call = triage.log_call(
        patient=patient_a,
        report=CallReport(onset_on=TODAY - timedelta(days=2), duration_hours=40, symptoms="Weak"),
        called_at=today_noon(),
        by=nurse,
    )
    client = signed_in(nurse)

    page = client.get(reverse("treatments:worklist") + "?tab=triage").content.decode()

    assert f'id="call-{call.pk}"' in page
    assert "48 h 0 min left" in page


def test_a_closed_call_leaves_the_worklist(today, patient_a, nurse, signed_in):
    call = triage.log_call(
        patient=patient_a,
        report=CallReport(onset_on=TODAY, duration_hours=2, symptoms="Tingling"),
        called_at=today_noon(),
        by=nurse,
    )
    client = signed_in(nurse)

    response = client.post(
        reverse("treatments:triage_act", args=[call.pk, "close"]), {"note": "Advice given"}
    )

    assert response.status_code == 302
    page = client.get(reverse("treatments:worklist") + "?tab=triage").content.decode()
    assert f'id="call-{call.pk}"' not in page


def test_closing_without_a_note_says_so_at_the_field(today, patient_a, nurse, signed_in):
    call = triage.log_call(
        patient=patient_a,
        report=CallReport(onset_on=TODAY, duration_hours=2, symptoms="Tingling"),
        called_at=today_noon(),
        by=nurse,
    )

    response = signed_in(nurse).post(
        reverse("treatments:triage_act", args=[call.pk, "close"]), {"note": ""}
    )

    assert response.status_code == 422
    assert "note" in response.context["close_form"].errors


def today_noon():
    from datetime import UTC, datetime

    return datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def test_the_clinic_admin_sets_the_review_target_and_a_nonsense_one_is_refused_at_the_field(
    admin_user, signed_in
):
    from treatments.models import ClinicSettings

    admin = signed_in(admin_user)
    form = {"label_region": "EU", "review_interval_months": 6}

    bad = admin.post("/treatments/settings/", {**form, "relapse_review_hours": 0})
    good = admin.post("/treatments/settings/", {**form, "relapse_review_hours": 24})

    assert bad.status_code == 422
    assert "relapse_review_hours" in bad.context["form"].errors
    assert good.status_code == 302
    assert ClinicSettings.load().relapse_review_hours == 24
