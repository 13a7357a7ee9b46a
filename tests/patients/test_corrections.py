"""Corrections of the clinical picture: amend, or mark entered in error, with a reason; the
original stays; CDP, NEDA-3 and the caseload columns are recomputed at once (issue #15)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from clinic.audit.models import AccessEvent, Action, Category
from clinic.permissions import CapabilityDenied
from patients.models import CourseState, EdssAssessment, MriStudy, Relapse
from patients.records import corrections, services
from tests.patients.conftest import STEP_SCORES, scores


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(date(2026, 6, 15)):
        yield


def in_error(record, by, reason="Entered on the wrong patient's record"):
    return corrections.mark_in_error(record=record, reason=reason, by=by)


@pytest.fixture
def confirmed_progression(patient_a, record_edss):
    """2.0, then 3.0 confirmed 3 months later: CDP confirmed on 1 Jun 2025 (§9.2)."""
    record_edss(patient_a, date(2025, 1, 1), "2.0")
    first = record_edss(patient_a, date(2025, 3, 1), "3.0")
    confirming = record_edss(patient_a, date(2025, 6, 1), "3.0")
    patient_a.refresh_from_db()
    assert patient_a.cdp_confirmed_on == date(2025, 6, 1)
    return first, confirming


# EDSS -------------------------------------------------------------------------------------------


def test_an_edss_entered_in_error_no_longer_counts_and_cdp_is_recomputed(
    patient_a, neurologist, confirmed_progression
):
    _, confirming = confirmed_progression
    in_error(confirming, neurologist)
    patient_a.refresh_from_db()
    # Without the confirming visit the worsening is unconfirmed: no CDP, latest EDSS moves back.
    assert patient_a.cdp_confirmed_on is None
    assert patient_a.latest_edss == Decimal("3.0")
    assert patient_a.latest_edss_on == date(2025, 3, 1)
    history = services.clinical_history(patient_a, fresh=True)
    assert [a.assessed_on for a in history.edss] == [date(2025, 1, 1), date(2025, 3, 1)]


def test_the_original_stays_with_who_when_and_why(patient_a, neurologist, record_edss):
    wrong = record_edss(patient_a, date(2025, 1, 1), "6.0")
    in_error(wrong, neurologist, reason="Belongs to another patient")
    wrong.refresh_from_db()
    assert EdssAssessment.objects.filter(pk=wrong.pk).exists()  # nothing is deleted
    assert wrong.step == Decimal("6.0")  # nor changed
    assert wrong.correction == "entered_in_error"
    assert wrong.corrected_by == neurologist
    assert wrong.corrected_at is not None
    assert wrong.correction_reason == "Belongs to another patient"
    history = services.clinical_history(patient_a, fresh=True)
    assert history.edss == []
    assert history.rows["edss"] == [wrong]  # still shown, struck through


def test_marking_in_error_is_its_own_audit_event_without_the_reason(
    patient_a, neurologist, record_edss
):
    wrong = record_edss(patient_a, date(2025, 1, 1), "6.0")
    in_error(wrong, neurologist, reason="Belongs to Mr Smith")
    event = AccessEvent.objects.filter(patient=patient_a).order_by("-id").first()
    assert (event.action, event.category) == (Action.ENTERED_IN_ERROR, Category.CLINICAL)
    assert (event.object_type, event.object_id) == ("patients.edssassessment", str(wrong.pk))
    assert "Smith" not in event.detail  # the reason is on the record, not in the trail


def test_an_amended_edss_is_a_new_row_pointing_to_the_original(patient_a, neurologist, record_edss):
    original = record_edss(patient_a, date(2025, 1, 1), "2.0")
    amended = corrections.amend_edss(
        assessment=original,
        assessed_on=date(2025, 1, 1),  # the same day: the original no longer counts
        scores=STEP_SCORES["3.0"],
        reason="Pyramidal grade mistyped",
        by=neurologist,
    )
    original.refresh_from_db()
    assert amended.pk != original.pk
    assert amended.amends == original
    assert amended.step == Decimal("3.0")  # computed again from the corrected grades
    assert original.correction == "amended"
    assert original.step == Decimal("2.0")
    patient_a.refresh_from_db()
    assert patient_a.latest_edss == Decimal("3.0")
    event = AccessEvent.objects.filter(patient=patient_a).order_by("-id").first()
    assert (event.action, event.object_id) == (Action.AMEND, str(original.pk))
    assert str(amended.pk) in event.detail


def test_an_amendment_onto_a_day_that_has_an_edss_is_refused_and_changes_nothing(
    patient_a, neurologist, record_edss
):
    record_edss(patient_a, date(2025, 1, 1), "2.0")
    other = record_edss(patient_a, date(2025, 2, 1), "2.5")
    with pytest.raises(ValidationError) as refused:
        corrections.amend_edss(
            assessment=other,
            assessed_on=date(2025, 1, 1),
            scores=STEP_SCORES["2.5"],
            reason="Wrong date",
            by=neurologist,
        )
    assert "already recorded" in refused.value.message_dict["assessed_on"][0]
    other.refresh_from_db()
    assert other.correction == ""  # refused like a new record: the original still stands
    assert EdssAssessment.objects.filter(patient=patient_a).count() == 2


def test_an_amendment_with_invalid_grades_names_every_one(patient_a, neurologist, record_edss):
    original = record_edss(patient_a, date(2025, 1, 1), "2.0")
    with pytest.raises(ValidationError) as refused:
        corrections.amend_edss(
            assessment=original,
            assessed_on=date(2025, 1, 1),
            scores=scores(visual=9, pyramidal=7, ambulation=20),
            reason="Grades",
            by=neurologist,
        )
    assert set(refused.value.message_dict) == {"visual", "pyramidal", "ambulation"}
    original.refresh_from_db()
    assert original.correction == ""


def test_an_amendment_can_itself_be_amended_and_only_the_last_stands(
    patient_a, neurologist, record_edss
):
    first = record_edss(patient_a, date(2025, 1, 1), "2.0")
    second = corrections.amend_edss(
        assessment=first,
        assessed_on=date(2025, 1, 1),
        scores=STEP_SCORES["2.5"],
        reason="One grade wrong",
        by=neurologist,
    )
    third = corrections.amend_edss(
        assessment=second,
        assessed_on=date(2025, 1, 2),
        scores=STEP_SCORES["2.5"],
        reason="And the date",
        by=neurologist,
    )
    history = services.clinical_history(patient_a, fresh=True)
    assert history.edss == [third]
    assert [r.pk for r in history.rows["edss"]] == [first.pk, second.pk, third.pk]
    assert third.amends == second
    assert second.amends == first


def test_a_record_is_corrected_once(patient_a, neurologist, record_edss):
    wrong = record_edss(patient_a, date(2025, 1, 1), "2.0")
    in_error(wrong, neurologist)
    with pytest.raises(ValidationError, match="already entered in error"):
        in_error(wrong, neurologist)
    with pytest.raises(ValidationError, match="already entered in error"):
        corrections.amend_edss(
            assessment=wrong,
            assessed_on=date(2025, 1, 1),
            scores=STEP_SCORES["2.0"],
            reason="Too late",
            by=neurologist,
        )


@pytest.mark.parametrize(("reason", "message"), [("  ", "Give the reason"), ("x" * 501, "500")])
def test_a_correction_needs_a_reason_of_sensible_length(
    patient_a, neurologist, record_edss, reason, message
):
    wrong = record_edss(patient_a, date(2025, 1, 1), "2.0")
    with pytest.raises(ValidationError) as refused:
        in_error(wrong, neurologist, reason=reason)
    assert message in refused.value.message_dict["reason"][0]
    wrong.refresh_from_db()
    assert wrong.correction == ""


def test_the_database_refuses_a_correction_without_a_reason(patient_a, record_edss):
    wrong = record_edss(patient_a, date(2025, 1, 1), "2.0")
    with pytest.raises(IntegrityError), transaction.atomic():
        EdssAssessment.objects.filter(pk=wrong.pk).update(
            correction="entered_in_error", corrected_at=timezone.now()
        )


def test_the_database_refuses_a_standing_row_with_correction_details(patient_a, record_edss):
    wrong = record_edss(patient_a, date(2025, 1, 1), "2.0")
    with pytest.raises(IntegrityError), transaction.atomic():
        EdssAssessment.objects.filter(pk=wrong.pk).update(correction_reason="half a correction")


# Who may ----------------------------------------------------------------------------------------


def test_the_author_may_correct_their_own_record(patient_a, nurse):
    mine = services.record_edss(
        patient=patient_a, assessed_on=date(2025, 1, 1), scores=STEP_SCORES["2.0"], by=nurse
    )
    in_error(mine, nurse)
    mine.refresh_from_db()
    assert mine.is_entered_in_error


def test_a_nurse_may_not_correct_a_neurologists_record(patient_a, nurse, record_edss):
    theirs = record_edss(patient_a, date(2025, 1, 1), "2.0")  # recorded by the neurologist
    with pytest.raises(CapabilityDenied, match="the person who recorded it"):
        in_error(theirs, nurse)
    theirs.refresh_from_db()
    assert theirs.is_standing


def test_a_neurologist_may_correct_a_nurses_record(patient_a, nurse, neurologist):
    nurses = services.record_edss(
        patient=patient_a, assessed_on=date(2025, 1, 1), scores=STEP_SCORES["2.0"], by=nurse
    )
    in_error(nurses, neurologist)
    nurses.refresh_from_db()
    assert nurses.corrected_by == neurologist


def test_a_therapist_may_not_correct_a_clinical_record(patient_a, therapist, record_edss):
    with pytest.raises(CapabilityDenied):
        in_error(record_edss(patient_a, date(2025, 1, 1), "2.0"), therapist)


# Relapses ---------------------------------------------------------------------------------------


def test_a_relapse_with_the_same_onset_is_refused_at_the_field(patient_a, record_relapse):
    record_relapse(patient_a, date(2025, 9, 1))
    with pytest.raises(ValidationError) as refused:
        record_relapse(patient_a, date(2025, 9, 1))
    assert "already recorded" in refused.value.message_dict["onset_on"][0]
    assert Relapse.objects.filter(patient=patient_a).count() == 1


def test_the_database_refuses_two_standing_relapses_with_one_onset(patient_a):
    fields = {"patient": patient_a, "onset_on": date(2025, 9, 1), "symptoms": "x"}
    Relapse.objects.create(**fields, severity="mild")
    with pytest.raises(IntegrityError), transaction.atomic():
        Relapse.objects.create(**fields, severity="mild")


def test_the_same_onset_may_be_recorded_again_once_the_first_is_entered_in_error(
    patient_a, neurologist, record_relapse
):
    first = record_relapse(patient_a, date(2025, 9, 1))
    in_error(first, neurologist)
    again = record_relapse(patient_a, date(2025, 9, 1))
    assert again.pk != first.pk


def test_a_relapse_entered_in_error_gives_neda_back(
    patient_a, neurologist, record_edss, record_mri, record_relapse
):
    record_edss(patient_a, date(2025, 2, 1), "2.0")
    record_mri(patient_a, date(2025, 3, 1), t2=0, gad=0)
    duplicate = record_relapse(patient_a, date(2025, 9, 1))
    patient_a.refresh_from_db()
    assert patient_a.neda_achieved is False
    in_error(duplicate, neurologist)
    patient_a.refresh_from_db()
    assert patient_a.neda_achieved is True
    assert patient_a.last_relapse_onset_on is None


def test_an_amended_relapse_onset_moves_the_last_relapse(patient_a, neurologist, record_relapse):
    relapse = record_relapse(patient_a, date(2025, 9, 1))
    recorded = corrections.amend_relapse(
        relapse=relapse,
        onset_on=date(2025, 8, 20),
        end_on=None,
        symptoms="Left leg numbness",
        functional_systems=["sensory"],
        severity="moderate",
        objectively_confirmed=True,
        infection_excluded=True,
        recovery="partial",
        treatment="iv_mp",
        reason="Onset was the week before",
        by=neurologist,
    )
    patient_a.refresh_from_db()
    assert patient_a.last_relapse_onset_on == date(2025, 8, 20)
    assert recorded.relapse.amends == relapse


def test_a_relapse_cannot_be_amended_onto_another_relapses_onset(
    patient_a, neurologist, record_relapse
):
    record_relapse(patient_a, date(2025, 3, 1))
    later = record_relapse(patient_a, date(2025, 9, 1))
    with pytest.raises(ValidationError) as refused:
        corrections.amend_relapse(
            relapse=later,
            onset_on=date(2025, 3, 1),
            end_on=None,
            symptoms="x",
            functional_systems=[],
            severity="mild",
            objectively_confirmed=False,
            infection_excluded=True,
            recovery="unknown",
            treatment="none",
            reason="Wrong",
            by=neurologist,
        )
    assert "onset_on" in refused.value.message_dict


# MRI --------------------------------------------------------------------------------------------


def test_an_mri_amended_to_no_new_lesions_gives_neda_back(
    patient_a, neurologist, record_edss, record_mri
):
    record_edss(patient_a, date(2025, 2, 1), "2.0")
    record_mri(patient_a, date(2025, 1, 15), t2=0, gad=0, baseline=True)
    study = record_mri(patient_a, date(2025, 6, 1), t2=2, gad=0)
    patient_a.refresh_from_db()
    assert patient_a.neda_achieved is False
    corrections.amend_mri(
        study=study,
        study_on=date(2025, 6, 1),
        field_strength="3t",
        contrast_given=True,
        new_or_enlarging_t2=0,
        gad_enhancing=0,
        is_baseline=False,
        report="Stable: two old lesions were counted as new.",
        reason="Lesions misread",
        by=neurologist,
    )
    patient_a.refresh_from_db()
    assert patient_a.neda_achieved is True
    assert MriStudy.objects.standing().filter(patient=patient_a).count() == 2


def test_an_mri_amendment_with_gadolinium_but_no_contrast_is_refused(
    patient_a, neurologist, record_mri
):
    study = record_mri(patient_a, date(2025, 6, 1), t2=2, gad=0)
    with pytest.raises(ValidationError) as refused:
        corrections.amend_mri(
            study=study,
            study_on=date(2025, 6, 1),
            field_strength="3t",
            contrast_given=False,
            new_or_enlarging_t2=0,
            gad_enhancing=1,
            is_baseline=False,
            report="",
            reason="x",
            by=neurologist,
        )
    assert "gad_enhancing" in refused.value.message_dict


# Disease course ---------------------------------------------------------------------------------


def test_a_current_course_entered_in_error_makes_the_one_it_closed_current_again(
    patient_a, neurologist
):
    rrms = services.add_course_state(
        patient=patient_a, course="rrms", start_on=date(2018, 1, 1), by=neurologist
    )
    spms = services.add_course_state(
        patient=patient_a, course="spms", start_on=date(2025, 1, 1), by=neurologist
    )
    rrms.refresh_from_db()
    assert rrms.end_on == date(2024, 12, 31)
    in_error(spms, neurologist, reason="Progression not confirmed; RRMS stands")
    rrms.refresh_from_db()
    patient_a.refresh_from_db()
    assert rrms.end_on is None
    assert patient_a.current_course == "rrms"


def test_an_amended_course_must_fit_between_the_standing_ones(patient_a, neurologist):
    services.add_course_state(
        patient=patient_a, course="rrms", start_on=date(2018, 1, 1), by=neurologist
    )
    spms = services.add_course_state(
        patient=patient_a, course="spms", start_on=date(2025, 1, 1), by=neurologist
    )
    with pytest.raises(ValidationError) as refused:
        corrections.amend_course_state(
            state=spms,
            course="spms",
            start_on=date(2024, 6, 1),  # into the RRMS period
            end_on=None,
            note="",
            reason="Earlier onset",
            by=neurologist,
        )
    assert "overlap" in refused.value.message_dict["start_on"][0]
    amended = corrections.amend_course_state(
        state=spms,
        course="ppms",
        start_on=date(2025, 1, 1),
        end_on=None,
        note="Primary progressive after all",
        reason="Course misclassified",
        by=neurologist,
    )
    patient_a.refresh_from_db()
    assert patient_a.current_course == "ppms"
    assert CourseState.objects.standing().filter(patient=patient_a, end_on=None).get() == amended


def test_the_edss_form_reports_every_invalid_grade_at_once():
    from patients.records.forms import EdssForm

    data = {"assessed_on": "2025-01-01", **scores(visual=9, cerebellar=8), "ambulation": 0}
    form = EdssForm(data)
    assert not form.is_valid()
    assert {"visual", "cerebellar"} <= set(form.errors)
    assert form.result is None


def test_an_mri_entered_in_error_no_longer_counts(patient_a, neurologist, record_edss, record_mri):
    record_edss(patient_a, date(2025, 2, 1), "2.0")
    record_mri(patient_a, date(2025, 1, 15), t2=0, gad=0, baseline=True)
    record_mri(patient_a, date(2025, 3, 1), t2=0, gad=0)
    wrong = record_mri(patient_a, date(2025, 6, 1), t2=3, gad=1)
    patient_a.refresh_from_db()
    assert patient_a.neda_achieved is False
    in_error(wrong, neurologist, reason="Another patient's scan")
    patient_a.refresh_from_db()
    assert patient_a.neda_achieved is True
    assert [m.study_on for m in services.clinical_history(patient_a, fresh=True).mri] == [
        date(2025, 1, 15),
        date(2025, 3, 1),
    ]
