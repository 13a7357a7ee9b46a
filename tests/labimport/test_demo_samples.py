"""The sample lab messages in the repository, imported into the demo clinic as `seed_demo` does:
a normal panel, an abnormal ALT that alerts, a correction that amends, an unknown patient held."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from clinic import demo
from patients import demo as patients_demo
from treatments import demo as treatments_demo
from treatments.labimport import demo as lab_demo
from treatments.models import Alert, AlertKind, InboundMessage, MessageState, Result, ReviewItem

pytestmark = pytest.mark.django_db


def test_the_demo_imports_every_sample_as_its_name_says(
    today: date, django_capture_on_commit_callbacks: Any
) -> None:
    users = demo.seed_staff()
    patients_demo.seed(users)
    treatments_demo.seed(users)
    before = Result.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        summaries = lab_demo.seed(today=today)

    states = [s.outcomes[0].message.state for s in summaries]
    assert states == [
        MessageState.IMPORTED,
        MessageState.IMPORTED,
        MessageState.IMPORTED,
        MessageState.QUEUED,
    ]
    # The panel (CBC and liver: two results) and the abnormal liver panel; the correction
    # amends the latter: a third standing result, the original kept struck through.
    assert Result.objects.count() == before + 4
    assert Result.objects.standing().count() == before + 3
    sofia = Result.objects.standing().get(patient__mrn="MS100003", lab="NORTHLAB")
    assert sofia.amends is not None
    assert sofia.amends.is_amended
    assert sofia.taken_on == today - timedelta(days=2)
    assert sofia.values.get(analyte="ast").value == 59
    assert "Corrected report: AST was transcribed as 95" in sofia.note
    assert Alert.objects.filter(
        patient__mrn="MS100003", kind=AlertKind.ABNORMAL_RESULT, raised_by_id=str(sofia.pk)
    ).exists()
    held = ReviewItem.objects.get()
    assert held.message.version == "2.3"
    assert held.patient is None
    assert InboundMessage.objects.filter(state=MessageState.IMPORTED).count() == 3
