"""Treatments app models, split by sub-domain. Import models from here."""

from treatments.models.alerts import (
    ACTIVE_STATUSES,
    GRADE_RANK,
    Alert,
    AlertGrade,
    AlertKind,
    AlertQuerySet,
    AlertStatus,
)
from treatments.models.alerts_digest import DigestLog

__all__ = [
    "ACTIVE_STATUSES",
    "GRADE_RANK",
    "Alert",
    "AlertGrade",
    "AlertKind",
    "AlertQuerySet",
    "AlertStatus",
    "DigestLog",
]

from treatments.models.rehab import (
    ChangeDirection,
    Frequency,
    Intervention,
    OutcomeMeasurement,
    PlanProgress,
    RehabSession,
    SessionSetting,
    TherapyPlan,
)

__all__ += [
    "ChangeDirection",
    "Frequency",
    "Intervention",
    "OutcomeMeasurement",
    "PlanProgress",
    "RehabSession",
    "SessionSetting",
    "TherapyPlan",
]
