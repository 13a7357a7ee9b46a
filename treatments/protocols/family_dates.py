"""Family planning dates that cannot be: a pregnancy's or an intended conception's, by the form
field each problem belongs to. Pure, like the rules in `treatments.protocols.family`."""

from __future__ import annotations

from datetime import date, timedelta

from .family import LONGEST_GESTATION_DAYS, OLDEST_MOTHER_YEARS, YOUNGEST_MOTHER_YEARS


def pregnancy_date_problems(
    *,
    sex: str,
    born_on: date,
    conceived_on: date,
    today: date,
    ended_on: date | None = None,
) -> dict[str, str]:
    """What is impossible about a pregnancy's dates, by the form field it belongs to."""
    problems: dict[str, str] = {}
    if sex == "male":
        problems["conceived_on"] = (
            "The patient's sex is recorded as male: a pregnancy cannot be recorded. Correct "
            "the patient record first if it is wrong."
        )
        return problems
    if conceived_on > today:
        problems["conceived_on"] = "A conception date cannot be in the future."
    age = (
        conceived_on.year
        - born_on.year
        - ((conceived_on.month, conceived_on.day) < (born_on.month, born_on.day))
    )
    if not YOUNGEST_MOTHER_YEARS <= age <= OLDEST_MOTHER_YEARS:
        problems["conceived_on"] = (
            f"On this date the patient was {age}: check the conception date (the year?)."
        )
    if ended_on is not None:
        if ended_on < conceived_on:
            problems["ended_on"] = "The pregnancy cannot end before the conception date."
        elif (ended_on - conceived_on).days > LONGEST_GESTATION_DAYS:
            problems["ended_on"] = (
                f"This is more than {LONGEST_GESTATION_DAYS // 7} weeks after the conception "
                "date: check both dates."
            )
        elif ended_on > today:
            problems["ended_on"] = "The delivery or end of pregnancy cannot be in the future."
    return problems


def conception_date_problems(*, conceive_on: date, today: date) -> dict[str, str]:
    """What is impossible about an intended conception date (a man planning to father a child
    is planned for too: teriflunomide and cladribine ask it of fathers)."""
    if conceive_on < today:
        return {"intended_conception_on": "The intended conception date is in the past."}
    if conceive_on > today + timedelta(days=366 * 5):
        return {"intended_conception_on": "Plan at most 5 years ahead."}
    return {}
