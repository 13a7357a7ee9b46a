"""The infusion day's catalogue entry per intravenous drug: the questions asked before each
infusion, the pre-medication, the observation period after it, the plausible ranges of the vital
signs and the grades of an infusion reaction (§3.10, §3.11, §3.13-§3.15, §3.17), each sourced.

Plain data, no Django: `treatments.infusions` builds the checklist from it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PreInfusionQuestion:
    """Asked before each infusion; "yes" stops the infusion until a neurologist decides."""

    key: str
    text: str
    if_yes: str
    source: str


@dataclass(frozen=True, slots=True)
class PreMedication:
    key: str
    text: str
    required: bool
    """False: "consider" in the label (the answer is still recorded)."""
    source: str
    course_days: int | None = None
    """Given only on the first N days of each course (alemtuzumab's methylprednisolone)."""

    def required_on(self, course_day: int | None) -> bool:
        if not self.required:
            return False
        return self.course_days is None or course_day is None or course_day <= self.course_days


@dataclass(frozen=True, slots=True)
class Observation:
    minutes: int
    text: str
    source: str
    first_infusions: int | None = None
    """Only after the first N infusions of the plan (natalizumab: 6; ublituximab: 2)."""

    def minutes_for(self, infusion_number: int) -> int:
        if self.first_infusions is not None and infusion_number > self.first_infusions:
            return 0
        return self.minutes


@dataclass(frozen=True, slots=True)
class VitalSign:
    """A vital sign typed before and after the infusion. The range is what can be typed at all
    (a typo guard), not a clinical threshold."""

    key: str
    label: str
    unit: str
    low: float
    high: float
    decimals: int = 0


@dataclass(frozen=True, slots=True)
class ReactionGrade:
    grade: int
    text: str


@dataclass(frozen=True, slots=True)
class InfusionDay:
    drug_keys: tuple[str, ...]
    questions: tuple[PreInfusionQuestion, ...]
    premedications: tuple[PreMedication, ...]
    observation: Observation
    notes: tuple[str, ...] = ()


NEURO = PreInfusionQuestion(
    "new_neuro",
    "New or worsening neurological symptoms since the last infusion?",
    "Withhold the infusion; the neurologist decides (urgent MRI if PML is possible).",
    "US-PI §5; EU-SmPC §4.4 (clinical PML check before every dose)",
)
INFECTION = PreInfusionQuestion(
    "infection",
    "Signs or symptoms of an active infection today?",
    "Delay the infusion until the infection has resolved.",
    "US-PI §2 (anti-CD20: active-infection check before every dose); CK",
)
PREGNANCY = PreInfusionQuestion(
    "pregnancy",
    "Could the patient be pregnant (or is a pregnancy test positive)?",
    "Do not infuse until the neurologist has reviewed the pregnancy question.",
    "US-PI §5 (mitoxantrone, ublituximab: pregnancy test before each dose); §6; CK",
)
QUESTIONS = (NEURO, INFECTION, PREGNANCY)

ANTIPYRETIC = PreMedication(
    "antipyretic", "Antipyretic (e.g. paracetamol), consider", False, "US-PI §2"
)

INFUSION_DAYS: tuple[InfusionDay, ...] = (
    InfusionDay(
        drug_keys=("natalizumab_iv",),
        questions=QUESTIONS,
        premedications=(),
        observation=Observation(
            60,
            "During and 1 hour after each of the first 6 infusions",
            "EU-SmPC §4.2; US-PI (observe during and 1 h after)",
            first_infusions=6,
        ),
    ),
    InfusionDay(
        drug_keys=("ocrelizumab_iv",),
        questions=QUESTIONS,
        premedications=(
            PreMedication(
                "methylprednisolone",
                "Methylprednisolone 100 mg IV about 30 minutes before",
                True,
                "US-PI §2",
            ),
            PreMedication("antihistamine", "Antihistamine 30-60 minutes before", True, "US-PI §2"),
            ANTIPYRETIC,
        ),
        observation=Observation(60, "At least 1 hour after each infusion", "US-PI §2/§5"),
    ),
    InfusionDay(
        drug_keys=("ublituximab",),
        questions=QUESTIONS,
        premedications=(
            PreMedication(
                "corticosteroid",
                "Corticosteroid (methylprednisolone 100 mg or dexamethasone 10-20 mg) 30-60 "
                "minutes before",
                True,
                "US-PI §2; UK/EU",
            ),
            PreMedication("antihistamine", "Antihistamine 30-60 minutes before", True, "US-PI §2"),
            ANTIPYRETIC,
        ),
        observation=Observation(
            60, "At least 1 hour after the first two infusions", "US-PI §2", first_infusions=2
        ),
    ),
    InfusionDay(
        drug_keys=("rituximab",),
        questions=QUESTIONS,
        premedications=(
            PreMedication(
                "methylprednisolone",
                "Methylprednisolone 100 mg IV before",
                True,
                "§3.14: as for ocrelizumab (CK; verify local protocol)",
            ),
            PreMedication(
                "antihistamine",
                "Antihistamine before",
                True,
                "§3.14: as for ocrelizumab (CK; verify local protocol)",
            ),
            PreMedication(
                "paracetamol",
                "Paracetamol before",
                True,
                "§3.14: as for ocrelizumab (CK; verify local protocol)",
            ),
        ),
        observation=Observation(
            60, "At least 1 hour after each infusion, as for ocrelizumab", "CK (§3.14)"
        ),
    ),
    InfusionDay(
        drug_keys=("alemtuzumab",),
        questions=QUESTIONS,
        premedications=(
            PreMedication(
                "methylprednisolone",
                "Methylprednisolone 1 g IV (first 3 days of every course)",
                True,
                "US-PI §2; EU-SmPC §4.2",
                course_days=3,
            ),
            PreMedication(
                "antihistamine", "Antihistamine, consider", False, "US-PI §2; EU-SmPC §4.2"
            ),
            PreMedication("antipyretic", "Antipyretic, consider", False, "US-PI §2; EU-SmPC §4.2"),
        ),
        observation=Observation(
            120,
            "At least 2 hours after each infusion; vital signs including BP before and during",
            "US-PI §5",
        ),
        notes=(
            "Warn about stroke, arterial dissection, MI and pulmonary alveolar haemorrhage in the "
            "1-3 days after an infusion (US-PI §5).",
        ),
    ),
    InfusionDay(
        drug_keys=("mitoxantrone",),
        questions=QUESTIONS,
        premedications=(),
        observation=Observation(
            0,
            "No observation period in the label: observe until fit to leave",
            "CK (§3.17 names none)",
        ),
        notes=(
            "LVEF, blood count, liver tests and a pregnancy test before every dose (US-PI §5).",
        ),
    ),
)

VITAL_SIGNS: tuple[VitalSign, ...] = (
    VitalSign("systolic", "Systolic blood pressure", "mmHg", 50, 260),
    VitalSign("diastolic", "Diastolic blood pressure", "mmHg", 20, 160),
    VitalSign("pulse", "Pulse", "/min", 20, 220),
    VitalSign("temperature", "Temperature", "°C", 30, 43, decimals=1),
)
VITAL_SIGNS_SOURCE = "Plausibility limits for typing (CK), not clinical thresholds"

# The grades of an infusion-related reaction, CTCAE v5 ("Infusion related reaction"); 0: none.
REACTION_GRADES: tuple[ReactionGrade, ...] = (
    ReactionGrade(0, "None"),
    ReactionGrade(1, "1 — Mild transient reaction; infusion not interrupted"),
    ReactionGrade(2, "2 — Infusion interrupted; responded promptly to treatment"),
    ReactionGrade(3, "3 — Prolonged or recurrent; hospitalisation for sequelae"),
    ReactionGrade(4, "4 — Life-threatening; urgent intervention"),
    ReactionGrade(5, "5 — Death"),
)
REACTION_SOURCE = "CTCAE-v5 (Infusion related reaction)"
# A reaction of this grade or worse raises a critical alert: a life-threatening infusion reaction
# stops an anti-CD20 permanently (US-PI §2); hypersensitivity stops natalizumab (US-PI §5).
REACTION_ALERT_GRADE = 3
REACTION_ALERT_SOURCE = "US-PI §2 (anti-CD20); US-PI §5 (natalizumab); CTCAE-v5"


def infusion_day_for(drug_key: str) -> InfusionDay | None:
    """The infusion day of an intravenous drug; None for a drug not given as an infusion."""
    for entry in INFUSION_DAYS:
        if drug_key in entry.drug_keys:
            return entry
    return None


def vital_sign(key: str) -> VitalSign:
    for sign in VITAL_SIGNS:
        if sign.key == key:
            return sign
    raise KeyError(f"No vital sign {key!r}")
