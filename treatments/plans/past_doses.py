"""How a therapy-history entry is written and what its past doses carry: dates as YYYY-MM-DD,
and for a drug the catalogue doses by body-surface area (mitoxantrone, §3.17) each dose's mg/m²
with the BSA it was calculated on, checked as a dose given today is (treatments.dosing).

Pure: no queries. Shared by the history form (treatments.plans.history) and the go-live import
(treatments.golive), which report a `Problem` at the form field or CSV column it names.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from treatments import dosing
from treatments.protocols import BsaDosing, Protocol


@dataclass(frozen=True)
class Problem:
    """One refusal: the field (form field or CSV column) and the reason."""

    field: str
    message: str


def show_day(day: date) -> str:
    return f"{day:%d %b %Y}"


def parse_day(text: str) -> date:
    """A date written as YYYY-MM-DD (the one format a CSV or a list may use: 03/04/2022 means
    a different day in London and in Boston). ValueError with a message saying so."""
    text = text.strip()
    try:
        if len(text) != 10:
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"'{text[:20]}' is not a date: write dates as YYYY-MM-DD.") from None


def parse_days(text: str) -> list[date]:
    """Dates separated by new lines, commas, semicolons or spaces; ValueError naming every
    entry that is not a date."""
    days: list[date] = []
    bad: list[str] = []
    for token in text.replace(",", " ").replace(";", " ").split():
        try:
            days.append(parse_day(token))
        except ValueError:
            bad.append(f"'{token[:20]}'")
    if bad:
        raise ValueError(f"Not a date: {', '.join(bad[:5])}. Write dates as YYYY-MM-DD.")
    return days


@dataclass(frozen=True)
class PastDose:
    """A past dose or infusion as listed: its day and, for a drug the catalogue doses by
    body-surface area, its dose in mg/m² and the BSA in m² as typed (checked against the
    catalogue by `past_therapy_problems`). A dose listed without a BSA was given on the first
    dose's."""

    day: date
    mg_m2: Decimal | None = None
    bsa_m2: Decimal | None = None

    @property
    def has_amount(self) -> bool:
        return self.mg_m2 is not None or self.bsa_m2 is not None


def as_past_dose(dose: date | PastDose) -> PastDose:
    return dose if isinstance(dose, PastDose) else PastDose(dose)


def parse_amount(text: str) -> Decimal:
    """A dose in mg/m² or a BSA in m² as typed: a number with a decimal point and at most two
    decimals (what the record keeps). ValueError with a message saying what is wrong."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        raise ValueError(f"'{text.strip()[:20]}' is not a number: write e.g. 12 or 1.85.")
    if value.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValueError(f"'{text.strip()[:20]}' has more than two decimals.")
    return value


# Units a dose may be written with ("12 mg/m²", "1.85m2"); they are only read past.
_UNITS = ("mg/m²", "mg/m2", "m²", "m2")


def parse_past_doses(text: str) -> list[PastDose]:
    """Past doses as listed: each a date (YYYY-MM-DD) and, for a drug dosed by body-surface
    area, after it the dose in mg/m² and the BSA in m² ("2023-04-11 12 1.85"). Doses are
    separated by new lines, commas or semicolons (dates alone by spaces too). ValueError naming
    every entry that cannot be read."""
    doses: list[PastDose] = []
    numbers: list[Decimal] = []
    bad: list[str] = []
    other: list[str] = []

    def close() -> None:
        if doses and numbers:
            last = doses[-1]
            doses[-1] = PastDose(last.day, numbers[0], numbers[1] if len(numbers) > 1 else None)
        numbers.clear()

    for token in text.replace(",", " ").replace(";", " ").split():
        unit = next((u for u in _UNITS if token.lower().endswith(u)), "")
        number = token[: len(token) - len(unit)]
        if unit and not number:
            continue
        try:
            day = parse_day(token)
        except ValueError:
            pass
        else:
            close()
            doses.append(PastDose(day))
            continue
        try:
            amount = parse_amount(number)
        except ValueError as error:
            if any(c.isdigit() for c in number) and not any(c in number for c in "-/"):
                other.append(str(error))
            else:
                bad.append(f"'{token[:20]}'")
            continue
        if not doses:
            other.append(f"'{token[:20]}' comes before any date: write the date first.")
        elif len(numbers) == 2:
            other.append(
                f"'{token[:20]}' after {doses[-1].day:%Y-%m-%d}: a dose takes at most its "
                "mg/m² and its BSA after the date."
            )
        else:
            numbers.append(amount)
    close()
    messages = [f"Not a date: {', '.join(bad[:5])}. Write dates as YYYY-MM-DD."] if bad else []
    if messages or other:
        raise ValueError(" ".join([*messages, *other[:5]]))
    return doses


def _many(days: Sequence[date]) -> str:
    shown = ", ".join(show_day(day) for day in days[:5])
    return shown + (f" and {len(days) - 5} more" if len(days) > 5 else "")


def checked_past_doses(
    *,
    dosing_rule: BsaDosing | None,
    drug_name: str,
    started_on: date,
    first_dose: dosing.DoseEntry | None,
    doses: Sequence[PastDose],
) -> tuple[dict[date, dosing.BsaDose], list[Problem]]:
    """Each past dose's checked dose in mg/m² with its BSA, by day (the first dose's too), for a
    drug the catalogue doses by body-surface area; and the problems with them. A drug that is
    not dosed so takes no dose."""
    entered = first_dose is not None and any(
        v is not None
        for v in (first_dose.mg_m2, first_dose.bsa_m2, first_dose.height_cm, first_dose.weight_kg)
    )
    with_amount = [d for d in doses if d.has_amount]
    if dosing_rule is None:
        problems = []
        if entered:
            problems.append(
                Problem(
                    "dose_mg_m2",
                    f"{drug_name} is not dosed in mg/m² in the catalogue: leave the dose and the "
                    "BSA empty.",
                )
            )
        if with_amount:
            problems.append(
                Problem(
                    "doses",
                    f"{drug_name} is not dosed in mg/m² in the catalogue: list the dates alone "
                    f"({_many([d.day for d in with_amount])} has a dose).",
                )
            )
        return {}, problems
    problems = []
    amounts: dict[date, dosing.BsaDose] = {}
    # The first dose's dose is given with the first dose, or on its line of the list.
    listed_first = next((d for d in with_amount if d.day == started_on), None)
    if not entered and listed_first is not None:
        first = dosing.DoseEntry(mg_m2=listed_first.mg_m2, bsa_m2=listed_first.bsa_m2)
    else:
        first = first_dose or dosing.DoseEntry(mg_m2=None)
    try:
        amounts[started_on] = first.checked()
    except dosing.DoseError as error:
        reason = str(error)
        if error.field == "bsa_m2" and first.height_cm is None and first.bsa_m2 is None:
            reason = "Give the BSA in m² the first dose was calculated on."
        problems.append(
            Problem(error.field, f"{drug_name} doses are recorded in mg/m² with the BSA. {reason}")
        )
    # A dose listed without its BSA was given on the first dose's; when that is missing or
    # implausible, its own problem says so once, not once a line.
    default_bsa = amounts[started_on].bsa_m2 if started_on in amounts else first.bsa_m2
    if default_bsa is not None and not dosing.BSA_M2[0] <= default_bsa <= dosing.BSA_M2[1]:
        default_bsa = None
    without: list[date] = []
    for dose in doses:
        if dose.day == started_on:
            checked = amounts.get(started_on)
            if (
                entered
                and dose.has_amount
                and checked is not None
                and (
                    dose.mg_m2 != checked.mg_m2
                    or (dose.bsa_m2 is not None and dose.bsa_m2 != checked.bsa_m2)
                )
            ):
                problems.append(
                    Problem(
                        "doses",
                        f"{show_day(dose.day)} is the first dose: its dose is given with the first "
                        "dose and differs here.",
                    )
                )
            continue
        if dose.day in amounts:
            continue  # listed twice: reported with the dates
        if dose.mg_m2 is None:
            without.append(dose.day)
            continue
        if dose.bsa_m2 is None and default_bsa is None:
            continue
        try:
            amounts[dose.day] = dosing.bsa_dose(
                mg_m2=dose.mg_m2, bsa_m2=dose.bsa_m2 if dose.bsa_m2 is not None else default_bsa
            )
        except dosing.DoseError as error:
            problems.append(Problem("doses", f"{show_day(dose.day)}: {error}"))
    if without:
        problems.append(
            Problem(
                "doses",
                f"{drug_name} doses are recorded in mg/m² with the BSA: no dose for "
                f"{_many(without)}. Write each as the date, the dose in mg/m² and the BSA in m², "
                f"e.g. '{without[0]:%Y-%m-%d} {dosing_rule.usual_mg_m2:g} 1.80' (without a "
                "BSA, the first dose's is used).",
            )
        )
    return amounts, problems


def past_dose_amounts(
    *,
    protocol: Protocol,
    started_on: date,
    first_dose: dosing.DoseEntry | None,
    doses: Sequence[date | PastDose],
) -> dict[date, dosing.BsaDose]:
    """The dose in mg/m² with its BSA of each past dose, by day, once `past_therapy_problems`
    found none (empty for a drug not dosed by body-surface area)."""
    amounts, _ = checked_past_doses(
        dosing_rule=protocol.bsa_dosing,
        drug_name="",
        started_on=started_on,
        first_dose=first_dose,
        doses=[as_past_dose(d) for d in doses],
    )
    return amounts


def plain_mg(number: Decimal) -> str:
    return f"{number.normalize():f}"
