"""The relapse definition applied to a triage call: a pure function of the call's facts and the
catalogue entry (`treatments.protocols.relapse_triage`), no Django, tested on its own.

* A relapse lasts at least `min_duration_hours`, starts at least `separation_days` after the
  previous relapse's onset, and comes without fever or infection (McDonald-2017, §9.1).
* Red flags come first: any of them is a same-day review, whatever else holds.
* Fever, infection signs or a positive urine dipstick, or heat or stress named as the trigger,
  suggest a pseudo-relapse: treat the trigger (NICE-NG220).
* Symptoms shorter than the minimum are not (yet) a relapse: advice, and a call back if they last.
* Otherwise a possible relapse: an urgent review within the clinic's target. One within the
  separation of the last relapse is still reviewed, as a worsening of the same event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum

from treatments.protocols.relapse_triage import RELAPSE_TRIAGE, RelapseTriage


class Suggestion(StrEnum):
    PSEUDO_RELAPSE = "pseudo_relapse"
    POSSIBLE_RELAPSE = "possible_relapse"
    RED_FLAGS = "red_flags"


@dataclass(frozen=True, slots=True)
class CallFacts:
    onset_on: date
    duration_hours: int
    fever: bool = False
    infection_signs: bool = False
    dipstick_positive: bool = False
    heat_or_stress: bool = False
    red_flags: tuple[str, ...] = ()
    last_relapse_onset_on: date | None = None
    """The onset of the patient's latest relapse on or before this call's onset."""


@dataclass(frozen=True, slots=True)
class Assessment:
    suggestion: Suggestion
    meets_definition: bool
    reasons: tuple[str, ...]
    same_event: bool = False
    """Within the separation of the last relapse: part of the same event, not a new relapse."""
    febrile: bool = False
    """Fever, infection signs or a positive dipstick: steroids wait for the infection (§3.18)."""


def assess(facts: CallFacts, entry: RelapseTriage = RELAPSE_TRIAGE) -> Assessment:
    """What the call suggests, and why, criterion by criterion, in words a nurse reads aloud."""
    reasons: list[str] = []
    long_enough = facts.duration_hours >= entry.min_duration_hours
    reasons.append(
        f"Symptoms for {facts.duration_hours} h: "
        + ("meets" if long_enough else "does not meet")
        + f" the minimum of {entry.min_duration_hours} h ({entry.duration_source})."
    )
    same_event = False
    if facts.last_relapse_onset_on is not None:
        gap = (facts.onset_on - facts.last_relapse_onset_on).days
        same_event = gap < entry.separation_days
        reasons.append(
            f"{gap} days after the last relapse's onset "
            f"({facts.last_relapse_onset_on:%d %b %Y}): "
            + (
                f"within {entry.separation_days} days, part of the same event"
                if same_event
                else f"at least {entry.separation_days} days apart"
            )
            + f" ({entry.separation_source})."
        )
    else:
        reasons.append("No earlier relapse on record: nothing to be separated from.")
    febrile = facts.fever or facts.infection_signs or facts.dipstick_positive
    if febrile:
        found = [
            name
            for name, present in (
                ("fever", facts.fever),
                ("infection signs", facts.infection_signs),
                ("a positive urine dipstick", facts.dipstick_positive),
            )
            if present
        ]
        reasons.append(
            f"Fever or infection: {', '.join(found)} ({entry.pseudo_relapse_source}); treat the "
            "infection first."
        )
    else:
        reasons.append("No fever or infection reported.")
    if facts.heat_or_stress:
        reasons.append(f"Heat or stress named as the trigger ({entry.pseudo_relapse_source}).")
    flags = [entry.red_flag(key).text for key in facts.red_flags]
    if flags:
        reasons.append("Red flags: " + "; ".join(flags) + ".")
    meets = long_enough and not same_event and not febrile
    if flags:
        suggestion = Suggestion.RED_FLAGS
    elif febrile or facts.heat_or_stress or not long_enough:
        suggestion = Suggestion.PSEUDO_RELAPSE
    else:
        suggestion = Suggestion.POSSIBLE_RELAPSE
    return Assessment(suggestion, meets, tuple(reasons), same_event, febrile)


def review_due_at(
    suggestion: str, *, called_at: datetime, target_hours: int, zone: tzinfo
) -> datetime | None:
    """The clock of a call: a possible relapse is reviewed within the clinic's target, red flags
    by the end of the call's day in the clinic (same day); a pseudo-relapse has no clock."""
    if suggestion == Suggestion.POSSIBLE_RELAPSE:
        return called_at + timedelta(hours=target_hours)
    if suggestion == Suggestion.RED_FLAGS:
        day = called_at.astimezone(zone).date()
        return datetime.combine(day, time(23, 59, 59), tzinfo=zone)
    return None
