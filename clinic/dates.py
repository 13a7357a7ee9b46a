"""The earliest date Myelin accepts anywhere, and the database constraints that hold it.

Forms refuse earlier dates with a message next to the field (`clinic.forms.DateField`); the
constraints make the rule hold for every other way a row is written too. Before 1900 there is
no patient of this clinic, and a typo such as 0001 breaks date arithmetic (`date.min` is near).
"""

from __future__ import annotations

from datetime import date

from django.db import models

EARLIEST_DATE = date(1900, 1, 1)


def from_1900(table: str, *fields: str) -> list[models.CheckConstraint]:
    """One CheckConstraint per date column: empty, or on or after 1 January 1900."""
    return [
        models.CheckConstraint(
            name=f"{table}_{field}_from_1900",
            condition=models.Q(**{f"{field}__gte": EARLIEST_DATE}),
            violation_error_message="Enter a date from 1900 onwards.",
        )
        for field in fields
    ]
