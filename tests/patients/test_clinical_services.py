"""The clinical picture's workflows and the database rules behind them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from clinic.audit.models import AccessEvent, Action, Category
from patients.models import CourseState, EdssAssessment, MriStudy, Relapse
from patients.records import services
from tests.patients.conftest import scores


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(date(2026, 6, 15)):
        yield


def add_course(patient, by, course, start_on, end_on=None):
    return services.add_course_state(
        patient=patient, course=course, start_on=start_on, end_on=end_on, by=by
    )


# Disease course -------------------------------------------------------------------------------


def test_database_allows_only_one_open_course_state(patient_a):
    CourseState.objects.create(patient=patient_a, course="rrms", start_on=date(2020, 1, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        CourseState.objects.create(patient=patient_a, course="spms", start_on=date(2024, 1, 1))


def test_database_refuses_a_course_state_ending_before_it_starts(patient_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        CourseState.objects.create(
            patient=patient_a, course="cis", start_on=date(2020, 1, 1), end_on=date(2019, 1, 1)
        )


def test_a_new_course_closes_the_current_one_the_day_before(patient_a, neurologist):
    rrms = add_course(patient_a, neurologist, "rrms", date(2018, 3, 1))
    add_course(patient_a, neurologist, "spms", date(2025, 9, 1))
    rrms.refresh_from_db()
    assert rrms.end_on == date(2025, 8, 31)
    patient_a.refresh_from_db()
    assert patient_a.current_course == "spms"


def test_a_new_current_course_cannot_start_before_the_current_one(patient_a, neurologist):
    add_course(patient_a, neurologist, "rrms", date(2018, 3, 1))
    with pytest.raises(ValidationError) as error:
        add_course(patient_a, neurologist, "cis", date(2017, 1, 1))
    assert "start_on" in error.value.error_dict


def test_a_past_course_may_not_overlap_another(patient_a, neurologist):
    add_course(patient_a, neurologist, "rrms", date(2018, 3, 1))
    with pytest.raises(ValidationError) as error:
        add_course(patient_a, neurologist, "cis", date(2017, 1, 1), date(2018, 6, 1))
    assert "overlap" in str(error.value.error_dict["end_on"])
    # Ending the day before the current course started fits.
    add_course(patient_a, neurologist, "cis", date(2017, 1, 1), date(2018, 2, 28))
    assert CourseState.objects.filter(patient=patient_a).count() == 2


def test_a_course_cannot_start_in_the_future(patient_a, neurologist):
    with pytest.raises(ValidationError):
        add_course(patient_a, neurologist, "rrms", date(2026, 6, 16))


# EDSS -----------------------------------------------------------------------------------------


def test_recording_an_edss_computes_and_stores_the_step_and_rule(patient_a, neurologist):
    assessment = services.record_edss(
        patient=patient_a,
        assessed_on=date(2026, 6, 1),
        scores=scores(pyramidal=3, sensory=2),
        by=neurologist,
    )
    assessment.refresh_from_db()
    assert assessment.step == Decimal("3.5")
    assert assessment.fs_step == Decimal("3.5")
    assert assessment.ambulation_step is None
    assert "one FS at grade 3 plus one at grade 2" in assessment.rule
    assert assessment.assessed_by == neurologist


def test_an_edss_keeps_its_inconsistencies_for_the_clinician(patient_a, neurologist):
    # Walking under 100 m with FS grades that give only 1.0 does not add up (§7.4).
    assessment = services.record_edss(
        patient=patient_a,
        assessed_on=date(2026, 6, 1),
        scores=scores(sensory=1, ambulation=5),
        by=neurologist,
    )
    assert assessment.step == Decimal("6.0")
    assert assessment.inconsistencies
    assert "check the FS grades" in assessment.inconsistencies[0]


def test_an_edss_cannot_be_dated_in_the_future(patient_a, neurologist):
    with pytest.raises(ValidationError) as error:
        services.record_edss(
            patient=patient_a, assessed_on=date(2026, 6, 16), scores=scores(), by=neurologist
        )
    assert "assessed_on" in error.value.error_dict


def test_an_out_of_range_fs_score_is_named_by_its_field(patient_a, neurologist):
    with pytest.raises(ValidationError) as error:
        services.record_edss(
            patient=patient_a,
            assessed_on=date(2026, 6, 1),
            scores=scores(cerebral=6),
            by=neurologist,
        )
    assert list(error.value.error_dict) == ["cerebral"]
    assert not EdssAssessment.objects.exists()


def test_database_refuses_an_fs_grade_out_of_range(patient_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        EdssAssessment.objects.create(
            patient=patient_a,
            assessed_on=date(2026, 1, 1),
            **scores(brainstem=6),
            step=Decimal("5.0"),
            fs_step=Decimal("5.0"),
            rule="x",
        )


def test_recording_writes_an_audit_entry(patient_a, neurologist):
    assessment = services.record_edss(
        patient=patient_a, assessed_on=date(2026, 6, 1), scores=scores(), by=neurologist
    )
    event = AccessEvent.objects.filter(patient=patient_a).first()
    assert (event.action, event.category, event.object_id) == (
        Action.CREATE,
        Category.CLINICAL,
        str(assessment.pk),
    )


# Relapses and MRI -----------------------------------------------------------------------------


def test_a_relapse_cannot_end_before_its_onset(patient_a, neurologist, record_relapse):
    with pytest.raises(ValidationError) as error:
        record_relapse(patient_a, date(2026, 5, 1), date(2026, 4, 1))
    assert "end_on" in error.value.error_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        Relapse.objects.create(
            patient=patient_a,
            onset_on=date(2026, 5, 1),
            end_on=date(2026, 4, 1),
            symptoms="x",
            severity="mild",
        )


def test_a_relapse_within_30_days_of_another_is_saved_with_a_warning(
    patient_a, neurologist, record_relapse
):
    record_relapse(patient_a, date(2026, 5, 1))
    recorded = services.record_relapse(
        patient=patient_a,
        onset_on=date(2026, 5, 20),
        end_on=None,
        symptoms="Worse numbness",
        functional_systems=["sensory"],
        severity="mild",
        objectively_confirmed=False,
        infection_excluded=True,
        recovery="unknown",
        treatment="none",
        by=neurologist,
    )
    assert Relapse.objects.filter(patient=patient_a).count() == 2
    assert any("may be part of the same event" in w for w in recorded.warnings)


def test_a_relapse_31_days_later_brings_no_warning(patient_a, neurologist, record_relapse):
    record_relapse(patient_a, date(2026, 4, 1))
    recorded = services.record_relapse(
        patient=patient_a,
        onset_on=date(2026, 5, 2),
        end_on=None,
        symptoms="New weakness",
        functional_systems=["pyramidal"],
        severity="moderate",
        objectively_confirmed=True,
        infection_excluded=True,
        recovery="unknown",
        treatment="iv_mp",
        by=neurologist,
    )
    assert recorded.warnings == ()


def test_enhancing_lesions_need_contrast(patient_a, neurologist):
    with pytest.raises(ValidationError) as error:
        services.record_mri(
            patient=patient_a,
            study_on=date(2026, 6, 1),
            field_strength="3t",
            contrast_given=False,
            new_or_enlarging_t2=0,
            gad_enhancing=2,
            is_baseline=False,
            report="",
            by=neurologist,
        )
    assert "gad_enhancing" in error.value.error_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        MriStudy.objects.create(
            patient=patient_a, study_on=date(2026, 6, 1), contrast_given=False, gad_enhancing=1
        )


# Derived status -------------------------------------------------------------------------------


def test_status_follows_each_new_edss(patient_a, record_edss):
    record_edss(patient_a, date(2024, 1, 10), "2.0")
    patient_a.refresh_from_db()
    assert (patient_a.latest_edss, patient_a.edss_trend) == (Decimal("2.0"), "")
    record_edss(patient_a, date(2025, 1, 10), "3.0")
    patient_a.refresh_from_db()
    assert patient_a.previous_edss == Decimal("2.0")
    assert patient_a.latest_edss_on == date(2025, 1, 10)
    assert patient_a.edss_trend == "up"
    assert patient_a.cdp_confirmed_on is None  # not yet confirmed 12 weeks later
    record_edss(patient_a, date(2025, 6, 1), "3.0")
    patient_a.refresh_from_db()
    assert patient_a.cdp_confirmed_on == date(2025, 6, 1)
    assert patient_a.edss_trend == "stable"


def test_status_follows_relapses_and_mri(patient_a, record_edss, record_relapse, record_mri):
    record_edss(patient_a, date(2025, 2, 1), "2.0")
    record_mri(patient_a, date(2025, 3, 1), t2=0, gad=0)
    patient_a.refresh_from_db()
    assert (patient_a.neda_year, patient_a.neda_achieved) == (2025, True)
    record_relapse(patient_a, date(2025, 9, 1))
    patient_a.refresh_from_db()
    assert patient_a.last_relapse_onset_on == date(2025, 9, 1)
    assert patient_a.neda_achieved is False


def test_the_yearly_refresh_moves_neda_to_the_new_year(patient_a, record_edss, record_mri):
    record_edss(patient_a, date(2025, 2, 1), "2.0")
    record_mri(patient_a, date(2025, 3, 1), t2=0, gad=0)
    assert services.refresh_all_clinical_status(today=date(2027, 1, 2)) == 1
    patient_a.refresh_from_db()
    # 2026 has no MRI and no EDSS: not evaluable, rather than last year's "achieved".
    assert (patient_a.neda_year, patient_a.neda_achieved) == (2026, None)
    assert services.refresh_all_clinical_status(today=date(2027, 1, 2)) == 0


def test_the_refresh_task_recomputes_status(patient_a, record_edss):
    from patients.records.tasks import refresh_clinical_status

    record_edss(patient_a, date(2025, 2, 1), "2.0")
    type(patient_a).objects.filter(pk=patient_a.pk).update(latest_edss=None)
    assert refresh_clinical_status.delay().get() == 1
    patient_a.refresh_from_db()
    assert patient_a.latest_edss == Decimal("2.0")


def test_the_status_refresh_keeps_the_latest_pira_apart_from_raw(
    patient_a, record_edss, record_relapse
):
    record_edss(patient_a, date(2023, 1, 10), "2.0")
    record_edss(patient_a, date(2023, 9, 1), "3.0")  # PIRA: no relapse anywhere near
    record_edss(patient_a, date(2024, 1, 5), "3.0")
    record_relapse(patient_a, date(2024, 6, 1))
    record_edss(patient_a, date(2024, 8, 1), "4.0")  # RAW: 61 days after the relapse's onset
    record_edss(patient_a, date(2024, 12, 1), "4.0")
    patient_a.refresh_from_db()
    assert patient_a.cdp_confirmed_on == date(2024, 12, 1)
    assert patient_a.pira_confirmed_on == date(2024, 1, 5)
