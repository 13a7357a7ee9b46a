"""Correcting what was written on a referral: a step's note, and the text the referral shows
when that note is its reason or its summary."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from clinic.permissions import CapabilityDenied
from patients.models import ReferralEvent
from patients.referrals import corrections


def step(referral, action):
    return ReferralEvent.objects.standing().get(referral=referral, action=action)


def test_amending_the_summary_changes_what_the_referrer_reads(make_referral, therapist):
    referral = make_referral("completed")
    original = step(referral, "complete")
    amended = corrections.amend_note(
        event=original,
        note="Six sessions of balance work; Berg 41 to 49. Home programme.",
        reason="Final Berg score mistyped",
        by=therapist,
    )
    referral.refresh_from_db()
    assert referral.summary.endswith("Berg 41 to 49. Home programme.")
    assert (amended.at, amended.by, amended.action) == (original.at, therapist, "complete")
    original.refresh_from_db()
    assert original.is_amended


def test_the_summary_cannot_be_emptied_or_entered_in_error(make_referral, therapist):
    referral = make_referral("completed")
    with pytest.raises(ValidationError):
        corrections.amend_note(event=step(referral, "complete"), note=" ", reason="x", by=therapist)
    with pytest.raises(ValidationError, match="amend it instead"):
        corrections.mark_note_in_error(record=step(referral, "complete"), reason="x", by=therapist)


def test_amending_the_reason_it_was_sent_with(make_referral, neurologist):
    referral = make_referral("sent")
    corrections.amend_note(
        event=step(referral, "send"),
        note="Three falls this month; please assess balance.",
        reason="Number of falls",
        by=neurologist,
    )
    referral.refresh_from_db()
    assert referral.reason.startswith("Three falls")


def test_a_triage_note_may_be_entered_in_error_and_the_step_stands(
    make_referral, therapist, signed_in
):
    referral = make_referral("sent")
    from patients.referrals import services

    services.triage_referral(referral=referral, by=therapist, note="Seen by the wrong person")
    note = step(referral, "triage")
    corrections.mark_note_in_error(record=note, reason="Note about another patient", by=therapist)
    referral.refresh_from_db()
    assert referral.state == "triaged"
    body = signed_in(therapist).get(referral.get_absolute_url()).content.decode()
    assert "Note about another patient" in body
    assert '<li class="corrected">' in body


def test_the_referrer_may_not_correct_the_receivers_note(make_referral, nurse):
    referral = make_referral("completed")
    with pytest.raises(CapabilityDenied):
        corrections.amend_note(event=step(referral, "complete"), note="x", reason="x", by=nurse)


def test_a_neurologist_amends_a_summary_through_the_page(
    make_referral, neurologist, patient_a, signed_in
):
    referral = make_referral("completed")
    event = step(referral, "complete")
    url = reverse(
        "corrections:amend",
        kwargs={
            "external_id": patient_a.external_id,
            "kind": "referral-note",
            "record_id": event.pk,
        },
    )
    client = signed_in(neurologist)
    page = client.get(url)
    assert "Six sessions of balance work" in page.content.decode()
    response = client.post(url, {"note": "Corrected summary", "correction-reason": "Typo"})
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.summary == "Corrected summary"
