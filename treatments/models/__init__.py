"""Treatments app models, split by sub-domain. Import models from here."""

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

__all__: list[str] = [
    # rehab
    "ChangeDirection",
    "Frequency",
    "Intervention",
    "OutcomeMeasurement",
    "PlanProgress",
    "RehabSession",
    "SessionSetting",
    "TherapyPlan",
]
