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
