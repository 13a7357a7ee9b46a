"""Treatments app models, split by sub-domain. Import models from here."""

from treatments.models.catalogue import (
    GENERAL_DRUG_KEY,
    ClinicSettings,
    ProtocolVersion,
    ProtocolVersionQuerySet,
    Region,
)
from treatments.models.monitoring import (
    DONE_STATUSES,
    OPEN_STATUSES,
    SETTLED_STATUSES,
    CarePlan,
    ItemStatus,
    MonitoringItem,
    MonitoringItemQuerySet,
)
from treatments.models.plans import (
    CURRENT_STATUSES,
    PLAN_CONDITION_CHOICES,
    AdministrationKind,
    BaselineCheckRecord,
    DmtAdministration,
    DmtPlan,
    DmtPlanQuerySet,
    PlanStatus,
    StopReason,
)
from treatments.models.results import Flag, QualitativeValue, Result, ResultQuerySet, ResultValue
from treatments.models.symptomatic import Indication, SymptomaticTreatment, TreatmentKind

__all__ = [
    "CURRENT_STATUSES",
    "DONE_STATUSES",
    "GENERAL_DRUG_KEY",
    "OPEN_STATUSES",
    "PLAN_CONDITION_CHOICES",
    "SETTLED_STATUSES",
    "AdministrationKind",
    "BaselineCheckRecord",
    "CarePlan",
    "ClinicSettings",
    "DmtAdministration",
    "DmtPlan",
    "DmtPlanQuerySet",
    "Flag",
    "Indication",
    "ItemStatus",
    "MonitoringItem",
    "MonitoringItemQuerySet",
    "PlanStatus",
    "ProtocolVersion",
    "ProtocolVersionQuerySet",
    "QualitativeValue",
    "Region",
    "Result",
    "ResultQuerySet",
    "ResultValue",
    "StopReason",
    "SymptomaticTreatment",
    "TreatmentKind",
]
