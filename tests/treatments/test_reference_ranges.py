"""Clinic default reference ranges: a result without the lab's own range is flagged and graded
against the default for the patient's sex and age, the page says which range was used, and the
clinic admin changes a default by adding a version (never by editing one)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db import DatabaseError, transaction

from clinic.accounts.models import User
from clinic.audit.models import AccessEvent
from patients.models import Patient
from tests.treatments.conftest import TODAY, StartPlan
from treatments import labs
from treatments.catalogue import services as catalogue_services
from treatments.errors import TreatmentError
from treatments.models import (
    Alert,
    Flag,
    RangeSource,
    ReferenceRange,
    Result,
    ResultValue,
)
from treatments.monitoring import services as monitoring_services
from treatments.monitoring.services import EnteredValue
from treatments.safety import evaluation

pytestmark = pytest.mark.django_db

URL = "/treatments/settings/reference-ranges/"


def _record(
    patient: Patient, by: User, *values: EnteredValue, taken_on: date = TODAY
) -> list[ResultValue]:
    result = monitoring_services.record_result(
        patient=patient, investigation="lft", taken_on=taken_on, values=values, by=by
    )
    return list(result.values.select_related("reference_range"))


def _alt(value: str, low: str | None = None, high: str | None = None) -> EnteredValue:
    return EnteredValue(
        "alt",
        Decimal(value),
        "U/L",
        Decimal(low) if low is not None else None,
        Decimal(high) if high is not None else None,
    )


# --- grading against the default -------------------------------------------------------------


def test_every_analyte_has_a_default_with_a_source_in_its_canonical_unit(db: None) -> None:
    rows = list(ReferenceRange.objects.all())
    assert {r.analyte for r in rows} == set(labs.ANALYTES)
    for row in rows:
        assert row.source.strip(), row
        assert row.unit == labs.get_analyte(row.analyte).canonical_unit, row
        for limit in (row.low, row.high):
            if limit is not None:
                labs.check_plausible(row.analyte, limit)
    # Where a range is a typical interval rather than a harmonised one, it says so.
    assert all("verify" in r.source.lower() for r in rows if r.source.startswith("CK"))


def test_a_value_without_the_labs_range_is_graded_against_the_clinic_default(
    patient_a: Patient, nurse: User, today: date
) -> None:
    [alt] = _record(patient_a, nurse, _alt("100"))

    # Alice is a woman: the default ALT range for women is ≤ 35 U/L.
    assert (alt.lln, alt.uln) == (None, Decimal("35"))
    assert alt.flag == Flag.HIGH
    assert alt.range_source == RangeSource.CLINIC_DEFAULT
    assert alt.reference_range is not None
    assert alt.reference_range.sex == "female"
    assert alt.times_uln == Decimal("2.857")
    assert alt.ctcae_grade == 1
    assert alt.range_origin.startswith("range: clinic default (CK: typical adult interval")
    assert Result.objects.get(pk=alt.result_id).is_abnormal


def test_the_labs_own_range_wins_and_is_named(patient_a: Patient, nurse: User, today: date) -> None:
    [alt] = _record(patient_a, nurse, _alt("100", "0", "120"))

    assert (alt.uln, alt.flag, alt.range_source) == (Decimal("120"), Flag.NORMAL, RangeSource.LAB)
    assert alt.reference_range is None
    assert alt.range_origin == "range: lab"


@pytest.mark.parametrize(
    ("sex", "uln"),
    [("male", Decimal("45")), ("female", Decimal("35")), ("unknown", Decimal("35"))],
)
def test_the_default_follows_the_patients_sex(
    sex: str, uln: Decimal, patient_a: Patient, nurse: User, today: date
) -> None:
    patient_a.sex = sex
    patient_a.save(update_fields=["sex"])

    [alt] = _record(patient_a, nurse, _alt("40"))

    # Sex not recorded: the narrower range of the two (more flags, never fewer).
    assert alt.uln == uln
    assert alt.flag == (Flag.HIGH if uln < 40 else Flag.NORMAL)


def test_an_adult_only_default_does_not_grade_a_child(
    patient_a: Patient, nurse: User, today: date
) -> None:
    patient_a.date_of_birth = date(2012, 3, 1)  # 14 on the day of the sample
    patient_a.save(update_fields=["date_of_birth"])

    [alp, alt] = sorted(
        _record(patient_a, nurse, EnteredValue("alp", Decimal("300"), "U/L"), _alt("20")),
        key=lambda v: v.analyte,
    )

    # Alkaline phosphatase is high in growing children: no adult range is applied.
    assert (alp.range_source, alp.flag, alp.range_origin) == (
        RangeSource.NONE,
        Flag.UNKNOWN,
        "no range",
    )
    assert alt.range_source == RangeSource.CLINIC_DEFAULT


def test_alt_without_a_range_now_raises_the_drug_alert(
    us_clinic: object, patient_a: Patient, nurse: User, start_plan: StartPlan
) -> None:
    start_plan(patient_a, "teriflunomide", date(2026, 3, 2))
    [alt] = _record(patient_a, nurse, _alt("80"))

    evaluation.evaluate_result(result_id=alt.result_id)

    # 80 U/L is 2.3 × the women's default ULN of 35: teriflunomide's 2-3 × ULN warning.
    alert = Alert.objects.get(condition_key__endswith=":rule:alt_2_3_uln")
    assert "2.3×ULN" in alert.title


# --- versions ------------------------------------------------------------------------------------


def _change_female_alt(admin: User, high: str, valid_from: date) -> ReferenceRange:
    return catalogue_services.add_reference_range(
        analyte="alt",
        sex="female",
        age_from_years=None,
        age_to_years=None,
        low=None,
        high=Decimal(high),
        source="City hospital laboratory, 2026 report",
        valid_from=valid_from,
        by=admin,
    )


def test_a_new_version_grades_samples_from_its_day_and_leaves_earlier_ones_as_they_were(
    patient_a: Patient, nurse: User, admin_user: User, today: date
) -> None:
    [before] = _record(patient_a, nurse, _alt("34"), taken_on=date(2026, 2, 2))
    first_version = before.reference_range

    new = _change_female_alt(admin_user, "33", date(2026, 3, 1))
    [still_old] = _record(patient_a, nurse, _alt("34"), taken_on=date(2026, 2, 20))
    [after] = _record(patient_a, nurse, _alt("34"), taken_on=date(2026, 6, 1))

    before.refresh_from_db()
    assert (before.uln, before.flag, before.reference_range) == (
        Decimal("35"),
        Flag.NORMAL,
        first_version,
    )
    assert (still_old.uln, still_old.reference_range) == (Decimal("35"), first_version)
    assert (after.uln, after.flag, after.reference_range) == (Decimal("33"), Flag.HIGH, new)
    assert after.range_origin == "range: clinic default (City hospital laboratory, 2026 report)"
    assert AccessEvent.objects.filter(
        user=admin_user, object_id=str(new.pk), detail="reference range alt"
    ).exists()


def test_a_version_is_never_edited_or_deleted(db: None) -> None:
    row = ReferenceRange.objects.filter(analyte="alt").first()
    assert row is not None

    row.high = Decimal("99")
    with pytest.raises(DatabaseError), transaction.atomic():
        row.save()
    with pytest.raises(DatabaseError), transaction.atomic():
        ReferenceRange.objects.filter(pk=row.pk).delete()

    row.refresh_from_db()
    assert row.high != Decimal("99")


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"analyte": "lvef", "sex": "any", "low": "54", "high": "95"}, "high", "5-90"),
        ({"low": "50", "high": "10"}, "high", "lower limit is above"),
        ({"low": None, "high": None}, "low", "lower limit, an upper limit"),
        ({"source": "  "}, "source", "Name the source"),
        ({"valid_from": date(2025, 6, 1)}, "valid_from", "takes effect on 01 Jan 2026"),
        ({"age_from_years": 40, "age_to_years": 18}, "age_to_years", "upper age"),
    ],
)
def test_bad_input_is_refused_at_its_field_and_nothing_changes(
    changes: dict[str, Any], field: str, message: str, admin_user: User, today: date
) -> None:
    before = list(ReferenceRange.objects.values_list("pk", "high"))
    arguments: dict[str, Any] = {
        "analyte": "alt",
        "sex": "female",
        "age_from_years": None,
        "age_to_years": None,
        "low": None,
        "high": "33",
        "source": "City lab",
        "valid_from": TODAY,
    }
    arguments.update(changes)
    for limit in ("low", "high"):
        if arguments[limit] is not None:
            arguments[limit] = Decimal(arguments[limit])

    with pytest.raises(TreatmentError) as refused:
        catalogue_services.add_reference_range(**arguments, by=admin_user)

    assert refused.value.field == field
    assert message in refused.value.message
    assert list(ReferenceRange.objects.values_list("pk", "high")) == before


# --- the page ------------------------------------------------------------------------------------


def test_only_the_clinic_admin_opens_the_reference_range_page(
    cast: dict[str, User], signed_in: Any, client: Any
) -> None:
    for role in ("neurologist", "nurse", "therapist"):
        assert signed_in(cast[role]).get(URL).status_code == 403, role
        client.logout()

    response = signed_in(cast["admin"]).get(URL)

    body = response.content.decode()
    assert response.status_code == 200
    assert "Pathology Harmony (UK), adults" in body
    assert "female" in body
    assert "aged 18 and over" in body  # the adult-only bands say so
    assert 'id="reference-ranges"' in body


def test_the_admin_adds_a_version_from_the_page(
    admin_user: User, signed_in: Any, today: date
) -> None:
    admin = signed_in(admin_user)
    current = ReferenceRange.objects.get(analyte="lvef", sex="female")
    form = admin.get(f"{URL}?from={current.pk}")
    assert 'value="54' in form.content.decode()  # the band's limits to start from

    response = admin.post(
        URL,
        {
            "analyte": "lvef",
            "sex": "female",
            "low": "53",
            "high": "73",
            "source": "Echo lab, local normal values 2026",
            "valid_from": "2026-06-15",
        },
    )

    assert response.status_code == 302
    latest = ReferenceRange.objects.filter(analyte="lvef", sex="female").latest("valid_from", "id")
    assert (latest.low, latest.high, latest.created_by) == (
        Decimal("53"),
        Decimal("73"),
        admin_user,
    )
    assert ReferenceRange.objects.get(pk=current.pk).low == Decimal("54")  # kept as it was
    page = admin.get(URL).content.decode()
    assert "53–73 %" in page
    assert "Echo lab, local normal values 2026" in page


def test_an_lvef_outside_5_to_90_is_refused_at_the_field_on_the_page(
    admin_user: User, signed_in: Any, today: date
) -> None:
    count = ReferenceRange.objects.count()

    response = signed_in(admin_user).post(
        URL,
        {
            "analyte": "lvef",
            "sex": "any",
            "low": "54",
            "high": "95",
            "source": "Echo lab",
            "valid_from": "2026-06-15",
        },
    )

    assert response.status_code == 422
    body = response.content.decode()
    assert 'id="id_high_error"' in body
    assert "outside the plausible range 5-90" in body
    assert ReferenceRange.objects.count() == count


def test_an_lvef_outside_5_to_90_is_refused_at_the_field_on_the_result_page(
    patient_a: Patient, nurse: User, signed_in: Any, today: date
) -> None:
    [before] = _record(patient_a, nurse, EnteredValue("lvef", Decimal("60"), "%"))
    url = f"/treatments/patients/{patient_a.external_id}/results/new/?investigation=echo_lvef"

    response = signed_in(nurse).post(
        url,
        {
            "investigation": "echo_lvef",
            "taken_on": "2026-06-15",
            "lvef_value": "95",
            "lvef_unit": "%",
        },
    )

    assert response.status_code == 422
    body = response.content.decode()
    assert 'id="id_lvef_value_error"' in body
    assert "outside the plausible range 5-90 %" in body
    # Nothing already saved changes, and nothing new is saved.
    assert list(Result.objects.filter(patient=patient_a)) == [before.result]
    before.refresh_from_db()
    assert before.value == Decimal("60")


def test_the_patient_page_says_which_range_each_value_was_graded_against(
    patient_a: Patient, nurse: User, signed_in: Any, today: date
) -> None:
    _record(patient_a, nurse, _alt("100"), taken_on=date(2026, 6, 1))
    _record(patient_a, nurse, _alt("50", "0", "40"), taken_on=date(2026, 6, 2))

    body = signed_in(nurse).get(f"/treatments/patients/{patient_a.external_id}/").content.decode()

    assert "range: clinic default (CK: typical adult interval (verify against the local" in body
    assert "range: lab" in body
