"""From a `LabReport` to the results Myelin records: which analyte each code means, which values
form one result, and what each value, range and status says. No database writes here.

Codes are matched through the clinic's own table first (a row for the sending laboratory, then
a row for any laboratory), then through the LOINC codes of the catalogue. A value that cannot
be used is an `ImportProblem` in plain words; the whole message is then held, never half-stored.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.utils import timezone

from treatments import labs
from treatments.labimport.report import Code, LabReport, Observation, Order
from treatments.models import Problem, QualitativeValue
from treatments.monitoring.services import EnteredValue
from treatments.protocols import INVESTIGATIONS, InvestigationKind, investigation_name


class ImportProblem(Exception):
    """Why a message cannot be imported as it is (held for review with this reason)."""

    def __init__(self, problem: Problem, reason: str, *, patient: object = None) -> None:
        super().__init__(reason)
        self.problem = problem
        self.reason = reason
        self.patient = patient


def _catalogue_codes() -> dict[str, str]:
    codes: dict[str, str] = {}
    for inv in INVESTIGATIONS.values():
        if inv.loinc:
            codes.setdefault(inv.loinc.upper(), inv.key)
        for part, code in inv.result_fields:
            if code and code.upper() != (inv.loinc or "").upper():
                codes[code.upper()] = f"{inv.key}.{part}"
    return codes


# LOINC code → catalogue key: numeric analytes, qualitative tests, panels (for OBR codes), and
# the extra parts of a qualitative test ("jcv_antibody.index").
CATALOGUE_CODES: Mapping[str, str] = _catalogue_codes()
LOINC_SYSTEMS = frozenset({"", "LN", "LOINC"})

QUALITATIVE_TESTS = tuple(
    inv.key for inv in INVESTIGATIONS.values() if inv.kind == InvestigationKind.QUALITATIVE
)
QUALITATIVE_PARTS = tuple(v for v in CATALOGUE_CODES.values() if "." in v)


def target_choices() -> list[tuple[str, str]]:
    """What a lab code can mean, for the admin's code table and the review form."""
    numeric = sorted(((k, a.name) for k, a in labs.ANALYTES.items()), key=lambda c: c[1])
    qualitative = sorted(
        ((k, investigation_name(k)) for k in QUALITATIVE_TESTS), key=lambda c: c[1]
    )
    parts = [
        (p, f"{investigation_name(p.split('.')[0])}: {p.split('.')[1]}") for p in QUALITATIVE_PARTS
    ]
    return [("", "Not tracked in Myelin (skip it)"), *numeric, *qualitative, *parts]


VALID_TARGETS = frozenset(key for key, _ in target_choices())

_WORDS = {
    QualitativeValue.POSITIVE: ("positive", "pos", "detected", "reactive", "present", "+"),
    QualitativeValue.NEGATIVE: (
        "negative",
        "neg",
        "not detected",
        "non-reactive",
        "nonreactive",
        "non reactive",
        "absent",
        "-",
    ),
    QualitativeValue.INDETERMINATE: ("indeterminate", "equivocal", "borderline", "inconclusive"),
}
QUALITATIVE_WORDS = {word: value for value, words in _WORDS.items() for word in words}

# Result status (OBX-11): preliminary ones are stored and amended by the final one; a corrected
# one amends the earlier result; "cannot be obtained" is noted, not stored as a value.
PRELIMINARY, FINAL, CORRECTED = "P", "F", "C"
_STATUS = {"P": PRELIMINARY, "R": PRELIMINARY, "S": PRELIMINARY, "F": FINAL, "C": CORRECTED}
_NOT_OBTAINED = {"X": "could not be obtained", "N": "was not asked for", "I": "is still pending"}
_STATUS_RANK = {PRELIMINARY: 0, FINAL: 1, CORRECTED: 2}


@dataclass
class PlannedResult:
    """One result to record (or amend): an investigation, its values, its order and status."""

    investigation: str
    order_key: str
    taken_on: date
    values: list[EnteredValue] = field(default_factory=list)
    qualitative: str = ""
    index_value: Decimal | None = None
    status: str = FINAL
    notes: list[str] = field(default_factory=list)

    @property
    def note(self) -> str:
        return "\n".join(self.notes)


@dataclass(frozen=True)
class CodeBook:
    """The clinic's code table for one import, plus a reviewer's choices for one message."""

    table: Mapping[tuple[str, str, str], str]
    overrides: Mapping[str, str] = field(default_factory=dict)

    def target(self, codes: tuple[Code, ...], facility: str) -> str | None:
        """The catalogue key a coded test means; "" when it is not tracked; None if unknown."""
        facility = facility.upper()
        for code in codes:
            if code.code in self.overrides:
                return self.overrides[code.code]
            for key in (
                (facility, code.system, code.code),
                (facility, "", code.code),
                ("", code.system, code.code),
                ("", "", code.code),
            ):
                if key in self.table:
                    return self.table[key]
        for code in codes:
            if code.system in LOINC_SYSTEMS and code.code in CATALOGUE_CODES:
                return CATALOGUE_CODES[code.code]
        return None


def taken_on_of(moment: datetime | date | None) -> date | None:
    if moment is None:
        return None
    if isinstance(moment, datetime):
        return timezone.localtime(moment).date() if timezone.is_aware(moment) else moment.date()
    return moment


_RANGE = re.compile(
    r"^\s*(?:(?P<low>-?\d+(?:\.\d+)?)\s*(?:-|–|to)\s*(?P<high>\d+(?:\.\d+)?)"
    r"|(?P<lt><=?|≤)\s*(?P<upper>\d+(?:\.\d+)?)"
    r"|(?P<gt>>=?|≥)\s*(?P<lower>\d+(?:\.\d+)?))\s*$"
)


def parse_range(text: str) -> tuple[Decimal | None, Decimal | None]:
    """OBX-7: "7-56", "3.5 - 5.0", "<5" (upper limit only) or ">60" (lower limit only)."""
    text = text.strip()
    if not text:
        return None, None
    match = _RANGE.match(text)
    if not match:
        raise ValueError(text)
    if match.group("upper"):
        return None, Decimal(match.group("upper"))
    if match.group("lower"):
        return Decimal(match.group("lower")), None
    return Decimal(match.group("low")), Decimal(match.group("high"))


def _number(text: str) -> Decimal | None:
    text = text.strip()
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def plan_results(report: LabReport, codes: CodeBook) -> list[PlannedResult]:
    """Every result the report makes, or ImportProblem for the first thing that stops it."""
    unknown: list[Code] = []
    planned: list[PlannedResult] = []
    for number, order in enumerate(report.orders, start=1):
        planned.extend(_plan_order(report, order, number, codes, unknown))
    if unknown:
        listed = ", ".join(f"'{code}'" for code in dict.fromkeys(unknown))
        raise ImportProblem(
            Problem.UNKNOWN_CODE,
            f"Test code(s) not known to Myelin: {listed}. Choose what each means here, or ask "
            "the clinic admin to add them to the lab code table.",
        )
    if not planned:
        raise ImportProblem(Problem.BAD_VALUE, "The message holds no result Myelin tracks.")
    return planned


def _plan_order(
    report: LabReport, order: Order, number: int, codes: CodeBook, unknown: list[Code]
) -> list[PlannedResult]:
    numeric: dict[str, tuple[Observation, EnteredValue]] = {}
    qualitative: dict[str, PlannedResult] = {}
    notes = [*order.notes]
    statuses: list[str] = []
    taken_on = taken_on_of(order.collected_at)
    for obs in order.observations:
        target = codes.target(obs.codes, report.sending_facility)
        if target is None:
            unknown.append(obs.codes[0] if obs.codes else Code("(no code)"))
            continue
        if target == "":
            continue
        name = investigation_name(target.split(".")[0])
        status = obs.status.upper() or FINAL
        if status in _NOT_OBTAINED:
            notes.append(f"{name} {_NOT_OBTAINED[status]} (status {status}).")
            continue
        if status not in _STATUS:
            raise ImportProblem(
                Problem.BAD_VALUE,
                f"{name} ({obs.position}) has result status '{status}', which Myelin does not "
                "import (it takes preliminary, final and corrected results).",
            )
        statuses.append(_STATUS[status])
        taken_on = taken_on or taken_on_of(obs.observed_at)
        notes.extend(f"{name}: {text}" for text in obs.notes)
        if obs.flags and obs.flags.upper() not in ("N", ""):
            notes.append(f"{name} flagged {obs.flags} by the laboratory.")
        if target in labs.ANALYTES:
            if target in numeric:
                raise ImportProblem(Problem.BAD_VALUE, f"{name} appears twice in order {number}.")
            numeric[target] = (obs, _entered(target, obs))
        elif target in QUALITATIVE_TESTS or target in QUALITATIVE_PARTS:
            _add_qualitative(qualitative, target, obs, name)
        else:
            raise ImportProblem(
                Problem.BAD_VALUE,
                f"The code of {obs.position} names the test '{name}' as a whole, not a result.",
            )
    taken_on = taken_on or taken_on_of(report.sent_at)
    if (numeric or qualitative) and taken_on is None:
        raise ImportProblem(
            Problem.BAD_VALUE,
            f"Order {number} says neither when the sample was taken (OBR-7) nor when it was "
            "observed (OBX-14).",
        )
    status = max(statuses, key=_STATUS_RANK.__getitem__) if statuses else FINAL
    assert taken_on is not None or not (numeric or qualitative)
    results: list[PlannedResult] = []
    panel = codes.target(order.codes, report.sending_facility) if order.codes else None
    for investigation, analytes in _group(set(numeric), panel):
        results.append(
            PlannedResult(
                investigation=investigation,
                order_key=order.order_key,
                taken_on=taken_on,  # type: ignore[arg-type]
                values=[numeric[a][1] for a in sorted(analytes)],
                status=status,
                notes=list(notes),
            )
        )
    for key, result in qualitative.items():
        if key not in QUALITATIVE_TESTS or not result.qualitative:
            raise ImportProblem(
                Problem.BAD_VALUE,
                f"Order {number} gives a {investigation_name(key)} index without its result.",
            )
        result.order_key, result.taken_on, result.status = order.order_key, taken_on, status  # type: ignore[assignment]
        result.notes = [*notes, *result.notes]
        results.append(result)
    return results


def _entered(analyte: str, obs: Observation) -> EnteredValue:
    name = labs.get_analyte(analyte).name
    value = _number(obs.value)
    if value is None:
        raise ImportProblem(
            Problem.BAD_VALUE,
            f"{name} ({obs.position}) has the value '{obs.value[:40]}', which is not a number.",
        )
    if not obs.unit:
        raise ImportProblem(Problem.BAD_VALUE, f"{name} ({obs.position}) has no unit.")
    try:
        low, high = parse_range(obs.reference_range)
    except ValueError:
        raise ImportProblem(
            Problem.BAD_VALUE,
            f"The reference range of {name} ({obs.position}), '{obs.reference_range[:40]}', "
            "cannot be read; expected a form like 7-56, <5 or >60.",
        ) from None
    return EnteredValue(analyte=analyte, value=value, unit=obs.unit, low=low, high=high)


def _add_qualitative(
    found: dict[str, PlannedResult], target: str, obs: Observation, name: str
) -> None:
    key, _, part = target.partition(".")
    result = found.setdefault(
        key, PlannedResult(investigation=key, order_key="", taken_on=date.min)
    )
    if part == "index":
        value = _number(obs.value)
        if value is None:
            raise ImportProblem(
                Problem.BAD_VALUE,
                f"The {name} index ({obs.position}), '{obs.value[:40]}', is not a number.",
            )
        result.index_value = value
        return
    word = QUALITATIVE_WORDS.get(obs.value.strip().lower())
    if word is None:
        raise ImportProblem(
            Problem.BAD_VALUE,
            f"{name} ({obs.position}) reads '{obs.value[:40]}'; Myelin takes positive, negative "
            "or indeterminate.",
        )
    result.qualitative = word


def _group(analytes: set[str], panel: str | None) -> list[tuple[str, set[str]]]:
    """Which investigation the numeric values of one order are recorded under: the order's own
    panel when it holds them all; else one analyte alone; else the smallest panel that holds
    them all; else each analyte with the smallest panel that holds it."""
    if not analytes:
        return []
    if panel and panel in INVESTIGATIONS and analytes <= set(INVESTIGATIONS[panel].components):
        return [(panel, analytes)]
    if len(analytes) == 1:
        return [(next(iter(analytes)), analytes)]
    whole = _smallest_panel(analytes)
    if whole:
        return [(whole, analytes)]
    groups: dict[str, set[str]] = {}
    for analyte in analytes:
        groups.setdefault(_smallest_panel({analyte}) or analyte, set()).add(analyte)
    return sorted(groups.items())


def _smallest_panel(analytes: set[str]) -> str | None:
    panels = [
        inv
        for inv in INVESTIGATIONS.values()
        if inv.kind == InvestigationKind.PANEL and analytes <= set(inv.components)
    ]
    if not panels:
        return None
    return min(panels, key=lambda inv: (len(inv.components), inv.key)).key


def unknown_codes(report: LabReport, codes: CodeBook) -> list[Code]:
    """The observation codes of a report that nothing maps, each once (for the review form)."""
    found: dict[str, Code] = {}
    for order in report.orders:
        for obs in order.observations:
            if obs.codes and codes.target(obs.codes, report.sending_facility) is None:
                found.setdefault(obs.codes[0].code, obs.codes[0])
    return list(found.values())
