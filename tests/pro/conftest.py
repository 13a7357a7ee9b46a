"""Patient questionnaires: a link for Alice (team A), and the answers she might give."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils.http import urlencode

from clinic.accounts.models import User
from patients.models import Patient
from tests.rehab.conftest import log_session  # noqa: F401  (shared fixture)
from treatments import questionnaires
from treatments.models import QuestionnaireLink
from treatments.pro import services

ADDRESS = "127.0.0.1"  # the test client's address


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> Iterator[None]:
    """The rate limits count in Redis, which outlives a test: start and end each at zero."""
    keys = [f"pro-rate:{bucket}:{ADDRESS}" for bucket in ("requests", "dob")]
    cache.delete_many(keys)
    yield
    cache.delete_many(keys)


@pytest.fixture
def make_link(patient_a: Patient, neurologist: User) -> Callable[..., QuestionnaireLink]:
    def _make(keys: tuple[str, ...] = ("msis29", "mfis"), **extra: Any) -> QuestionnaireLink:
        return services.create_link(
            patient=extra.pop("patient", patient_a),
            keys=list(keys),
            by=extra.pop("by", neurologist),
            **extra,
        )

    return _make


def start_url(link: QuestionnaireLink, token: str | None = None) -> str:
    return f"{reverse('pro:start')}?{urlencode({'t': token or services.token_for(link)})}"


def answer_url(link: QuestionnaireLink, token: str | None = None) -> str:
    return f"{reverse('pro:answer')}?{urlencode({'t': token or services.token_for(link)})}"


def dob_post(patient: Patient) -> dict[str, str]:
    born = patient.date_of_birth
    return {"day": str(born.day), "month": str(born.month), "year": str(born.year)}


def answers(
    keys: tuple[str, ...] | list[str], value: int | dict[str, int] = 2
) -> dict[str, dict[int, object]]:
    """Item answers by questionnaire key: ``value`` for every item (or one per questionnaire)."""
    return {
        key: {
            item.number: value[key] if isinstance(value, dict) else value
            for item in questionnaires.QUESTIONNAIRES[key].items
        }
        for key in keys
    }


def answers_post(link: QuestionnaireLink, value: int | dict[str, int] = 2) -> dict[str, str]:
    """The questionnaire form as the browser posts it, every item answered, with the proof."""
    data = {"proof": services.proof_for(link)}
    for key in link.questionnaires:
        v = value[key] if isinstance(value, dict) else value
        for item in questionnaires.QUESTIONNAIRES[key].items:
            data[questionnaires.field_name(key, item.number)] = str(v)
    return data
