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
from patients.models.referrals import (
    TRANSITIONS,
    Referral,
    ReferralDiscipline,
    ReferralEvent,
    ReferralQuerySet,
    ReferralState,
    ReferralTarget,
    Transition,
    Urgency,
)

__all__ = [
    "MRN_PATTERN",
    "TRANSITIONS",
    "EmergencyAccess",
    "Patient",
    "PatientQuerySet",
    "PatientStatus",
    "PregnancyStatus",
    "Referral",
    "ReferralDiscipline",
    "ReferralEvent",
    "ReferralQuerySet",
    "ReferralState",
    "ReferralTarget",
    "Sex",
    "SmokingStatus",
    "Transition",
    "Urgency",
    "validate_mrn",
]
