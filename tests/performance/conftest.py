"""A generated clinic for the performance tests: the real generator, at two sizes."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from clinic.accounts.models import Role, User
from patients.models import Patient
from treatments.bench.generate import BENCH_PASSWORD, ClinicShape, generate


@pytest.fixture
def generated_clinic(db: None) -> Callable[..., None]:
    def _generate(*, patients: int, caseload: int, seed: int = 7) -> None:
        generate(
            ClinicShape(
                patients=patients,
                seed=seed,
                neurologists_per_team=2,
                nurses_per_team=2,
                therapists_per_team=2,
                caseload=caseload,
                small_caseload=caseload,
            )
        )

    return _generate


@pytest.fixture
def sign_in_generated(client: Client) -> Callable[[User], Client]:
    def _sign_in(user: User) -> Client:
        response = client.post(
            "/accounts/login/", {"username": user.username, "password": BENCH_PASSWORD}
        )
        assert response.status_code == 302, "sign-in failed"
        return client

    return _sign_in


def busiest(role: Role) -> User:
    """The generated clinician of this role with the most patients."""
    field = "neurology_patients" if role == Role.NEUROLOGIST else "nursing_patients"
    from django.db.models import Count

    return (
        User.objects.filter(role=role, email__endswith="@bench.invalid")
        .annotate(n=Count(field))
        .order_by("-n", "id")
        .first()
    )  # type: ignore[return-value]


def richest_patient(neurologist: User) -> Patient:
    from django.db.models import Count

    return (
        Patient.objects.filter(neurologist=neurologist)
        .annotate(n=Count("monitoring_items"))
        .order_by("-n", "id")
        .first()
    )  # type: ignore[return-value]
