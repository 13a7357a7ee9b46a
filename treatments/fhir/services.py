"""The FHIR export: one patient's record as a Bundle ($everything), a care team's records as
NDJSON (a synchronous Group $export), and the server's CapabilityStatement.

Reads only. Every disclosure is recorded in the access trail before its data leaves: one entry
for a patient's Bundle (written by `get_scoped_or_404` in the view), one entry per patient of
each chunk of a bulk export, written before that chunk's lines are sent.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator
from itertools import batched
from typing import TYPE_CHECKING, Final

from django.utils import timezone

from clinic.audit import services as audit
from clinic.audit.models import Action, Category
from patients.models import Patient
from treatments.fhir import builders, observations
from treatments.fhir.datatypes import Json
from treatments.fhir.records import PatientRecords, records_of, with_records

if TYPE_CHECKING:
    from clinic.accounts.models import CareTeam, User

FHIR_VERSION: Final = "4.0.1"
JSON_TYPE: Final = "application/fhir+json; charset=utf-8"
NDJSON_TYPE: Final = "application/fhir+ndjson; charset=utf-8"

# What the export writes, in the order a patient's resources come.
RESOURCE_TYPES: Final = (
    "Patient",
    "Condition",
    "MedicationStatement",
    "Observation",
    "ServiceRequest",
    "AllergyIntolerance",
)

# Patients loaded (with all their records, in one query) per step of a bulk export: the memory
# a bulk export holds is one chunk's, whatever the size of the team.
EXPORT_CHUNK: Final = 20


def patient_resources(records: PatientRecords) -> Iterator[Json]:
    """Every resource of one patient: the patient, conditions, medications, observations,
    referrals, allergies."""
    patient, history = records.patient, records.history
    yield builders.patient_resource(patient)
    diagnosis = builders.multiple_sclerosis_condition(patient, history)
    if diagnosis is not None:
        yield diagnosis
    for state in history.course_states:
        yield builders.course_condition(patient, state)
    for relapse in history.relapses:
        yield builders.relapse_condition(patient, relapse)
    for plan in records.plans:
        yield builders.dmt_medication_statement(patient, plan)
    for treatment in records.symptomatic:
        yield builders.treatment_medication_statement(patient, treatment)
    for assessment in history.edss:
        yield observations.edss_observation(patient, assessment)
    for study in history.mri:
        yield observations.mri_observation(patient, study)
    for loaded in records.results:
        yield from observations.result_observations(patient, loaded.result, loaded.values)
    for measurement in records.outcomes:
        yield observations.outcome_observation(patient, measurement)
    for referral in records.referrals:
        yield builders.referral_service_request(patient, referral)
    yield from builders.allergy_intolerances(patient)


def everything_bundle(records: PatientRecords, *, base_url: str, self_url: str) -> Json:
    """Patient/$everything: a searchset Bundle whose match is the patient and whose other
    entries are included with it. Only the patient can be read on its own here, so the other
    resources are named by their UUID (`urn:uuid:`)."""
    now = timezone.now().isoformat()
    entries = []
    for resource in patient_resources(records):
        if resource["resourceType"] == "Patient":
            full_url, mode = f"{base_url}/Patient/{resource['id']}", "match"
        else:
            full_url, mode = f"urn:uuid:{resource['id']}", "include"
        entries.append({"fullUrl": full_url, "resource": resource, "search": {"mode": mode}})
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": {"lastUpdated": now},
        "type": "searchset",
        "timestamp": now,
        "link": [{"relation": "self", "url": self_url}],
        "entry": entries,
    }


def team_export_lines(
    *, user: User, team: CareTeam, types: Iterable[str] = RESOURCE_TYPES
) -> Iterator[str]:
    """The care team's patients that `user` may see, each followed by its records, one resource
    per line (NDJSON), in name order. Lazy: each chunk of patients is loaded, recorded in the
    access trail, and sent before the next is read."""
    wanted = frozenset(types)
    scoped = Patient.objects.visible_to(user).filter(care_team=team)
    ids = list(scoped.order_by("family_name", "given_name", "id").values_list("pk", flat=True))
    detail = f"FHIR bulk export of care team {team.pk}: {', '.join(sorted(wanted))}"
    for chunk in batched(ids, EXPORT_CHUNK, strict=False):
        # Scoped again: a patient moved to another team since the list was read is left out.
        patients = list(
            with_records(scoped.filter(pk__in=chunk)).order_by("family_name", "given_name", "id")
        )
        audit.record_many(
            user=user,
            entries=[
                audit.Entry(patient.pk, Action.EXPORT, Category.CLINICAL, detail=detail)
                for patient in patients
            ],
        )
        for patient in patients:
            for resource in patient_resources(records_of(patient)):
                if resource["resourceType"] in wanted:
                    yield ndjson_line(resource)


def ndjson_line(resource: Json) -> str:
    return json.dumps(resource, ensure_ascii=False, separators=(",", ":")) + "\n"


def to_json(resource: Json) -> str:
    return json.dumps(resource, ensure_ascii=False, separators=(",", ":"))


def capability_statement(*, base_url: str) -> Json:
    """What this server does: read a Patient, Patient/$everything, and a care team's records
    with Group/$export (synchronous NDJSON, see the README)."""
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": timezone.localdate().isoformat(),
        "publisher": "Myelin",
        "kind": "instance",
        "software": {"name": "Myelin"},
        "implementation": {
            "description": "Myelin: read-only FHIR R4 export of MS clinic records",
            "url": base_url,
        },
        "fhirVersion": FHIR_VERSION,
        "format": ["json"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "description": (
                        "A signed-in session, or a personal API token (Authorization: Bearer) "
                        "created on the account page. Every read is limited to the user's care "
                        "teams and recorded in the access trail."
                    )
                },
                "resource": [
                    {
                        "type": "Patient",
                        "interaction": [{"code": "read"}],
                        "operation": [
                            {
                                "name": "everything",
                                "definition": (
                                    "http://hl7.org/fhir/OperationDefinition/Patient-everything"
                                ),
                            }
                        ],
                    },
                    {
                        "type": "Group",
                        "operation": [
                            {
                                "name": "export",
                                "definition": (
                                    "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/"
                                    "group-export"
                                ),
                            }
                        ],
                    },
                ],
            }
        ],
    }


def operation_outcome(code: str, diagnostics: str) -> Json:
    """An error as FHIR says it: `code` from the IssueType value set (login, forbidden,
    not-found, not-supported, invalid)."""
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": diagnostics}],
    }
