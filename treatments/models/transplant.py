"""Autologous stem-cell transplantation (aHSCT, §3.19): the transplant as a dated event, tied to
the referral that led to it and to the plan that carries its post-transplant monitoring."""

from __future__ import annotations

import pghistory
from django.db import models
from django.db.models import F, Q

from clinic import limits
from clinic.dates import from_1900
from patients.models.scoping import PatientOwnedQuerySet


class Conditioning(models.TextChoices):
    """The conditioning regimens of EBMT-2019 (§3.19)."""

    BEAM_ATG = "beam_atg", "BEAM + ATG (intermediate intensity)"
    CY_ATG = "cy200_atg", "Cyclophosphamide 200 mg/kg + ATG (non-myeloablative)"
    OTHER = "other", "Other (see note)"


@pghistory.track()
class Transplant(models.Model):
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="transplants"
    )
    referral = models.ForeignKey("patients.Referral", on_delete=models.PROTECT, related_name="+")
    plan = models.OneToOneField(
        "treatments.DmtPlan",
        on_delete=models.PROTECT,
        related_name="transplant",
        help_text="The aHSCT plan whose protocol materialises the post-transplant monitoring.",
    )
    centre = models.CharField("Transplant centre", max_length=120)
    mobilised_on = models.DateField("Mobilisation date", null=True, blank=True)
    transplanted_on = models.DateField("Stem-cell reinfusion (day 0)")
    conditioning = models.CharField(max_length=12, choices=Conditioning.choices)
    note = models.TextField(blank=True, max_length=limits.NOTE)
    recorded_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PatientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-transplanted_on", "-id"]
        constraints = [
            *from_1900("transplant", "mobilised_on", "transplanted_on"),
            models.CheckConstraint(
                name="transplant_mobilised_before_day_0",
                condition=Q(mobilised_on__isnull=True) | Q(mobilised_on__lte=F("transplanted_on")),
                violation_error_message="Mobilisation comes before the reinfusion.",
            ),
        ]

    def __str__(self) -> str:
        return f"Transplant {self.pk}"
