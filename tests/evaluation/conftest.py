"""Evaluation fixtures: the treatments clinic day and plans, and a helper that records a result
and evaluates it the way the after-commit task does."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from clinic.accounts.models import User
from patients.models import Patient
from tests.treatments.conftest import eu_clinic, start_plan, today, us_clinic  # noqa: F401
from treatments.models import Alert, Result
from treatments.monitoring import services as monitoring_services
from treatments.safety import batch as evaluation_batch
from treatments.safety import evaluation

Value = tuple[str, str, str | None, str | None]  # analyte, value, LLN, ULN (canonical unit)

UNITS = {
    "alt": "U/L",
    "ast": "U/L",
    "bilirubin": "µmol/L",
    "creatinine": "µmol/L",
    "lvef": "%",
    "qtc": "ms",
    "igg": "g/L",
}


def entered(
    analyte: str, value: str, low: str | None, high: str | None
) -> monitoring_services.EnteredValue:
    return monitoring_services.EnteredValue(
        analyte,
        Decimal(value),
        UNITS.get(analyte, "×10⁹/L"),
        Decimal(low) if low is not None else None,
        Decimal(high) if high is not None else None,
    )


Record = Callable[..., Result]


@pytest.fixture(params=["alone", "batched"])
def record(request: pytest.FixtureRequest, nurse: User) -> Record:
    """Record a result through the service and run its evaluation: the single result's task
    body, and (the same story again) the lab import's batch task, which must decide the same."""
    evaluate_one = (
        (lambda pk: evaluation.evaluate_result(result_id=pk))
        if request.param == "alone"
        else (lambda pk: evaluation_batch.evaluate_results(result_ids=[pk]))
    )

    def _record(
        patient: Patient,
        investigation: str,
        taken_on: date,
        *values: Value,
        evaluate: bool = True,
        **extra: Any,
    ) -> Result:
        result = monitoring_services.record_result(
            patient=patient,
            investigation=investigation,
            taken_on=taken_on,
            values=[entered(*v) for v in values],
            by=nurse,
            **extra,
        )
        if evaluate:
            evaluate_one(result.pk)
        return result

    return _record


def keys(patient: Patient) -> set[str]:
    return set(Alert.objects.filter(patient=patient).values_list("condition_key", flat=True))
