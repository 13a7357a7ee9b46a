"""One patient's whole record in one query: the patient row with every table the export reads.

A patient with fifteen years of history has hundreds of rows in ten tables (course states,
EDSS, relapses, MRI, DMT plans, results and their values, symptomatic treatments, outcome
measurements, referrals). One query per table (`clinical_history`'s four and six more), plus
the user, the patient and the access record, would not fit the request's budget of ten
queries. Instead each table is a correlated subquery that PostgreSQL folds into one JSON array
per patient row (`jsonb_agg(json_object(...) ORDER BY ...)`), and the rows are turned back
into ordinary model instances with each field's own `to_python`, exactly as if the ORM had
loaded them (a test compares the two, field by field); the clinical ones fill the same
`ClinicalHistory` the patient page uses. The same annotation serves one patient ($everything,
through `get_scoped_or_404`) and a chunk of patients (the bulk export): the number of queries
is fixed whatever the history or the chunk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import DEFAULT_DB_ALIAS, models
from django.db.models import Aggregate, F, JSONField, OuterRef, Subquery, TextField, Value
from django.db.models.functions import Cast, Coalesce, JSONObject

from patients.models import CourseState, EdssAssessment, MriStudy, Patient, Referral, Relapse
from patients.records.services import ClinicalHistory
from treatments.models import (
    DmtPlan,
    OutcomeMeasurement,
    Result,
    ResultValue,
    SymptomaticTreatment,
)


class JsonbAgg(Aggregate):
    function = "JSONB_AGG"
    allow_order_by = True
    output_field = JSONField()


def _json_fields(model: type[models.Model]) -> dict[str, Any]:
    # Decimals travel as text: a JSON number would come back as a float and lose digits.
    return {
        f.attname: Cast(f.attname, TextField())
        if isinstance(f, models.DecimalField)
        else F(f.attname)
        for f in model._meta.concrete_fields
    }


def rows_of(
    model: type[models.Model], *, parent: str, nested: dict[str, Any] | None = None
) -> Coalesce:
    """The rows of `model` whose `parent` foreign key is the outer row, as one JSON array in
    the model's default order (empty, never null). `nested` adds keys to each row (another
    `rows_of`, one level down). A correctable record's amended or entered-in-error rows are
    left out: a reader elsewhere sees the record as it stands."""
    row = JSONObject(**_json_fields(model), **(nested or {}))
    ordering = list(model._meta.ordering or ["pk"])
    where: dict[str, Any] = {parent: OuterRef("pk")}
    if any(f.name == "correction" for f in model._meta.concrete_fields):
        where["correction"] = ""
    children = (
        model._default_manager.filter(**where)
        .order_by()
        .values(parent)
        .annotate(rows=JsonbAgg(row, order_by=ordering))
        .values("rows")
    )
    return Coalesce(
        Subquery(children, output_field=JSONField()), Value([], output_field=JSONField())
    )


def instances[M: models.Model](model: type[M], rows: list[dict[str, Any]]) -> list[M]:
    """Model instances from `rows_of` rows, each field converted as the ORM would."""
    fields = model._meta.concrete_fields
    names = [f.attname for f in fields]
    return [
        model.from_db(DEFAULT_DB_ALIAS, names, [f.to_python(row.get(f.attname)) for f in fields])
        for row in rows
    ]


def with_records(queryset: models.QuerySet[Patient]) -> models.QuerySet[Patient]:
    """Patients, each with every record the export needs, in the same query."""
    return queryset.annotate(
        fhir_course_states=rows_of(CourseState, parent="patient"),
        fhir_edss=rows_of(EdssAssessment, parent="patient"),
        fhir_relapses=rows_of(Relapse, parent="patient"),
        fhir_mri=rows_of(MriStudy, parent="patient"),
        fhir_plans=rows_of(DmtPlan, parent="patient"),
        fhir_results=rows_of(
            Result,
            parent="patient",
            nested={"fhir_values": rows_of(ResultValue, parent="result")},
        ),
        fhir_symptomatic=rows_of(SymptomaticTreatment, parent="patient"),
        fhir_outcomes=rows_of(OutcomeMeasurement, parent="patient"),
        fhir_referrals=rows_of(Referral, parent="patient"),
    )


@dataclass
class ResultWithValues:
    result: Result
    values: list[ResultValue] = field(default_factory=list)


@dataclass
class PatientRecords:
    """Everything exported about one patient, each kind in its model's own order (the clinical
    records oldest first; DMT plans, results, treatments and referrals newest first)."""

    patient: Patient
    history: ClinicalHistory
    plans: list[DmtPlan]
    results: list[ResultWithValues]
    symptomatic: list[SymptomaticTreatment]
    outcomes: list[OutcomeMeasurement]
    referrals: list[Referral]


def records_of(patient: Patient) -> PatientRecords:
    """The records of a patient loaded through `with_records` (no query)."""

    def rows(name: str) -> list[dict[str, Any]]:
        try:
            return getattr(patient, name)  # type: ignore[no-any-return]
        except AttributeError:
            raise ValueError("Load the patient through with_records() first.") from None

    results = [
        ResultWithValues(result, instances(ResultValue, row["fhir_values"]))
        for result, row in zip(
            instances(Result, rows("fhir_results")), rows("fhir_results"), strict=True
        )
    ]
    return PatientRecords(
        patient=patient,
        history=ClinicalHistory(
            course_states=instances(CourseState, rows("fhir_course_states")),
            edss=instances(EdssAssessment, rows("fhir_edss")),
            relapses=instances(Relapse, rows("fhir_relapses")),
            mri=instances(MriStudy, rows("fhir_mri")),
        ),
        plans=instances(DmtPlan, rows("fhir_plans")),
        results=results,
        symptomatic=instances(SymptomaticTreatment, rows("fhir_symptomatic")),
        outcomes=instances(OutcomeMeasurement, rows("fhir_outcomes")),
        referrals=instances(Referral, rows("fhir_referrals")),
    )
