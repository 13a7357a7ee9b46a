"""Patients app models, split by sub-domain. Import models from here."""

from patients.models.patient import (
    MRN_PATTERN,
    EmergencyAccess,
    Patient,
    PatientQuerySet,
    PatientStatus,
    PregnancyStatus,
    Sex,
    SmokingStatus,
    validate_mrn,
)

__all__ = [
    "MRN_PATTERN",
    "EmergencyAccess",
    "Patient",
    "PatientQuerySet",
    "PatientStatus",
    "PregnancyStatus",
    "Sex",
    "SmokingStatus",
    "validate_mrn",
]
