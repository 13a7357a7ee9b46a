"""What aHSCT contributes to the patient page: the referral's milestones and the transplant
(2 queries; the referral's own steps are on the referrals timeline)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.urls import reverse

from patients.records.timeline import TimelineEvent

if TYPE_CHECKING:
    from patients.models import Patient


def transplant_timeline(patient: Patient) -> Iterable[TimelineEvent]:
    from treatments.models import Transplant

    url = reverse("transplant:patient", kwargs={"external_id": patient.external_id})
    for row in Transplant.objects.filter(patient=patient):
        if row.mobilised_on is not None:
            yield TimelineEvent(
                row.mobilised_on, "transplant", "aHSCT: stem-cell mobilisation", url=url
            )
        yield TimelineEvent(
            row.transplanted_on,
            "transplant",
            "Autologous stem-cell transplant (day 0)",
            f"{row.centre}; {row.get_conditioning_display()}",
            url,
        )
