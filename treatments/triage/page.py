"""What the relapse triage line adds to the patient page: each call on the timeline (one query)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.urls import reverse
from django.utils import timezone

from patients.records.timeline import TimelineEvent

if TYPE_CHECKING:
    from patients.models import Patient


def triage_timeline(patient: Patient) -> Iterable[TimelineEvent]:
    from treatments.models import TriageCall

    for call in TriageCall.objects.filter(patient=patient):
        url = reverse("treatments:triage_call", kwargs={"call_id": call.pk})
        outcome = call.get_outcome_display()
        yield TimelineEvent(
            timezone.localtime(call.called_at).date(),
            "triage",
            f"Relapse triage call: {outcome.split(':')[0].lower()}",
            outcome,
            url,
        )
        if call.closed_at is not None:
            yield TimelineEvent(
                timezone.localtime(call.closed_at).date(),
                "triage",
                "Relapse triage call closed",
                call.close_note,
                url,
            )
