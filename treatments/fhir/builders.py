"""FHIR R4 resources from Myelin's rows: one function per resource type, no queries.

Observations (EDSS, MRI, labs, outcome measures) are in `observations.py`. What each code means
and where it comes from is in `codes.py`.
"""

from __future__ import annotations

from django.conf import settings

from patients.models import CourseState, DiseaseCourse, Patient, Referral, Relapse
from patients.models.clinical import Recovery, RelapseTreatment, Severity
from patients.models.patient import PatientStatus
from patients.models.referrals import ReferralDiscipline, ReferralState, Urgency
from patients.records.services import ClinicalHistory
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
    resource_id,
)
from treatments.models import DmtPlan, SymptomaticTreatment
from treatments.models.plans import PlanStatus, StopReason
from treatments.models.symptomatic import Indication, TreatmentKind

# ---------------------------------------------------------------------------------------------
# Patient
# ---------------------------------------------------------------------------------------------


def patient_resource(patient: Patient) -> Json:
    """The patient, named by their external id (never the database key)."""
    resource: Json = {
        "resourceType": "Patient",
        "id": str(patient.external_id),
        "meta": {"lastUpdated": instant(patient.updated_at)},
        "identifier": [
            {
                "use": "usual",
                "type": concept(
                    coding(codes.IDENTIFIER_TYPE, "MR", "Medical record number"), text="MRN"
                ),
                "system": settings.FHIR_MRN_SYSTEM,
                "value": patient.mrn,
            }
        ],
        # A transferred patient's record is no longer in active use here.
        "active": patient.status == PatientStatus.ACTIVE,
        "name": [{"use": "official", "family": patient.family_name, "given": [patient.given_name]}],
        # Myelin's sexes are FHIR's administrative genders, value for value.
        "gender": patient.sex,
        "birthDate": day(patient.date_of_birth),
    }
    telecom = []
    if patient.phone:
        telecom.append({"system": "phone", "value": patient.phone})
    if patient.email:
        telecom.append({"system": "email", "value": patient.email})
    if telecom:
        resource["telecom"] = telecom
    if patient.status == PatientStatus.DECEASED:
        resource["deceasedBoolean"] = True
    if patient.address.strip():
        resource["address"] = [{"text": patient.address.strip()}]
    return resource


# ---------------------------------------------------------------------------------------------
# Conditions: multiple sclerosis, its course states, relapses
# ---------------------------------------------------------------------------------------------

_MS_COURSES = frozenset({DiseaseCourse.RRMS, DiseaseCourse.SPMS, DiseaseCourse.PPMS})
_PROBLEM_LIST = category(codes.CONDITION_CATEGORY, "problem-list-item", "Problem List Item")
_CONFIRMED = concept(coding(codes.CONDITION_VERIFICATION, "confirmed", "Confirmed"))


def _clinical_status(code: str) -> Json:
    return concept(coding(codes.CONDITION_CLINICAL, code, code.capitalize()))


def course_concept(course: str) -> Json:
    """A disease course: SNOMED CT where §11.3 confirms one (RRMS, SPMS, PPMS), else Myelin's
    own code (CIS and RIS have none there)."""
    label = DiseaseCourse(course).label
    snomed = DiseaseCourse(course).snomed_code
    if snomed:
        return concept(coding(codes.SNOMED, snomed), text=label)
    return concept(coding(codes.ASSESSMENT, course, label), text=label)


def multiple_sclerosis_condition(patient: Patient, history: ClinicalHistory) -> Json | None:
    """The diagnosis: multiple sclerosis, with its onset and its current course as the stage.
    None while the patient has no MS diagnosis (only CIS or RIS, or nothing recorded)."""
    ms_states = [s for s in history.course_states if s.course in _MS_COURSES]
    if not ms_states and patient.diagnosis_on is None:
        return None
    resource: Json = {
        "resourceType": "Condition",
        "id": resource_id("condition-ms", patient.external_id),
        "clinicalStatus": _clinical_status("active"),
        "verificationStatus": _CONFIRMED,
        "category": _PROBLEM_LIST,
        "code": concept(
            coding(codes.SNOMED, codes.MULTIPLE_SCLEROSIS_SNOMED, "Multiple sclerosis"),
            coding(codes.ICD10, codes.MULTIPLE_SCLEROSIS_ICD10, "Multiple sclerosis"),
            text="Multiple sclerosis",
        ),
        "subject": patient_reference(patient.external_id),
    }
    onset = patient.diagnosis_on or min(s.start_on for s in ms_states)
    resource["onsetDateTime"] = day(onset)
    current = history.current_course
    if current is not None:
        resource["stage"] = [{"summary": course_concept(current.course)}]
    return resource


def course_condition(patient: Patient, state: CourseState) -> Json:
    """One dated state of the disease course, from its start to its end (open while current)."""
    resource: Json = {
        "resourceType": "Condition",
        "id": resource_id("condition-course", state.pk),
        "clinicalStatus": _clinical_status("active" if state.end_on is None else "inactive"),
        "verificationStatus": _CONFIRMED,
        "category": _PROBLEM_LIST,
        "code": course_concept(state.course),
        "subject": patient_reference(patient.external_id),
        "onsetDateTime": day(state.start_on),
        "recordedDate": instant(state.recorded_at),
    }
    if state.end_on is not None:
        resource["abatementDateTime"] = day(state.end_on)
    if state.note:
        resource["note"] = note(state.note)
    return resource


def relapse_condition(patient: Patient, relapse: Relapse) -> Json:
    code, display = codes.RELAPSE_CODE
    snomed, severity_display = codes.SEVERITY_SNOMED[relapse.severity]
    facts = [
        f"Severity: {Severity(relapse.severity).label}.",
        "Confirmed on examination."
        if relapse.objectively_confirmed
        else "Not confirmed on examination.",
        "Infection excluded." if relapse.infection_excluded else "Infection not excluded.",
        f"Treatment: {RelapseTreatment(relapse.treatment).label}.",
        f"Recovery: {Recovery(relapse.recovery).label}.",
    ]
    if relapse.functional_systems:
        facts.insert(0, "Functional systems: " + ", ".join(relapse.functional_system_labels) + ".")
    resource: Json = {
        "resourceType": "Condition",
        "id": resource_id("condition-relapse", relapse.pk),
        "clinicalStatus": _clinical_status("active" if relapse.end_on is None else "resolved"),
        "verificationStatus": _CONFIRMED,
        "category": _PROBLEM_LIST,
        "severity": concept(coding(codes.SNOMED, snomed, severity_display)),
        "code": concept(coding(codes.ASSESSMENT, code, display), text=display),
        "subject": patient_reference(patient.external_id),
        "onsetDateTime": day(relapse.onset_on),
        "recordedDate": instant(relapse.recorded_at),
        "note": note(relapse.symptoms, " ".join(facts)),
    }
    if relapse.end_on is not None:
        resource["abatementDateTime"] = day(relapse.end_on)
    return resource


# ---------------------------------------------------------------------------------------------
# Medications: DMT plans, symptomatic and relapse treatments
# ---------------------------------------------------------------------------------------------

_PLAN_STATUS = {
    PlanStatus.PLANNED: "intended",
    PlanStatus.ACTIVE: "active",
    PlanStatus.SUSPENDED: "on-hold",
    PlanStatus.STOPPED: "stopped",
}


def dmt_concept(drug_key: str, drug_name: str) -> Json:
    """The drug: its ATC code where the catalogue marks it verified, and Myelin's drug key."""
    found = []
    atc = codes.VERIFIED_ATC.get(drug_key)
    if atc:
        found.append(coding(codes.ATC, atc))
    found.append(coding(codes.DMT, drug_key, drug_name))
    return concept(*found, text=drug_name)


def dmt_medication_statement(patient: Patient, plan: DmtPlan) -> Json:
    """One DMT plan: one course of one drug, from its start to its stop."""
    resource: Json = {
        "resourceType": "MedicationStatement",
        "id": resource_id("dmt-plan", plan.pk),
        "status": _PLAN_STATUS[PlanStatus(plan.status)],
        "medicationCodeableConcept": dmt_concept(plan.drug_key, plan.drug_name),
        "subject": patient_reference(patient.external_id),
        "dateAsserted": instant(plan.created_at),
    }
    if plan.started_on is not None:
        period = {"start": day(plan.started_on)}
        if plan.stopped_on is not None:
            period["end"] = day(plan.stopped_on)
        resource["effectivePeriod"] = period
    if plan.stop_reason:
        label = StopReason(plan.stop_reason).label
        resource["statusReason"] = [
            concept(coding(codes.STOP_REASON, plan.stop_reason, label), text=label)
        ]
    notes = [f"Planned on {plan.planned_on:%d %b %Y}."]
    if plan.suspended_on is not None:
        notes.append(f"Suspended on {plan.suspended_on:%d %b %Y}: {plan.suspend_reason}".strip())
    notes.append(plan.stop_note)
    if plan.baseline_override_reason:
        notes.append(f"Started with baseline checks outstanding: {plan.baseline_override_reason}")
    resource["note"] = note(*notes)
    return resource


def treatment_medication_statement(patient: Patient, treatment: SymptomaticTreatment) -> Json:
    """A symptomatic or relapse treatment (free-text drug: no code)."""
    ongoing = treatment.stopped_on is None
    indication = Indication(treatment.indication).label
    kind = TreatmentKind(treatment.kind).label
    resource: Json = {
        "resourceType": "MedicationStatement",
        "id": resource_id("treatment", treatment.pk),
        "status": "active" if ongoing else "completed",
        "category": concept(coding(codes.TREATMENT_KIND, treatment.kind, kind), text=kind),
        "medicationCodeableConcept": concept(text=treatment.drug),
        "subject": patient_reference(patient.external_id),
        "effectivePeriod": {"start": day(treatment.started_on)},
        "dateAsserted": instant(treatment.recorded_at),
        "reasonCode": [
            concept(coding(codes.INDICATION, treatment.indication, indication), text=indication)
        ],
    }
    if treatment.stopped_on is not None:
        resource["effectivePeriod"]["end"] = day(treatment.stopped_on)
    if treatment.dose:
        resource["dosage"] = [{"text": treatment.dose}]
    if treatment.note:
        resource["note"] = note(treatment.note)
    return resource


# ---------------------------------------------------------------------------------------------
# Referrals
# ---------------------------------------------------------------------------------------------

_REFERRAL_STATUS = {
    ReferralState.SENT: "active",
    ReferralState.TRIAGED: "active",
    ReferralState.ACCEPTED: "active",
    ReferralState.SCHEDULED: "active",
    ReferralState.IN_PROGRESS: "active",
    ReferralState.COMPLETED: "completed",
    ReferralState.ACKNOWLEDGED: "completed",
    # Ended before the service was given, by either side.
    ReferralState.DECLINED: "revoked",
    ReferralState.CANCELLED: "revoked",
}
# FHIR's priorities climb routine < urgent < asap; Myelin's "soon" sits between its routine and
# urgent, so each takes the FHIR step of the same rank.
_PRIORITY = {Urgency.ROUTINE: "routine", Urgency.SOON: "urgent", Urgency.URGENT: "asap"}


def referral_service_request(patient: Patient, referral: Referral) -> Json:
    discipline = ReferralDiscipline(referral.discipline).label
    resource: Json = {
        "resourceType": "ServiceRequest",
        "id": str(referral.external_id),
        "status": _REFERRAL_STATUS[ReferralState(referral.state)],
        "intent": "order",
        "priority": _PRIORITY[Urgency(referral.urgency)],
        "code": concept(
            coding(codes.REFERRAL_DISCIPLINE, referral.discipline, discipline),
            text=f"Referral to {discipline.lower()}",
        ),
        "subject": patient_reference(patient.external_id),
        "authoredOn": instant(referral.sent_at),
        "reasonCode": [concept(text=referral.reason)],
    }
    if referral.scheduled_on is not None:
        resource["occurrenceDateTime"] = day(referral.scheduled_on)
    notes = [f"State: {ReferralState(referral.state).label}."]
    if referral.decline_reason:
        notes.append(f"Declined: {referral.decline_reason}")
    if referral.cancel_reason:
        notes.append(f"Cancelled: {referral.cancel_reason}")
    if referral.summary:
        notes.append(f"Summary: {referral.summary}")
    resource["note"] = note(*notes)
    return resource


# ---------------------------------------------------------------------------------------------
# Allergies
# ---------------------------------------------------------------------------------------------


def allergy_intolerances(patient: Patient) -> list[Json]:
    """The patient's allergies are free text, one per line: one AllergyIntolerance each, with
    the text as written (no code is guessed from it)."""
    lines = [line.strip() for line in patient.allergies.splitlines() if line.strip()]
    return [
        {
            "resourceType": "AllergyIntolerance",
            "id": resource_id("allergy", patient.external_id, number, line),
            "clinicalStatus": concept(coding(codes.ALLERGY_CLINICAL, "active", "Active")),
            "code": concept(text=line),
            "patient": patient_reference(patient.external_id),
        }
        for number, line in enumerate(lines, start=1)
    ]
