"""Each FHIR builder on its own, from rows that need no database: every resource it writes is
parsed by fhir.resources, and says what the row says, in the codes `codes.py` promises."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from patients.models import CourseState, EdssAssessment, MriStudy, Patient, Referral, Relapse
from patients.records.services import ClinicalHistory
from tests.treatments.fhir.conftest import assert_valid
from treatments import outcomes
from treatments.fhir import builders, codes, observations, services
from treatments.fhir.datatypes import number
from treatments.models import (
    DmtPlan,
    OutcomeMeasurement,
    Result,
    ResultValue,
    SymptomaticTreatment,
)

AT = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)
ALICE = uuid.UUID("0b7f5a3c-1d2e-4f60-8a9b-0c1d2e3f4a5b")


def alice(**fields: object) -> Patient:
    values: dict[str, object] = {
        "id": 1,
        "external_id": ALICE,
        "mrn": "AAA00001",
        "given_name": "Alice",
        "family_name": "Archer",
        "date_of_birth": date(1985, 3, 2),
        "sex": "female",
        "status": "active",
        "updated_at": AT,
        "allergies": "",
    }
    return Patient(**(values | fields))


def codings(concept: dict, system: str) -> list[str]:
    return [c["code"] for c in concept.get("coding", []) if c["system"] == system]


def course(pk: int, kind: str, start: date, end: date | None = None) -> CourseState:
    return CourseState(id=pk, patient_id=1, course=kind, start_on=start, end_on=end, recorded_at=AT)


# ---------------------------------------------------------------------------------------------
# Patient
# ---------------------------------------------------------------------------------------------


def test_the_patient_is_named_by_their_uuid_and_carries_the_mrn(settings):
    settings.FHIR_MRN_SYSTEM = "urn:oid:1.2.826.0.1.999"
    patient = alice(phone="01632 960001", email="alice@example.org", address="1 High St")

    resource = builders.patient_resource(patient)

    assert_valid(resource)
    assert resource["id"] == str(ALICE)
    assert resource["identifier"][0] | {"type": None} == {
        "use": "usual",
        "type": None,
        "system": "urn:oid:1.2.826.0.1.999",
        "value": "AAA00001",
    }
    assert resource["name"] == [{"use": "official", "family": "Archer", "given": ["Alice"]}]
    assert resource["gender"] == "female"
    assert resource["birthDate"] == "1985-03-02"
    assert {t["system"] for t in resource["telecom"]} == {"phone", "email"}
    assert resource["active"] is True
    assert "deceasedBoolean" not in resource


@pytest.mark.parametrize(
    ("status", "active", "deceased"),
    [("transferred", False, None), ("deceased", False, True)],
)
def test_a_transferred_or_deceased_patient_is_not_active(status, active, deceased):
    resource = builders.patient_resource(alice(status=status))

    assert_valid(resource)
    assert resource["active"] is active
    assert resource.get("deceasedBoolean") is deceased


# ---------------------------------------------------------------------------------------------
# Conditions
# ---------------------------------------------------------------------------------------------


def test_multiple_sclerosis_has_its_onset_and_its_current_course_as_the_stage():
    history = ClinicalHistory(
        course_states=[
            course(1, "cis", date(2010, 1, 1), date(2010, 8, 1)),
            course(2, "rrms", date(2010, 8, 2), date(2024, 12, 31)),
            course(3, "spms", date(2025, 1, 1)),
        ]
    )

    resource = builders.multiple_sclerosis_condition(alice(diagnosis_on=None), history)

    assert resource is not None
    assert_valid(resource)
    assert codings(resource["code"], codes.SNOMED) == ["24700007"]
    assert codings(resource["code"], codes.ICD10) == ["G35"]
    # No diagnosis date on the record: the first day of a confirmed MS course (CIS is not MS).
    assert resource["onsetDateTime"] == "2010-08-02"
    assert codings(resource["stage"][0]["summary"], codes.SNOMED) == ["425500002"]  # SPMS
    assert resource["subject"] == {"reference": f"Patient/{ALICE}"}


def test_the_diagnosis_date_is_the_onset_when_recorded():
    history = ClinicalHistory(course_states=[course(1, "rrms", date(2012, 5, 1))])

    resource = builders.multiple_sclerosis_condition(alice(diagnosis_on=date(2012, 4, 20)), history)

    assert resource is not None
    assert resource["onsetDateTime"] == "2012-04-20"


def test_no_multiple_sclerosis_is_exported_for_a_patient_with_cis_only():
    history = ClinicalHistory(course_states=[course(1, "cis", date(2025, 1, 1))])

    assert builders.multiple_sclerosis_condition(alice(diagnosis_on=None), history) is None


def test_course_states_are_dated_conditions_and_cis_keeps_a_local_code():
    closed = builders.course_condition(
        alice(), course(1, "cis", date(2010, 1, 1), date(2010, 8, 1))
    )
    current = builders.course_condition(alice(), course(2, "rrms", date(2010, 8, 2)))

    for resource in (closed, current):
        assert_valid(resource)
    # §11.3 confirms no SNOMED code for CIS: Myelin's own code, never a guessed one.
    assert codings(closed["code"], codes.SNOMED) == []
    assert codings(closed["code"], codes.ASSESSMENT) == ["cis"]
    assert closed["clinicalStatus"]["coding"][0]["code"] == "inactive"
    assert closed["abatementDateTime"] == "2010-08-01"
    assert codings(current["code"], codes.SNOMED) == ["426373005"]
    assert current["clinicalStatus"]["coding"][0]["code"] == "active"
    assert "abatementDateTime" not in current


@pytest.mark.parametrize(("end", "status"), [(date(2024, 3, 1), "resolved"), (None, "active")])
def test_a_relapse_is_a_condition_with_its_severity_and_what_was_done(end, status):
    relapse = Relapse(
        id=4,
        patient_id=1,
        onset_on=date(2024, 2, 1),
        end_on=end,
        symptoms="Blurred vision, right eye",
        functional_systems=["visual"],
        severity="severe",
        objectively_confirmed=True,
        infection_excluded=False,
        recovery="partial",
        treatment="iv_mp",
        recorded_at=AT,
    )

    resource = builders.relapse_condition(alice(), relapse)

    assert_valid(resource)
    assert resource["clinicalStatus"]["coding"][0]["code"] == status
    assert codings(resource["severity"], codes.SNOMED) == ["24484000"]
    assert resource["onsetDateTime"] == "2024-02-01"
    notes = " ".join(n["text"] for n in resource["note"])
    assert "Blurred vision" in notes
    assert "Functional systems: Visual." in notes
    assert "Infection not excluded." in notes
    assert "IV methylprednisolone" in notes


# ---------------------------------------------------------------------------------------------
# Medications
# ---------------------------------------------------------------------------------------------


def plan(**fields: object) -> DmtPlan:
    values: dict[str, object] = {
        "id": 9,
        "patient_id": 1,
        "drug_key": "dimethyl_fumarate",
        "drug_name": "Dimethyl fumarate",
        "status": "active",
        "planned_on": date(2020, 1, 10),
        "started_on": date(2020, 2, 1),
        "created_at": AT,
    }
    return DmtPlan(**(values | fields))


@pytest.mark.parametrize(
    ("status", "fhir_status"),
    [
        ("planned", "intended"),
        ("active", "active"),
        ("suspended", "on-hold"),
        ("stopped", "stopped"),
    ],
)
def test_each_dmt_plan_is_a_medication_statement_in_its_status(status, fhir_status):
    fields: dict[str, object] = {"status": status}
    if status == "planned":
        fields["started_on"] = None
    if status == "suspended":
        fields |= {"suspended_on": date(2021, 1, 1), "suspend_reason": "Lymphopenia"}
    if status == "stopped":
        fields |= {"stopped_on": date(2022, 5, 1), "stop_reason": "adverse_event"}

    resource = builders.dmt_medication_statement(alice(), plan(**fields))

    assert_valid(resource)
    assert resource["status"] == fhir_status
    if status == "planned":
        assert "effectivePeriod" not in resource
    else:
        assert resource["effectivePeriod"]["start"] == "2020-02-01"
    if status == "stopped":
        assert resource["effectivePeriod"]["end"] == "2022-05-01"
        assert codings(resource["statusReason"][0], codes.STOP_REASON) == ["adverse_event"]


def test_a_dmt_is_atc_coded_only_where_the_catalogue_verified_the_code():
    verified = builders.dmt_medication_statement(alice(), plan())
    # Ofatumumab's ATC code is marked "(verify)" in §11.2 and in the catalogue.
    doubtful = builders.dmt_medication_statement(
        alice(), plan(drug_key="ofatumumab", drug_name="Ofatumumab")
    )

    med = verified["medicationCodeableConcept"]
    assert codings(med, codes.ATC) == ["L04AX07"]
    assert codings(med, codes.DMT) == ["dimethyl_fumarate"]
    assert codings(doubtful["medicationCodeableConcept"], codes.ATC) == []
    assert codings(doubtful["medicationCodeableConcept"], codes.DMT) == ["ofatumumab"]


@pytest.mark.parametrize(("stopped", "status"), [(None, "active"), (date(2024, 1, 3), "completed")])
def test_a_symptomatic_or_relapse_treatment_is_a_medication_statement(stopped, status):
    treatment = SymptomaticTreatment(
        id=3,
        patient_id=1,
        kind="relapse",
        drug="Methylprednisolone",
        indication="relapse",
        dose="1 g IV daily for 3 days",
        started_on=date(2024, 1, 1),
        stopped_on=stopped,
        recorded_at=AT,
    )

    resource = builders.treatment_medication_statement(alice(), treatment)

    assert_valid(resource)
    assert resource["status"] == status
    assert resource["medicationCodeableConcept"] == {"text": "Methylprednisolone"}
    assert resource["dosage"] == [{"text": "1 g IV daily for 3 days"}]
    assert resource["effectivePeriod"].get("end") == (stopped.isoformat() if stopped else None)


# ---------------------------------------------------------------------------------------------
# Observations
# ---------------------------------------------------------------------------------------------


def test_an_edss_carries_its_seven_functional_systems_and_ambulation():
    assessment = EdssAssessment(
        id=5,
        patient_id=1,
        assessed_on=date(2025, 3, 1),
        visual=1,
        brainstem=2,
        pyramidal=3,
        cerebellar=2,
        sensory=1,
        bowel_bladder=1,
        cerebral=0,
        ambulation=0,
        step=Decimal("3.5"),
        fs_step=Decimal("3.5"),
        rule="One FS grade 3 and three or four grade 2",
        inconsistencies=[],
        recorded_at=AT,
    )

    resource = observations.edss_observation(alice(), assessment)

    assert_valid(resource)
    assert resource["valueQuantity"]["value"] == 3.5
    assert codings(resource["code"], codes.ASSESSMENT) == ["edss"]
    components = {c["code"]["coding"][0]["code"]: c["valueInteger"] for c in resource["component"]}
    assert components == {
        "edss-fs-visual": 1,
        "edss-fs-brainstem": 2,
        "edss-fs-pyramidal": 3,
        "edss-fs-cerebellar": 2,
        "edss-fs-sensory": 1,
        "edss-fs-bowel-bladder": 1,
        "edss-fs-cerebral": 0,
        "edss-ambulation": 0,
    }
    assert resource["effectiveDateTime"] == "2025-03-01"


@pytest.mark.parametrize(("contrast", "gad"), [(True, 2), (False, None)])
def test_an_mri_reports_its_activity_and_lesion_counts(contrast, gad):
    study = MriStudy(
        id=6,
        patient_id=1,
        study_on=date(2025, 4, 1),
        field_strength="3t",
        contrast_given=contrast,
        new_or_enlarging_t2=1,
        gad_enhancing=gad,
        is_baseline=False,
        report="One new T2 lesion.",
        recorded_at=AT,
    )

    resource = observations.mri_observation(alice(), study)

    assert_valid(resource)
    assert codings(resource["code"], codes.LOINC) == ["24590-2"]
    found = {c["code"]["coding"][0]["code"]: c for c in resource["component"]}
    assert found["mri-activity"]["valueBoolean"] is True
    assert found["mri-new-enlarging-t2"]["valueInteger"] == 1
    assert found["mri-contrast-given"]["valueBoolean"] is contrast
    # Without contrast nothing can enhance: the count is absent, not zero.
    assert ("mri-gad-enhancing" in found) is contrast
    assert resource["note"] == [{"text": "One new T2 lesion."}]


def result(**fields: object) -> Result:
    values: dict[str, object] = {
        "id": 11,
        "patient_id": 1,
        "investigation": "lft",
        "taken_on": date(2025, 5, 2),
        "lab": "City Hospital Laboratory",
        "qualitative": "",
        "recorded_at": AT,
    }
    return Result(**(values | fields))


def value(
    analyte: str, amount: str, unit: str, low: str | None, high: str | None, flag: str
) -> ResultValue:
    return ResultValue(
        result_id=11,
        analyte=analyte,
        value=Decimal(amount),
        unit=unit,
        lln=Decimal(low) if low else None,
        uln=Decimal(high) if high else None,
        flag=flag,
    )


def test_lab_values_are_loinc_coded_with_ucum_units_and_the_labs_range():
    resources = observations.result_observations(
        alice(),
        result(),
        [
            value("alt", "112", "U/L", "7", "56", "high"),
            value("bilirubin", "13.68", "µmol/L", None, "21", "normal"),
        ],
    )

    for resource in resources:
        assert_valid(resource)
    alt, bilirubin = resources
    assert codings(alt["code"], codes.LOINC) == ["1742-6"]
    assert alt["valueQuantity"] == {
        "value": 112,
        "unit": "U/L",
        "system": codes.UCUM,
        "code": "U/L",
    }
    assert alt["referenceRange"] == [
        {
            "low": {"value": 7, "unit": "U/L", "system": codes.UCUM, "code": "U/L"},
            "high": {"value": 56, "unit": "U/L", "system": codes.UCUM, "code": "U/L"},
        }
    ]
    assert alt["interpretation"][0]["coding"][0]["code"] == "H"
    assert alt["effectiveDateTime"] == "2025-05-02"
    assert alt["performer"] == [{"display": "City Hospital Laboratory"}]
    assert bilirubin["valueQuantity"]["value"] == 13.68
    assert bilirubin["valueQuantity"]["code"] == "umol/L"
    assert bilirubin["referenceRange"] == [
        {"high": {"value": 21, "unit": "µmol/L", "system": codes.UCUM, "code": "umol/L"}}
    ]
    # Two observations of one result are two resources: their ids differ.
    assert alt["id"] != bilirubin["id"]


def test_a_test_whose_loinc_code_is_unverified_keeps_only_myelins_code():
    [ggt] = observations.result_observations(
        alice(), result(investigation="ggt"), [value("ggt", "40", "U/L", "0", "60", "normal")]
    )

    assert_valid(ggt)
    assert codings(ggt["code"], codes.LOINC) == []  # 2324-2 is "(verify)" in §11.1
    assert codings(ggt["code"], codes.INVESTIGATION) == ["ggt"]


def test_a_jcv_result_is_a_finding_and_its_index():
    resources = observations.result_observations(
        alice(),
        result(investigation="jcv_antibody", qualitative="positive", index_value=Decimal("1.720")),
        [],
    )

    for resource in resources:
        assert_valid(resource)
    finding, index = resources
    assert codings(finding["code"], codes.LOINC) == ["70173-0"]
    assert finding["valueCodeableConcept"]["text"] == "Positive"
    assert finding["interpretation"][0]["coding"][0]["code"] == "POS"
    assert codings(index["code"], codes.LOINC) == ["100977-8"]
    assert index["valueQuantity"] == {"value": 1.72, "unit": "index"}


def test_an_eye_exam_reports_macular_oedema_and_a_note_only_result_keeps_its_note():
    [eyes] = observations.result_observations(
        alice(), result(investigation="eye_exam", macular_oedema=True), []
    )
    [skin] = observations.result_observations(
        alice(), result(investigation="skin_exam", note="No suspicious lesions."), []
    )

    assert_valid(eyes)
    assert_valid(skin)
    assert eyes["valueBoolean"] is True
    assert skin["note"] == [{"text": "No suspicious lesions."}]
    assert not any(key.startswith("value") for key in skin)


SAMPLE_FIELDS = {
    "t25fw": {"trial_1": "6.1", "trial_2": "6.5"},
    "nine_hpt": {"right_1": "20.1", "right_2": "19.9", "left_1": "22", "left_2": "21.6"},
    "sdmt": {"correct": "52"},
    "bbs": {"total": "50"},
    "six_mwt": {"distance_m": "420"},
    "msis29": {"physical": "32.5", "psychological": "20"},
    "mfis": {"physical": "12", "cognitive": "14", "psychosocial": "3"},
    "phq9": {f"item_{n}": "1" for n in range(1, 10)},
}


def test_every_outcome_measure_has_a_sample():
    assert set(SAMPLE_FIELDS) == set(outcomes.MEASURES)


@pytest.mark.parametrize("key", sorted(SAMPLE_FIELDS))
def test_each_outcome_measure_is_an_observation_with_its_raw_values(key):
    fields = SAMPLE_FIELDS[key]
    measurement = OutcomeMeasurement(
        id=21,
        patient_id=1,
        measure=key,
        measured_on=date(2025, 6, 1),
        fields=fields,
        score=outcomes.score(key, fields),
        change="worse",
        threshold_text="≥ 20% change",
    )

    resource = observations.outcome_observation(alice(), measurement)

    assert_valid(resource)
    # The reference gives no LOINC code for these measures: Myelin's own code system.
    assert codings(resource["code"], codes.OUTCOME_MEASURE) == [key]
    assert resource["valueQuantity"]["value"] == number(measurement.score)
    assert [c["code"]["coding"][0]["code"] for c in resource["component"]] == [
        f"{key}.{name}" for name in fields
    ]
    assert resource["interpretation"][0]["coding"][0]["code"] == "W"
    assert resource["category"][0]["coding"][0]["code"] == "therapy"


# ---------------------------------------------------------------------------------------------
# Referrals, allergies, the server's own resources
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "status"),
    [
        ("sent", "active"),
        ("scheduled", "active"),
        ("completed", "completed"),
        ("acknowledged", "completed"),
        ("declined", "revoked"),
        ("cancelled", "revoked"),
    ],
)
def test_a_referral_is_a_service_request(state, status):
    referral = Referral(
        id=8,
        external_id=uuid.UUID("7d1a8f1e-27c3-4f0e-9a33-3c1b0d9e2f10"),
        patient_id=1,
        discipline="physiotherapy",
        urgency="urgent",
        reason="Falls at home",
        state=state,
        sent_at=AT,
        scheduled_on=date(2026, 6, 10) if state == "scheduled" else None,
        decline_reason="Not our service" if state == "declined" else "",
        cancel_reason="Moved away" if state == "cancelled" else "",
        summary="Six sessions" if state in ("completed", "acknowledged") else "",
    )

    resource = builders.referral_service_request(alice(), referral)

    assert_valid(resource)
    assert resource["id"] == "7d1a8f1e-27c3-4f0e-9a33-3c1b0d9e2f10"
    assert resource["status"] == status
    assert resource["priority"] == "asap"
    assert codings(resource["code"], codes.REFERRAL_DISCIPLINE) == ["physiotherapy"]
    assert resource["reasonCode"] == [{"text": "Falls at home"}]
    assert ("occurrenceDateTime" in resource) is (state == "scheduled")


def test_allergies_are_one_resource_per_line_as_written():
    resources = builders.allergy_intolerances(alice(allergies="Penicillin (rash)\n\n  Latex \n"))

    for resource in resources:
        assert_valid(resource)
    assert [r["code"] for r in resources] == [{"text": "Penicillin (rash)"}, {"text": "Latex"}]
    assert resources[0]["patient"] == {"reference": f"Patient/{ALICE}"}
    assert builders.allergy_intolerances(alice(allergies="  \n")) == []


def test_the_capability_statement_and_an_operation_outcome_are_valid_fhir():
    statement = services.capability_statement(base_url="https://myelin.test/fhir")
    outcome = services.operation_outcome("not-found", "Not found.")

    assert_valid(statement)
    assert_valid(outcome)
    assert statement["fhirVersion"] == "4.0.1"
    assert [r["type"] for r in statement["rest"][0]["resource"]] == ["Patient", "Group"]
