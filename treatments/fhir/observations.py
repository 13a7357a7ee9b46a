"""FHIR R4 Observations: EDSS with its functional systems, MRI activity, lab results and rehab
outcome measures. No queries; codes from `codes.py`."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from patients.edss import FS_ORDER
from patients.models import EdssAssessment, MriStudy, Patient
from patients.models.clinical import FieldStrength
from treatments.fhir import codes
from treatments.fhir.datatypes import (
    Json,
    category,
    coding,
    concept,
    day,
    instant,
    note,
    patient_reference,
    quantity,
    resource_id,
)
from treatments.models import OutcomeMeasurement, Result, ResultValue
from treatments.models.results import QualitativeValue
from treatments.outcomes import MEASURES
from treatments.protocols import INVESTIGATIONS, Investigation, InvestigationKind

_EXAM = category(codes.OBSERVATION_CATEGORY, "exam", "Exam")
_IMAGING = category(codes.OBSERVATION_CATEGORY, "imaging", "Imaging")
_LABORATORY = category(codes.OBSERVATION_CATEGORY, "laboratory", "Laboratory")
_THERAPY = category(codes.OBSERVATION_CATEGORY, "therapy", "Therapy")


def _observation(
    kind: str, key: tuple[object, ...], patient: Patient, code: Json, category: list[Json]
) -> Json:
    return {
        "resourceType": "Observation",
        "id": resource_id(kind, *key),
        "status": "final",
        "category": category,
        "code": code,
        "subject": patient_reference(patient.external_id),
    }


def _assessment(code: str, display: str) -> Json:
    return concept(coding(codes.ASSESSMENT, code, display), text=display)


# ---------------------------------------------------------------------------------------------
# EDSS and MRI
# ---------------------------------------------------------------------------------------------


def edss_observation(patient: Patient, assessment: EdssAssessment) -> Json:
    """The EDSS step, with the seven functional-system grades and the ambulation score it was
    computed from as components, and the Neurostatus rule that decided it."""
    resource = _observation(
        "edss",
        (assessment.pk,),
        patient,
        _assessment(codes.EDSS_CODE, codes.EDSS_DISPLAY),
        _EXAM,
    )
    resource["effectiveDateTime"] = day(assessment.assessed_on)
    resource["issued"] = instant(assessment.recorded_at)
    resource["valueQuantity"] = quantity(assessment.step, "score", "{score}")
    resource["component"] = [
        {
            "code": _assessment(*codes.EDSS_COMPONENTS[name]),
            "valueInteger": getattr(assessment, name),
        }
        for name in (*FS_ORDER, "ambulation")
    ]
    resource["method"] = concept(text="Neurostatus-EDSS")
    resource["note"] = note(f"Rule: {assessment.rule}", *assessment.inconsistencies)
    return resource


def mri_observation(patient: Patient, study: MriStudy) -> Json:
    """A brain MRI read for disease activity: lesion counts against the previous scan."""
    mri = INVESTIGATIONS["mri_brain"]
    resource = _observation("mri", (study.pk,), patient, _investigation_concept(mri), _IMAGING)
    resource["effectiveDateTime"] = day(study.study_on)
    resource["issued"] = instant(study.recorded_at)

    def component(name: str, value: Json) -> Json:
        return {"code": _assessment(*codes.MRI_COMPONENTS[name]), **value}

    components = [
        component("is_active", {"valueBoolean": study.is_active}),
        component("new_or_enlarging_t2", {"valueInteger": study.new_or_enlarging_t2}),
        component("contrast_given", {"valueBoolean": study.contrast_given}),
    ]
    if study.gad_enhancing is not None:
        components.append(component("gad_enhancing", {"valueInteger": study.gad_enhancing}))
    components.append(component("is_baseline", {"valueBoolean": study.is_baseline}))
    components.append(
        component("field_strength", {"valueString": FieldStrength(study.field_strength).label})
    )
    resource["component"] = components
    if study.report:
        resource["note"] = note(study.report)
    return resource


# ---------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------


def _investigation_concept(investigation: Investigation, *, loinc: str | None = None) -> Json:
    """A test: its LOINC code where the catalogue marks it verified, and Myelin's key."""
    found = []
    code = loinc if loinc is not None else investigation.loinc
    if code and investigation.loinc_verified:
        found.append(coding(codes.LOINC, code))
    found.append(coding(codes.INVESTIGATION, investigation.key, investigation.name))
    return concept(*found, text=investigation.name)


def _unknown_investigation(key: str) -> Investigation:
    # A key the catalogue no longer knows is exported as written, with no standard code.
    return Investigation(key, key, InvestigationKind.PROCEDURE)


def _result_base(patient: Patient, result: Result, key: tuple[object, ...], code: Json) -> Json:
    resource = _observation("result", (result.pk, *key), patient, code, _LABORATORY)
    resource["effectiveDateTime"] = day(result.taken_on)
    resource["issued"] = instant(result.recorded_at)
    if result.lab:
        resource["performer"] = [{"display": result.lab}]
    if result.note:
        resource["note"] = note(result.note)
    return resource


def _value_observation(patient: Patient, result: Result, value: ResultValue) -> Json:
    analyte = INVESTIGATIONS.get(value.analyte) or _unknown_investigation(value.analyte)
    resource = _result_base(patient, result, (value.analyte,), _investigation_concept(analyte))
    # The stored unit is the catalogue's canonical unit; its UCUM code is the catalogue's too.
    ucum = analyte.unit if analyte.unit and analyte.unit_display == value.unit else ""
    resource["valueQuantity"] = quantity(value.value, value.unit, ucum)
    if value.flag in codes.FLAG_INTERPRETATION:
        code, display = codes.FLAG_INTERPRETATION[value.flag]
        resource["interpretation"] = [concept(coding(codes.INTERPRETATION, code, display))]
    limits = {}
    if value.lln is not None:
        limits["low"] = quantity(value.lln, value.unit, ucum)
    if value.uln is not None:
        limits["high"] = quantity(value.uln, value.unit, ucum)
    if limits:
        resource["referenceRange"] = [limits]
    return resource


def result_observations(patient: Patient, result: Result, values: list[ResultValue]) -> list[Json]:
    """One result: an Observation per analyte value, one for a qualitative finding (with the JCV
    index beside it), one for a macular-oedema finding, one for an MRI reference; a result with
    none of these (a note only) is one Observation carrying the note."""
    investigation = INVESTIGATIONS.get(result.investigation) or _unknown_investigation(
        result.investigation
    )
    found = [_value_observation(patient, result, value) for value in values]
    if result.qualitative:
        resource = _result_base(
            patient, result, ("finding",), _investigation_concept(investigation)
        )
        label = QualitativeValue(result.qualitative).label
        resource["valueCodeableConcept"] = concept(
            coding(codes.QUALITATIVE, result.qualitative, label), text=label
        )
        code, display = codes.QUALITATIVE_INTERPRETATION[result.qualitative]
        resource["interpretation"] = [concept(coding(codes.INTERPRETATION, code, display))]
        found.append(resource)
    if result.index_value is not None:
        index_loinc = dict(investigation.result_fields).get("index")
        code_concept = _investigation_concept(investigation, loinc=index_loinc or "")
        code_concept["text"] = f"{investigation.name}: index"
        resource = _result_base(patient, result, ("index",), code_concept)
        resource["valueQuantity"] = quantity(result.index_value, "index")
        found.append(resource)
    if result.macular_oedema is not None:
        resource = _result_base(
            patient,
            result,
            ("macular-oedema",),
            concept(
                coding(codes.INVESTIGATION, investigation.key, investigation.name),
                text=f"{investigation.name}: macular oedema",
            ),
        )
        resource["valueBoolean"] = result.macular_oedema
        found.append(resource)
    if result.mri_study_ref:
        resource = _result_base(patient, result, ("mri",), _investigation_concept(investigation))
        resource["valueString"] = result.mri_study_ref
        found.append(resource)
    if not found:
        found.append(_result_base(patient, result, (), _investigation_concept(investigation)))
    return found


# ---------------------------------------------------------------------------------------------
# Rehab outcome measures
# ---------------------------------------------------------------------------------------------


def _measure_quantity(value: Decimal, unit: str) -> Json:
    return quantity(value, unit, codes.UCUM_OF_UNIT.get(unit, ""))


def outcome_observation(patient: Patient, measurement: OutcomeMeasurement) -> Json:
    """A rehab outcome measure: its score, the raw values it was scored from (trial times,
    subscale or item scores) as components, and a meaningful change as the interpretation."""
    measure = MEASURES[measurement.measure]
    resource = _observation(
        "outcome",
        (measurement.pk,),
        patient,
        concept(coding(codes.OUTCOME_MEASURE, measure.key, measure.name), text=measure.name),
        _THERAPY,
    )
    resource["effectiveDateTime"] = day(measurement.measured_on)
    resource["valueQuantity"] = _measure_quantity(measurement.score, measure.score_unit)
    components = []
    for spec in measure.fields:
        raw = measurement.fields.get(spec.key)
        if raw in (None, ""):
            continue
        try:
            value = Decimal(str(raw))
        except InvalidOperation:
            continue  # validated when logged (treatments.outcomes); nothing else is stored
        components.append(
            {
                "code": concept(
                    coding(codes.OUTCOME_MEASURE, f"{measure.key}.{spec.key}", spec.label),
                    text=f"{measure.name}: {spec.label}",
                ),
                "valueQuantity": _measure_quantity(value, spec.unit),
            }
        )
    if components:
        resource["component"] = components
    if measurement.change in codes.CHANGE_INTERPRETATION:
        code, display = codes.CHANGE_INTERPRETATION[measurement.change]
        resource["interpretation"] = [concept(coding(codes.INTERPRETATION, code, display))]
        resource["note"] = note(
            f"Meaningful change from the previous measurement: {measurement.threshold_text}"
        )
    return resource
