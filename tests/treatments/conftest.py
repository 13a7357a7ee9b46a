"""Treatments fixtures: a fixed clinic day and helpers that put a patient on a drug."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
import time_machine

from clinic.accounts.models import User
from patients.models import Patient
from treatments.dosing import DoseEntry
from treatments.models import ClinicSettings, DmtPlan
from treatments.plans import services as plan_services

TODAY = date(2026, 6, 15)


@pytest.fixture
def today() -> Iterator[date]:
    """The clinic day every treatments test runs on (noon UTC, the same date in London)."""
    with time_machine.travel(datetime(2026, 6, 15, 12, 0, tzinfo=UTC), tick=False):
        yield TODAY


@pytest.fixture
def eu_clinic(db: None) -> ClinicSettings:
    clinic = ClinicSettings.load()
    clinic.label_region = "EU"
    clinic.review_interval_months = 6
    clinic.save()
    return clinic


@pytest.fixture
def us_clinic(db: None) -> ClinicSettings:
    clinic = ClinicSettings.load()
    clinic.label_region = "US"
    clinic.save()
    return clinic


StartPlan = Callable[..., DmtPlan]

# The label's mitoxantrone dose for an adult of 1.8 m².
STANDARD_BSA_DOSE = DoseEntry(mg_m2=Decimal("12"), bsa_m2=Decimal("1.80"))


def dose_for(plan: DmtPlan) -> DoseEntry | None:
    """A dose for a drug dosed by body-surface area; none for the others."""
    return STANDARD_BSA_DOSE if plan.protocol_version.protocol.bsa_dosing else None


@pytest.fixture
def start_plan(today: date, neurologist: User) -> StartPlan:
    """Plan and start a drug on `started_on` (planned the same day), baseline overridden."""

    def _start(
        patient: Patient,
        drug_key: str,
        started_on: date,
        *,
        conditions: tuple[str, ...] = (),
        by: User | None = None,
    ) -> DmtPlan:
        plan = plan_services.plan_dmt(
            patient=patient,
            drug_key=drug_key,
            by=by or neurologist,
            conditions=conditions,
            planned_on=started_on,
        )
        return plan_services.start_dmt_plan(
            plan=plan,
            started_on=started_on,
            override_reason="Baseline done at the referring hospital (test).",
            dose=dose_for(plan),
            by=by or neurologist,
        )

    return _start


def open_keys(plan: DmtPlan) -> set[tuple[str, date, int]]:
    return {item.key for item in plan.items.filter(status__in=["scheduled", "booked"])}


def due_dates(plan: DmtPlan, rule_key: str, **filters: Any) -> list[date]:
    return list(
        plan.items.filter(rule_key=rule_key, **filters)
        .order_by("due_on")
        .values_list("due_on", flat=True)
    )


def record_values(
    patient: Patient,
    investigation: str,
    taken_on: date,
    by: User,
    *values: tuple[str, str, str | None, str | None],
    **extra: Any,
) -> Any:
    """Record a result through the service: (analyte, value, LLN, ULN) in the canonical unit."""
    from treatments import labs
    from treatments.monitoring import services as monitoring_services

    return monitoring_services.record_result(
        patient=patient,
        investigation=investigation,
        taken_on=taken_on,
        by=by,
        values=[
            monitoring_services.EnteredValue(
                analyte,
                Decimal(value),
                labs.get_analyte(analyte).canonical_unit,
                Decimal(low) if low is not None else None,
                Decimal(high) if high is not None else None,
            )
            for analyte, value, low, high in values
        ],
        **extra,
    )


# What a neurologist writes when overriding a gate in these tests.
OVERRIDE_REASON = "Discussed at the MDT; benefit outweighs the risk"


def unmet_keys(refused: Any) -> set[str]:
    """The keys of the gates a refused action (pytest.raises(GateRefused)) did not meet."""
    return {gate.key for gate in refused.value.unmet}


def before_a_cladribine_course(
    patient: Patient, day: date, by: User, lymphocytes: str = "1.2"
) -> None:
    """Blood count, liver tests and a negative pregnancy test a few days before a course."""
    record_values(patient, "cbc", day, by, ("lymphocytes", lymphocytes, "1.0", "4.0"))
    record_values(patient, "lft", day, by, ("alt", "22", "0", "40"))
    record_values(patient, "pregnancy_test", day, by, qualitative="negative")
