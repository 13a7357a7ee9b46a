"""The relapse triage line's catalogue entry: the relapse definition, what makes a pseudo-relapse,
the red flags that need a same-day review, the review target and the relapse treatments (§3.18,
§9.1 of the monitoring reference), each with its source.

Plain data, no Django: `treatments.triage.rules` applies it; the triage pages show its sources.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RedFlag:
    """A finding on the call that needs the patient seen the same day, whatever else holds."""

    key: str
    text: str
    source: str


@dataclass(frozen=True, slots=True)
class RelapseRegimen:
    """A relapse treatment the triage outcome can start (recorded as a relapse treatment)."""

    key: str
    drug: str
    dose: str
    text: str
    source: str


@dataclass(frozen=True, slots=True)
class RelapseTriage:
    version: str
    min_duration_hours: int
    """Symptoms must last at least this long (McDonald-2017: "lasting ≥ 24 hours")."""
    duration_source: str
    separation_days: int
    """A new relapse starts at least this many days after the previous relapse's onset."""
    separation_source: str
    pseudo_relapse_text: str
    pseudo_relapse_source: str
    fever_from_c: float
    """A temperature from this value counts as fever."""
    fever_source: str
    default_review_hours: int
    """The clinic's urgent-review target unless the clinic admin sets another (clinic settings)."""
    review_source: str
    treatment_window_days: int
    """Steroids are started as early as possible and within this many days of onset."""
    treatment_window_source: str
    red_flags: tuple[RedFlag, ...]
    regimens: tuple[RelapseRegimen, ...]
    notes: tuple[str, ...] = ()

    def red_flag(self, key: str) -> RedFlag:
        for flag in self.red_flags:
            if flag.key == key:
                return flag
        raise KeyError(f"No red flag {key!r}")

    def regimen(self, key: str) -> RelapseRegimen:
        for regimen in self.regimens:
            if regimen.key == key:
                return regimen
        raise KeyError(f"No relapse regimen {key!r}")


RELAPSE_TRIAGE = RelapseTriage(
    version="2026.1",
    min_duration_hours=24,
    duration_source="McDonald-2017 (attack: lasting ≥ 24 hours, without fever or infection)",
    separation_days=30,
    separation_source=(
        "McDonald-2017; trial convention (≥ 30 days after the onset of the previous relapse, "
        "otherwise part of the same event)"
    ),
    pseudo_relapse_text=(
        "Worsening with fever, an infection (often urinary), heat or stress is a pseudo-relapse: "
        "treat the trigger, not the MS."
    ),
    pseudo_relapse_source="NICE-NG220; CK (§9.1, §3.18: temperature, urinalysis, heat/stress)",
    fever_from_c=38.0,
    fever_source="CK (fever: 38 °C or more)",
    default_review_hours=48,
    review_source=(
        "CK: a clinic target for an urgent review of a possible relapse (issue #18: e.g. 48 h); "
        "set per clinic"
    ),
    treatment_window_days=14,
    treatment_window_source="NICE-NG220 (start within 14 days of onset)",
    # CK: the reference names no red-flag list; these are the findings a triage line sends for
    # same-day assessment (severe disability, threats to breathing, swallowing, sight or the
    # bladder, and a possible PML on a drug that carries it). A deliberate, documented choice.
    red_flags=(
        RedFlag(
            "cannot_walk",
            "New inability to walk or stand, or rapidly progressing weakness",
            "CK (severe relapse: admission, IV methylprednisolone — NICE-NG220)",
        ),
        RedFlag(
            "breathing_swallowing",
            "Difficulty breathing or swallowing",
            "CK (emergency assessment)",
        ),
        RedFlag(
            "vision_loss",
            "Severe or rapid loss of vision",
            "CK (same-day assessment: optic neuritis or other cause)",
        ),
        RedFlag(
            "urinary_retention",
            "Unable to pass urine (retention)",
            "CK (same-day assessment)",
        ),
        RedFlag(
            "pml_signs",
            "New cognitive, behavioural, speech or visual symptoms on natalizumab or an "
            "anti-CD20 (possible PML)",
            "US-PI §5 (boxed); EU-SmPC §4.4: withhold dosing, urgent MRI",
        ),
        RedFlag(
            "confusion_fever",
            "Confusion or drowsiness, or a high fever with the new symptoms",
            "CK (possible sepsis or encephalitis)",
        ),
    ),
    regimens=(
        RelapseRegimen(
            "oral_mp",
            "Oral methylprednisolone",
            "500 mg once daily for 5 days",
            "First choice: start as early as possible and within 14 days of onset.",
            "NICE-NG220",
        ),
        RelapseRegimen(
            "iv_mp",
            "IV methylprednisolone",
            "1 g daily for 3-5 days",
            "If oral treatment failed or was not tolerated, or admission is needed.",
            "NICE-NG220",
        ),
        RelapseRegimen(
            "plex",
            "Plasma exchange",
            "5-7 exchanges every other day over about 2 weeks",
            "Severe relapse not responding to high-dose steroids.",
            "Lit (Cortese I et al., AAN 2011); CK",
        ),
    ),
    notes=(
        "Duration: the source says ≥ 24 hours; symptoms of exactly 24 hours meet it.",
        "Heat or stress: the McDonald definition excludes only fever and infection; a worsening "
        "the caller links to heat or stress is still suggested as a pseudo-relapse (NICE-NG220).",
        "Fever or a positive urinalysis before steroids: treat the infection first (§3.18, GATE).",
    ),
)
