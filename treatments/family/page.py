"""What family planning contributes to the patient page: its timeline entries (3 queries)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.urls import reverse

from patients.records.timeline import TimelineEvent

if TYPE_CHECKING:
    from patients.models import Patient


def family_timeline(patient: Patient) -> Iterable[TimelineEvent]:
    from treatments.models import EliminationLevel, FamilyPlan, Pregnancy, PregnancyOutcome

    url = reverse("family:patient", kwargs={"external_id": patient.external_id})
    for plan in FamilyPlan.objects.filter(patient=patient):
        yield TimelineEvent(
            plan.created_on,
            "family",
            f"Conception planned for {plan.intended_conception_on:%d %b %Y}",
            plan.note,
            url,
        )
    for level in EliminationLevel.objects.filter(patient=patient):
        yield TimelineEvent(
            level.taken_on, "family", f"Teriflunomide level {level.value_mg_l} mg/L", url=url
        )
    for pregnancy in Pregnancy.objects.filter(patient=patient):
        yield TimelineEvent(
            pregnancy.conceived_on,
            "pregnancy",
            "Pregnancy (estimated conception)",
            f"Expected delivery {pregnancy.expected_delivery_on:%d %b %Y}",
            url,
        )
        if pregnancy.ended_on is not None:
            delivered = pregnancy.outcome == PregnancyOutcome.DELIVERED
            feeding = " (breast-feeding)" if delivered and pregnancy.breastfeeding else ""
            yield TimelineEvent(
                pregnancy.ended_on,
                "pregnancy",
                ("Delivery" if delivered else "Pregnancy loss") + feeding,
                url=url,
            )
