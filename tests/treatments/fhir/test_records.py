"""Loading a patient's whole record for the export: one query, and the same rows the ORM
would give, field for field."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection, models
from django.test.utils import CaptureQueriesContext

from patients.models import CourseState, EdssAssessment, MriStudy, Patient, Referral, Relapse
from patients.records.corrections import mark_in_error
from tests.treatments.fhir.conftest import assert_valid
from treatments.fhir import services
from treatments.fhir.records import records_of, with_records
from treatments.models import (
    DmtPlan,
    OutcomeMeasurement,
    Result,
    ResultValue,
    SymptomaticTreatment,
)


def fields_of(rows: list[models.Model]) -> list[dict[str, Any]]:
    return [{f.attname: getattr(row, f.attname) for f in row._meta.concrete_fields} for row in rows]


def test_a_patient_and_every_record_load_in_one_query(some_history):
    with CaptureQueriesContext(connection) as queries:
        patient = with_records(Patient.objects.filter(pk=some_history.pk)).get()
        records = records_of(patient)

    assert len(queries.captured_queries) == 1
    assert records.history.edss
    assert records.history.mri
    assert records.history.relapses
    assert records.plans
    assert records.results
    assert records.outcomes
    assert records.referrals
    assert records.symptomatic
    assert records.history.course_states


def test_loaded_records_are_the_rows_the_orm_loads_in_the_same_order(some_history):
    records = records_of(with_records(Patient.objects.filter(pk=some_history.pk)).get())
    mine = {"patient": some_history}

    expected: dict[type[models.Model], models.QuerySet[Any]] = {
        CourseState: CourseState.objects.filter(**mine),
        EdssAssessment: EdssAssessment.objects.filter(**mine),
        Relapse: Relapse.objects.filter(**mine),
        MriStudy: MriStudy.objects.filter(**mine),
        DmtPlan: DmtPlan.objects.filter(**mine),
        Result: Result.objects.filter(**mine),
        SymptomaticTreatment: SymptomaticTreatment.objects.filter(**mine),
        OutcomeMeasurement: OutcomeMeasurement.objects.filter(**mine),
        Referral: Referral.objects.filter(**mine),
    }
    loaded: dict[type[models.Model], list[Any]] = {
        CourseState: records.history.course_states,
        EdssAssessment: records.history.edss,
        Relapse: records.history.relapses,
        MriStudy: records.history.mri,
        DmtPlan: records.plans,
        Result: [r.result for r in records.results],
        SymptomaticTreatment: records.symptomatic,
        OutcomeMeasurement: records.outcomes,
        Referral: records.referrals,
    }
    for model, queryset in expected.items():
        # Decimals keep every digit, dates and datetimes their type and zone, JSON its shape.
        assert fields_of(loaded[model]) == fields_of(list(queryset)), model.__name__
    for loaded_result in records.results:
        assert fields_of(loaded_result.values) == fields_of(
            list(ResultValue.objects.filter(result=loaded_result.result))
        )
    assert any(r.values for r in records.results)  # the lab panels came with their values


def test_a_record_marked_entered_in_error_does_not_leave_with_the_export(some_history, cast_a):
    wrong = EdssAssessment.objects.filter(patient=some_history).latest("assessed_on")
    mark_in_error(record=wrong, reason="Scored for another patient", by=cast_a.neurologist)

    records = records_of(with_records(Patient.objects.filter(pk=some_history.pk)).get())

    exported = [e.pk for e in records.history.edss]
    assert wrong.pk not in exported
    assert exported == list(
        EdssAssessment.objects.filter(patient=some_history).standing().values_list("pk", flat=True)
    )


def test_a_patient_with_no_records_has_empty_lists(patient_b):
    records = records_of(with_records(Patient.objects.filter(pk=patient_b.pk)).get())

    assert records.history.edss == []
    assert records.results == []
    assert records.referrals == []
    assert [r["resourceType"] for r in services.patient_resources(records)] == ["Patient"]


def test_records_of_a_patient_loaded_without_them_is_an_error(patient_b):
    with pytest.raises(ValueError, match="with_records"):
        records_of(Patient.objects.get(pk=patient_b.pk))


def test_fifteen_years_of_care_export_as_valid_fhir_of_every_kind(long_history):
    records = records_of(with_records(Patient.objects.filter(pk=long_history.pk)).get())

    bundle = services.everything_bundle(
        records, base_url="https://myelin.test/fhir", self_url="https://myelin.test/fhir/x"
    )

    assert_valid(bundle)  # the Bundle, and through it every entry
    kinds: dict[str, int] = {}
    for entry in bundle["entry"]:
        assert_valid(entry["resource"])
        kinds[entry["resource"]["resourceType"]] = (
            kinds.get(entry["resource"]["resourceType"], 0) + 1
        )
    assert set(kinds) == set(services.RESOURCE_TYPES)
    assert kinds["Patient"] == 1
    # MS, three course states, a relapse every other year.
    assert kinds["Condition"] == 1 + 3 + len(records.history.relapses)
    assert kinds["MedicationStatement"] == 3 + 2  # three DMT plans, two other treatments
    assert kinds["AllergyIntolerance"] == 2
    ids = [entry["fullUrl"] for entry in bundle["entry"]]
    assert len(ids) == len(set(ids))  # every resource once, under its own name
