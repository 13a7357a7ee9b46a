"""Results: canonical units with the lab's range, closing the item they answer, refusals."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from clinic.accounts.models import User
from patients.models import Patient
from tests.treatments.conftest import TODAY, StartPlan
from treatments import errors
from treatments.models import Flag, ItemStatus, MonitoringItem, Result
from treatments.monitoring import services as monitoring_services

pytestmark = pytest.mark.django_db


@pytest.fixture
def alt_item(us_clinic: object, patient_a: Patient, start_plan: StartPlan) -> MonitoringItem:
    """Teriflunomide's month-3 ALT, due 15 May 2026 (window 8-22 May)."""
    plan = start_plan(patient_a, "teriflunomide", date(2026, 2, 15))
    return plan.items.get(rule_key="alt_monthly_6m", occurrence=3)


def _alt(
    value: str, unit: str = "U/L", low: str = "0", high: str = "40"
) -> monitoring_services.EnteredValue:
    return monitoring_services.EnteredValue(
        "alt", Decimal(value), unit, Decimal(low), Decimal(high)
    )


def test_a_result_in_the_window_closes_its_item_as_done_in_window(
    alt_item: MonitoringItem, nurse: User
) -> None:
    result = monitoring_services.record_result(
        patient=alt_item.patient,
        item=alt_item,
        investigation="alt",
        taken_on=alt_item.due_on,
        values=[_alt("31")],
        by=nurse,
    )

    alt_item.refresh_from_db()
    assert alt_item.status == ItemStatus.DONE_IN_WINDOW
    assert alt_item.result == result
    assert alt_item.completed_on == alt_item.due_on


def test_a_result_after_the_window_closes_its_item_as_done_late(
    alt_item: MonitoringItem, nurse: User
) -> None:
    monitoring_services.record_result(
        patient=alt_item.patient,
        item=alt_item,
        investigation="alt",
        taken_on=alt_item.window_closes_on + timedelta(days=1),
        values=[_alt("31")],
        by=nurse,
    )

    alt_item.refresh_from_db()
    assert alt_item.status == ItemStatus.DONE_LATE


def test_an_outside_lab_result_closes_the_open_item_whose_window_holds_it(
    alt_item: MonitoringItem, nurse: User
) -> None:
    monitoring_services.record_result(
        patient=alt_item.patient,
        investigation="lft",
        taken_on=alt_item.due_on,
        by=nurse,
        values=[_alt("28")],
        lab="GP surgery",
    )

    alt_item.refresh_from_db()
    assert alt_item.status == ItemStatus.DONE_IN_WINDOW


def test_values_are_stored_in_canonical_units_with_the_entered_value_and_the_lab_range(
    patient_a: Patient, nurse: User, today: date
) -> None:
    result = monitoring_services.record_result(
        patient=patient_a,
        investigation="bilirubin",
        taken_on=TODAY,
        by=nurse,
        values=[
            monitoring_services.EnteredValue(
                "bilirubin", Decimal("1.2"), "mg/dL", Decimal("0.1"), Decimal("1.0")
            )
        ],
    )

    [value] = result.values.all()
    assert value.value == Decimal("20.52")
    assert value.unit == "µmol/L"
    assert (value.entered_value, value.entered_unit) == ("1.2", "mg/dL")
    assert value.lln == Decimal("1.71")
    assert value.uln == Decimal("17.1")
    assert value.flag == Flag.HIGH
    assert result.is_abnormal


def test_an_abnormal_alt_is_graded_against_the_labs_uln(
    alt_item: MonitoringItem, nurse: User
) -> None:
    result = monitoring_services.record_result(
        patient=alt_item.patient,
        item=alt_item,
        investigation="alt",
        taken_on=alt_item.due_on,
        values=[_alt("130")],
        by=nurse,
    )

    [value] = result.values.all()
    assert value.times_uln == Decimal("3.250")
    assert value.ctcae_grade == 2
    assert result.is_abnormal
    assert not result.is_reviewed


def test_a_cbc_is_one_result_with_several_analytes(
    patient_a: Patient, nurse: User, today: date
) -> None:
    result = monitoring_services.record_result(
        patient=patient_a,
        investigation="cbc",
        taken_on=TODAY,
        by=nurse,
        values=[
            monitoring_services.EnteredValue(
                "wbc", Decimal("5.1"), "10^9/L", Decimal("4"), Decimal("11")
            ),
            monitoring_services.EnteredValue(
                "lymphocytes", Decimal("650"), "cells/uL", Decimal("1000"), Decimal("4000")
            ),
        ],
    )

    values = {v.analyte: v for v in result.values.all()}
    assert values["lymphocytes"].value == Decimal("0.65")
    assert values["lymphocytes"].flag == Flag.LOW
    assert values["lymphocytes"].ctcae_grade == 2


def test_an_unconvertible_unit_is_refused_listing_the_accepted_units(
    patient_a: Patient, nurse: User, today: date
) -> None:
    with pytest.raises(errors.TreatmentError) as refused:
        monitoring_services.record_result(
            patient=patient_a,
            investigation="alt",
            taken_on=TODAY,
            by=nurse,
            values=[_alt("31", unit="mmol/L")],
        )

    assert refused.value.field == "alt_unit"
    assert "U/L" in refused.value.message
    assert "µkat/L" in refused.value.message
    assert not Result.objects.exists()


def test_an_implausible_value_is_refused(patient_a: Patient, nurse: User, today: date) -> None:
    with pytest.raises(errors.TreatmentError) as refused:
        monitoring_services.record_result(
            patient=patient_a,
            investigation="cbc",
            taken_on=TODAY,
            by=nurse,
            values=[monitoring_services.EnteredValue("lymphocytes", Decimal("1500"), "10^9/L")],
        )
    assert refused.value.field == "lymphocytes_value"


def test_a_result_for_a_waived_item_is_refused(alt_item: MonitoringItem, nurse: User) -> None:
    monitoring_services.waive_item(
        item=alt_item, reason="Patient in hospital, done there", by=nurse
    )

    with pytest.raises(errors.TreatmentError, match="waived"):
        monitoring_services.record_result(
            patient=alt_item.patient,
            item=alt_item,
            investigation="alt",
            taken_on=alt_item.due_on,
            values=[_alt("31")],
            by=nurse,
        )


def test_a_result_dated_in_the_future_is_refused(
    patient_a: Patient, nurse: User, today: date
) -> None:
    with pytest.raises(errors.TreatmentError) as refused:
        monitoring_services.record_result(
            patient=patient_a,
            investigation="alt",
            taken_on=TODAY + timedelta(days=1),
            values=[_alt("31")],
            by=nurse,
        )
    assert refused.value.field == "taken_on"


def test_a_reviewed_result_leaves_the_review_list(
    patient_a: Patient, nurse: User, neurologist: User, today: date
) -> None:
    result = monitoring_services.record_result(
        patient=patient_a, investigation="alt", taken_on=TODAY, values=[_alt("90")], by=nurse
    )

    monitoring_services.review_result(result=result, note="Repeat in 2 weeks", by=neurologist)

    assert not Result.objects.to_review().exists()
    result.refresh_from_db()
    assert result.reviewed_by == neurologist


def test_qualitative_ecg_eye_and_mri_results_are_recorded(
    patient_a: Patient, nurse: User, today: date
) -> None:
    jcv = monitoring_services.record_result(
        patient=patient_a,
        investigation="jcv_antibody",
        taken_on=TODAY,
        qualitative="negative",
        index_value=Decimal("0.12"),
        by=nurse,
    )
    ecg = monitoring_services.record_result(
        patient=patient_a,
        investigation="ecg",
        taken_on=TODAY,
        by=nurse,
        values=[
            monitoring_services.EnteredValue("heart_rate", Decimal("58"), "/min"),
            monitoring_services.EnteredValue("qtc", Decimal("432"), "ms"),
        ],
    )
    eye = monitoring_services.record_result(
        patient=patient_a,
        investigation="eye_exam",
        taken_on=TODAY,
        macular_oedema=True,
        note="Early cystoid change right eye",
        by=nurse,
    )
    mri = monitoring_services.record_result(
        patient=patient_a,
        investigation="mri_brain",
        taken_on=TODAY,
        qualitative="normal",
        mri_study_ref="Acc 12345",
        note="No new lesions",
        by=nurse,
    )

    assert not jcv.is_abnormal
    assert "index 0.12" in jcv.summary()
    assert ecg.values.count() == 2
    assert eye.is_abnormal
    assert "macular oedema" in eye.summary()
    assert not mri.is_abnormal
    assert "Acc 12345" in mri.summary()


# --- the result page ------------------------------------------------------------------------


def test_bad_input_on_the_result_page_is_shown_at_the_field_and_nothing_is_lost(
    alt_item: MonitoringItem, nurse: User, signed_in: Any
) -> None:
    client = signed_in(nurse)
    url = f"/treatments/patients/{alt_item.patient.external_id}/results/new/?item={alt_item.pk}"

    response = client.post(
        url,
        {
            "item": alt_item.pk,
            "taken_on": "2026-05-15",
            "alt_value": "31",
            "alt_unit": "mmol/L",
            "alt_low": "0",
            "alt_high": "40",
            "lab": "City lab",
        },
    )

    assert response.status_code == 422
    body = response.content.decode()
    assert 'id="id_alt_unit_error"' in body
    assert "accepted units" in body
    assert 'value="City lab"' in body
    assert 'value="31' in body
    alt_item.refresh_from_db()
    assert alt_item.status == ItemStatus.SCHEDULED


def test_the_result_page_records_a_result_that_closes_the_item(
    alt_item: MonitoringItem, nurse: User, signed_in: Any
) -> None:
    client = signed_in(nurse)
    url = f"/treatments/patients/{alt_item.patient.external_id}/results/new/?item={alt_item.pk}"
    assert client.get(url).status_code == 200

    response = client.post(
        url,
        {
            "item": alt_item.pk,
            "taken_on": "2026-05-15",
            "alt_value": "31",
            "alt_unit": "U/L",
            "alt_low": "0",
            "alt_high": "40",
        },
    )

    assert response.status_code == 302
    alt_item.refresh_from_db()
    assert alt_item.status == ItemStatus.DONE_IN_WINDOW
