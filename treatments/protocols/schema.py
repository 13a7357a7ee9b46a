"""Typed, versioned protocol data for disease-modifying therapies (DMTs).

Everything here is a frozen dataclass of plain values (str, int, float, bool, date, tuples and
``StrEnum`` members) so a protocol version can be stored as JSON (see ``serialisation``) and
compared for equality. Section numbers in comments ("§3.15") point to the shared reference
``dmt-monitoring.md``; source tags ("US-PI §5", "EU-SmPC §4.4", "CK") follow its §0.1.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class Region(StrEnum):
    """Label region whose product information a protocol follows (§0.2)."""

    US = "US"
    EU = "EU"


class Anchor(StrEnum):
    """The plan event a monitoring rule counts from.

    ``EACH_DOSE`` and ``EACH_COURSE`` start one independent series per recorded event.
    ``LAST_DOSE`` starts a series at each dose or course too, but a series ends where the next
    dose starts: it models "before the next dose" duties, which a new dose supersedes.
    """

    FIRST_DOSE = "first_dose"
    EACH_DOSE = "each_dose"
    EACH_COURSE = "each_course"
    LAST_DOSE = "last_dose"
    STOP = "stop"
    RESTART = "restart"
    """The day the drug is taken again after an interruption that, by the rule's
    ``restart_after``, repeats the start-of-treatment duties (§3.6: fingolimod's first-dose
    observation)."""


class PeriodUnit(StrEnum):
    DAYS = "days"
    WEEKS = "weeks"
    MONTHS = "months"


class DrugClass(StrEnum):
    INTERFERON = "interferon"
    IMMUNOMODULATOR = "immunomodulator"
    DHODH_INHIBITOR = "dhodh_inhibitor"
    FUMARATE = "fumarate"
    S1P_MODULATOR = "s1p_modulator"
    ANTI_INTEGRIN = "anti_integrin"
    ANTI_CD20 = "anti_cd20"
    ANTI_CD52 = "anti_cd52"
    PURINE_ANALOGUE = "purine_analogue"
    CYTOTOXIC = "cytotoxic"
    CELL_THERAPY = "cell_therapy"
    """Autologous haematopoietic stem-cell transplantation (§3.19): a procedure, not a drug."""
    NONE = "none"


class Route(StrEnum):
    ORAL = "oral"
    SUBCUTANEOUS = "subcutaneous"
    INTRAMUSCULAR = "intramuscular"
    INTRAVENOUS = "intravenous"
    NONE = "none"


class EfficacyCategory(StrEnum):
    """UK/European split (§1, ABN-2024)."""

    MODERATE = "moderate"
    MODERATE_HIGH = "moderate_high"
    HIGH = "high"
    NOT_APPLICABLE = "not_applicable"


class Comparator(StrEnum):
    LT = "lt"
    LE = "le"
    GT = "gt"
    GE = "ge"
    EQ = "eq"
    NE = "ne"
    POSITIVE = "positive"
    NEGATIVE = "negative"
    ABNORMAL = "abnormal"
    NORMAL = "normal"
    DONE = "done"
    """A result or examination is on file (no value judgement)."""
    PRESENT = "present"
    """A clinical event was observed (used with ``AlertRule.event``)."""


class RelativeTo(StrEnum):
    """What an alert or gate threshold multiplies or is compared with."""

    ULN = "uln"
    LLN = "lln"
    BASELINE = "baseline"
    ABSOLUTE = "absolute"


class Grade(StrEnum):
    """Alert grades proposed in §0.3."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"
    GATE = "gate"


class Applies(StrEnum):
    """When in a plan's life an alert rule judges a result, by the date the sample was taken.

    A sample taken on the day of the first dose counts as before it (a pre-dose sample), as the
    evaluation's baseline does.
    """

    ALWAYS = "always"
    BEFORE_FIRST_DOSE = "before_first_dose"
    """Baseline rules: 'before starting, ...' (e.g. the fumarates' lymphocytes below LLN)."""
    AFTER_FIRST_DOSE = "after_first_dose"
    """Rules about harm from the drug, on treatment and after stopping (mitoxantrone's LVEF)."""


class GateEvent(StrEnum):
    """The event a dose gate must be satisfied before."""

    FIRST_DOSE = "first_dose"
    EACH_DOSE = "each_dose"
    EACH_COURSE = "each_course"


class Condition(StrEnum):
    """Patient facts that switch conditional monitoring rules on.

    The engine schedules a rule with a non-empty ``when`` only if the caller passes at least one
    of its conditions. Natalizumab's two PML categories are mutually exclusive: pass the one that
    applies (§4.2).
    """

    DIABETES_OR_UVEITIS = "diabetes_or_uveitis"
    """History of diabetes, uveitis or retinal disease (macular oedema risk on S1P modulators)."""
    THYROID_HISTORY = "thyroid_history"
    CARDIAC_RISK = "cardiac_risk"
    """Resting HR < 55, 1st/2nd-degree (Mobitz I) AV block, or history of MI or heart failure."""
    JCV_POSITIVE = "jcv_positive"
    """Natalizumab: JCV antibody positive, index <= 1.5 and no prior immunosuppressant."""
    PML_HIGH_RISK = "pml_high_risk"
    """Natalizumab: JCV positive with index > 1.5 or prior immunosuppressant (§4.2)."""
    FEMALE = "female"
    PROLONGED_QTC = "prolonged_qtc"
    """Baseline QTc above the protocol's ``condition_triggers`` limit (fingolimod: > 450 ms in
    men, > 470 ms in women; §3.6). Set from results, never typed on the plan."""


@dataclass(frozen=True, slots=True)
class Until:
    """A relative end: ``amount`` ``unit`` after the ``anchor`` event (inclusive).

    If ``anchor`` equals the rule's own anchor the end is relative to that series' anchor date;
    otherwise it is resolved from the plan (first dose, last dose or stop). An end relative to a
    stop that has not happened yet does not bound the series.
    """

    anchor: Anchor
    amount: int
    unit: PeriodUnit = PeriodUnit.MONTHS


@dataclass(frozen=True, slots=True)
class TreatmentGap:
    """An interruption that repeats the start-of-treatment duties when the drug is resumed.

    Days count from the first dose (day 1). A gap that began on a day from ``from_day`` to
    ``to_day`` (no end if None) and lasted at least ``min_days`` days without the drug counts.
    """

    from_day: int
    to_day: int | None
    min_days: int


@dataclass(frozen=True, slots=True)
class ConditionTrigger:
    """A baseline result that switches a condition on: the last value of ``analyte`` taken on or
    before the first dose meets ``comparator`` ``threshold`` (and is below ``below``, if set).

    ``sex`` limits the trigger to patients of that sex ("male" / "female"); a patient whose sex
    is not recorded as either is judged by every trigger, so the strictest limit applies.
    """

    condition: Condition
    analyte: str
    comparator: Comparator
    threshold: float
    unit: str
    source: str
    sex: str = ""
    below: float | None = None
    verify_note: str = ""


@dataclass(frozen=True, slots=True)
class BaselineCheck:
    investigation: str
    required_by_label: bool
    within_days: int | None = None
    """Maximum age of the result before the first dose, or None if the label sets none."""
    note: str = ""
    source: str = ""


@dataclass(frozen=True, slots=True)
class MonitoringRule:
    """A recurring or one-off monitoring duty, anchored to a plan event.

    Items fall at ``anchor + offset`` for each of ``offsets`` and then every ``repeat_every``
    units from ``repeat_start`` (default: last offset + interval). ``occurrence`` of an item is its
    offset in ``unit`` ("month 3" is occurrence 3), so the same duty keeps its identity when the
    schedule is recomputed.
    """

    key: str
    investigation: str
    anchor: Anchor
    text: str
    sources: tuple[str, ...]
    unit: PeriodUnit = PeriodUnit.MONTHS
    offsets: tuple[int, ...] = ()
    repeat_every: int | None = None
    repeat_start: int | None = None
    interval_setting: str | None = None
    """Name of an engine parameter that supplies ``repeat_every`` (e.g. the review interval)."""
    until: Until | None = None
    window_before_days: int = 7
    window_after_days: int = 7
    survives_stop: bool = False
    when: tuple[Condition, ...] = ()
    anchor_limit: int | None = None
    """Only the first N anchor events start a series (e.g. "before course 2" only after course 1)."""
    anchor_merge_days: int = 0
    """Doses within this many days of the previous counted dose belong to the same administration
    (a split first dose, a 5-day course); they do not start a series of their own."""
    verify_note: str = ""
    restart_after: tuple[TreatmentGap, ...] = ()
    """For ``Anchor.RESTART``: the interruptions after which the rule starts again."""

    @property
    def is_recurring(self) -> bool:
        return self.repeat_every is not None or self.interval_setting is not None


@dataclass(frozen=True, slots=True)
class DoseGate:
    """A precondition before a dose or course: the result must satisfy the comparison."""

    investigation: str
    comparator: Comparator
    before: GateEvent
    text: str
    source: str
    analyte: str | None = None
    threshold: float | str | None = None
    relative_to: RelativeTo = RelativeTo.ABSOLUTE
    unit: str = ""
    within_days: int | None = None
    from_occurrence: int = 1
    to_occurrence: int | None = None
    verify_note: str = ""


@dataclass(frozen=True, slots=True)
class Criterion:
    analyte: str
    comparator: Comparator
    threshold: float | str | None = None
    relative_to: RelativeTo = RelativeTo.ABSOLUTE


@dataclass(frozen=True, slots=True)
class AlertRule:
    """A value or event that should raise an alert of ``grade``.

    ``analyte`` is an investigation key; for clinical events without a lab value (suspected PML,
    anaphylaxis) ``analyte`` is None and ``event`` describes the trigger. ``also`` holds extra
    criteria that must all hold at the same time (e.g. bilirubin in Hy's law).
    """

    key: str
    comparator: Comparator
    grade: Grade
    action: str
    source: str
    analyte: str | None = None
    threshold: float | str | None = None
    relative_to: RelativeTo = RelativeTo.ABSOLUTE
    unit: str = ""
    persistence: str = ""
    persistence_days: int | None = None
    also: tuple[Criterion, ...] = ()
    event: str = ""
    verify_note: str = ""
    applies: Applies = Applies.ALWAYS
    at_rule: str = ""
    """Only a result for this monitoring rule is judged: one that closed its item, or one taken
    within the window of one of its items (e.g. cladribine's month-2 lymphocyte count)."""
    at_occurrence: int | None = None
    """With ``at_rule``: only that occurrence of the rule (2 = "month 2")."""


class PregnancyUse(StrEnum):
    """What the label says about starting or giving the drug during pregnancy (§6)."""

    CONTRAINDICATED = "contraindicated"
    AVOID = "avoid"
    """'Avoid' or 'not recommended unless clearly needed'."""
    ALLOWED = "allowed"
    """May be started or continued where clinically needed."""


@dataclass(frozen=True, slots=True)
class PregnancyRule:
    """Pregnancy and contraception as gates (§6): a recorded pregnancy refuses a drug that is
    contraindicated or to be avoided in pregnancy; a drug that needs contraception asks for it
    at the start."""

    use: PregnancyUse
    source: str
    contraception: str = ""
    """What contraception the label asks for, for how long ("" when none is needed)."""
    contraception_for_men: bool = False
    verify_note: str = ""


@dataclass(frozen=True, slots=True)
class CourseLimit:
    """A drug given as a fixed number of treatment courses: one more is refused (§3.16)."""

    max_courses: int
    text: str
    source: str
    verify_note: str = ""


@dataclass(frozen=True, slots=True)
class CourseDelayLimit:
    """Course ``course`` is planned ``interval_months`` after the previous course and may wait
    at most ``max_delay_months`` beyond that for ``analyte`` to recover to ``threshold``; if it
    has not recovered by then, no further course is given (cladribine course 2, §3.16)."""

    course: int
    interval_months: int
    max_delay_months: int
    analyte: str
    threshold: float
    unit: str
    text: str
    source: str
    window_days_before: int = 0
    """A count taken up to this many days before the planned date shows recovery in time (the
    course gate's own window)."""
    verify_note: str = ""


@dataclass(frozen=True, slots=True)
class BsaDosing:
    """Every dose is recorded in mg/m² of body-surface area; a dose that would take the lifetime
    cumulative dose past ``max_cumulative_mg_m2`` is refused (mitoxantrone, §3.17)."""

    usual_mg_m2: float
    max_cumulative_mg_m2: float
    text: str
    source: str
    verify_note: str = ""


@dataclass(frozen=True, slots=True)
class GenotypeDosing:
    """What a genotype result means for the titration and the maintenance dose (siponimod and
    CYP2C9, §3.7). A contraindicated genotype is refused by the protocol's dose gate."""

    genotypes: tuple[str, ...]
    titration: str
    maintenance: str
    source: str
    contraindicated: bool = False


@dataclass(frozen=True, slots=True)
class Protocol:
    drug_key: str
    drug_name: str
    label_region: Region
    version: str
    effective_from: date
    drug_class: DrugClass
    route: Route
    schedule_text: str
    efficacy_category: EfficacyCategory
    brands: tuple[str, ...] = ()
    atc_current: str = ""
    atc_former: str = ""
    atc_verified: bool = False
    sources: tuple[str, ...] = ()
    baseline_checks: tuple[BaselineCheck, ...] = ()
    monitoring_rules: tuple[MonitoringRule, ...] = ()
    dose_gates: tuple[DoseGate, ...] = ()
    alert_rules: tuple[AlertRule, ...] = ()
    side_effects: tuple[str, ...] = ()
    visit_checks: tuple[str, ...] = ()
    """Checks at every contact or dose that are not dated items (mood screen, infection check)."""
    switching_notes: str = ""
    pregnancy_notes: str = ""
    interaction_notes: str = ""
    notes: tuple[str, ...] = ()
    """Deliberate choices and caveats that are not tied to one rule."""
    condition_triggers: tuple[ConditionTrigger, ...] = ()
    """Results that switch conditional rules on (e.g. a prolonged baseline QTc)."""
    has_courses: bool = False
    has_doses: bool = False
    min_dose_interval_days: int | None = None
    authorised_in_region: bool = True
    # Label rules that are gates at the point of action (added 2026.1, issue #14); defaults
    # keep versions stored before them loadable.
    min_dose_interval_source: str = ""
    min_dose_interval_verify_note: str = ""
    split_first_dose_days: int = 0
    """A split first dose (day 1 and day 15) is one administration: its second infusion may
    follow the first within this many days, whatever the minimum interval."""
    pregnancy: PregnancyRule | None = None
    course_limit: CourseLimit | None = None
    course_delay: CourseDelayLimit | None = None
    bsa_dosing: BsaDosing | None = None
    genotype_investigation: str = ""
    genotype_dosing: tuple[GenotypeDosing, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.drug_key} {self.label_region} v{self.version}"

    def rule(self, key: str) -> MonitoringRule:
        for rule in self.monitoring_rules:
            if rule.key == key:
                return rule
        raise KeyError(f"{self.label} has no monitoring rule {key!r}")
