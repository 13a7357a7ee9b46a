"""What the infusion day adds to the patient page: each recorded infusion with its checklist
(one query)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.urls import reverse

from patients.records.timeline import TimelineEvent

if TYPE_CHECKING:
    from patients.models import Patient


def infusion_timeline(patient: Patient) -> Iterable[TimelineEvent]:
    from treatments.models import InfusionState, InfusionVisit

    visits = InfusionVisit.objects.filter(
        patient=patient, state=InfusionState.RECORDED
    ).select_related("plan", "recorded_by")
    for visit in visits:
        url = reverse("treatments:infusion_visit", kwargs={"visit_id": visit.pk})
        assert visit.recorded_by is not None  # a recorded visit has its recorder
        if visit.override_reason:
            detail = (
                f"Checklist overridden by {visit.recorded_by.display_name}: {visit.override_reason}"
            )
        else:
            detail = "Checklist complete"
        if visit.reaction_grade:
            detail += f"; infusion reaction grade {visit.reaction_grade}"
        yield TimelineEvent(
            visit.infusion_on, "infusion", f"{visit.plan.drug_name} infusion", detail, url
        )
