"""FHIR export fixtures: Alice Archer (team A) with fifteen years of care, and the checks every
exported resource must pass."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class

from clinic.accounts.models import User
from patients.models import Patient
from tests.treatments.fhir.history import Cast, build_history

# The required value sets of the elements the export fills (FHIR R4): fhir.resources checks
# types, cardinality and invariants, not these bindings, so the tests check them here.
REQUIRED_CODES: dict[tuple[str, str], set[str]] = {
    ("Observation", "status"): {
        "registered", "preliminary", "final", "amended", "corrected", "cancelled",
        "entered-in-error", "unknown",
    },
    ("MedicationStatement", "status"): {
        "active", "completed", "entered-in-error", "intended", "stopped", "on-hold", "unknown",
        "not-taken",
    },
    ("ServiceRequest", "status"): {
        "draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown",
    },
    ("ServiceRequest", "intent"): {
        "proposal", "plan", "directive", "order", "original-order", "reflex-order",
        "filler-order", "instance-order", "option",
    },
    ("ServiceRequest", "priority"): {"routine", "urgent", "asap", "stat"},
    ("Patient", "gender"): {"male", "female", "other", "unknown"},
}  # fmt: skip
CONDITION_CLINICAL = {"active", "recurrence", "relapse", "inactive", "remission", "resolved"}


def assert_valid(resource: dict[str, Any]) -> Any:
    """Parse `resource` with fhir.resources (FHIR R4B models: the R4 resources the export
    writes are unchanged in R4B) after a trip through JSON, and check the required codes."""
    text = json.dumps(resource)  # a Decimal or a date object left in would fail here
    kind = resource["resourceType"]
    model = get_fhir_model_class(kind).model_validate_json(text)
    for (owner, element), allowed in REQUIRED_CODES.items():
        if owner == kind and element in resource:
            assert resource[element] in allowed, f"{kind}.{element} = {resource[element]}"
    if kind == "Condition":
        assert resource["clinicalStatus"]["coding"][0]["code"] in CONDITION_CLINICAL
    return model


@pytest.fixture
def cast_a(neurologist: User, nurse: User, therapist: User) -> Cast:
    return Cast(neurologist, nurse, therapist)


@pytest.fixture
def long_history(patient_a: Patient, cast_a: Cast) -> Patient:
    """Alice Archer after fifteen years in the clinic."""
    return build_history(patient_a, cast_a, years=15)


@pytest.fixture
def some_history(patient_a: Patient, cast_a: Cast) -> Patient:
    """Alice Archer after two years: one of every kind of record, quicker to build."""
    return build_history(patient_a, cast_a, years=2)
