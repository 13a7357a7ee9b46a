"""DMT protocols as versioned, typed data, and a pure schedule engine (no Django imports).

Typical use::

    protocol = get_protocol("teriflunomide", "US", on=today)
    events = PlanEvents(first_dose_on=date(2026, 1, 5))
    items = schedule(protocol, events, horizon=today + timedelta(days=90))
    # upsert each item on (item.rule_key, item.anchor_on, item.occurrence)

Run the ``general`` protocol alongside the drug's, with the same events.
"""

from .engine import (
    ChecklistItem,
    DueItem,
    PlanEvents,
    add_months,
    add_period,
    baseline_checklist,
    restarts,
    schedule,
    triggered_conditions,
)
from .investigations import (
    CYP2C9_GENOTYPES,
    INVESTIGATIONS,
    Investigation,
    InvestigationKind,
    analytes_of,
    get_investigation,
    investigation_name,
)
from .registry import all_protocols, drug_keys, get_protocol, regions_for
from .schema import (
    AlertRule,
    Anchor,
    Applies,
    BaselineCheck,
    BsaDosing,
    Comparator,
    Condition,
    ConditionTrigger,
    CourseDelayLimit,
    CourseLimit,
    Criterion,
    DoseGate,
    DrugClass,
    EfficacyCategory,
    GateEvent,
    GenotypeDosing,
    Grade,
    MonitoringRule,
    PeriodUnit,
    PregnancyRule,
    PregnancyUse,
    Protocol,
    Region,
    RelativeTo,
    Route,
    TreatmentGap,
    Until,
)
from .serialisation import protocol_from_dict, protocol_to_dict
from .switching import WashoutGuidance, lymphocyte_recovery_needed, washout_guidance
from .validation import protocol_problems

__all__ = [
    "CYP2C9_GENOTYPES",
    "INVESTIGATIONS",
    "AlertRule",
    "Anchor",
    "Applies",
    "BaselineCheck",
    "BsaDosing",
    "ChecklistItem",
    "Comparator",
    "Condition",
    "ConditionTrigger",
    "CourseDelayLimit",
    "CourseLimit",
    "Criterion",
    "DoseGate",
    "DrugClass",
    "DueItem",
    "EfficacyCategory",
    "GateEvent",
    "GenotypeDosing",
    "Grade",
    "Investigation",
    "InvestigationKind",
    "MonitoringRule",
    "PeriodUnit",
    "PlanEvents",
    "PregnancyRule",
    "PregnancyUse",
    "Protocol",
    "Region",
    "RelativeTo",
    "Route",
    "TreatmentGap",
    "Until",
    "WashoutGuidance",
    "add_months",
    "add_period",
    "all_protocols",
    "analytes_of",
    "baseline_checklist",
    "drug_keys",
    "get_investigation",
    "get_protocol",
    "investigation_name",
    "lymphocyte_recovery_needed",
    "protocol_from_dict",
    "protocol_problems",
    "protocol_to_dict",
    "regions_for",
    "restarts",
    "schedule",
    "triggered_conditions",
    "washout_guidance",
]
