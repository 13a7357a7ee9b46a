"""Gate overrides: a neurologist's written decision to give a dose, course or start despite a gate
of the catalogue that was not met (treatments.plans.gates decides; this is the record)."""

from __future__ import annotations

import pghistory
from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import GreaterThanOrEqual

from clinic import limits
from patients.models.scoping import PatientOwnedQuerySet

# A reason a colleague can act on later: "ok" or "x" is not one.
MIN_OVERRIDE_REASON_LENGTH = 10


class GateAction(models.TextChoices):
    START = "start", "Start"
    DOSE = "dose", "Dose / infusion"
    COURSE = "course", "Treatment course"


class GateOverrideQuerySet(PatientOwnedQuerySet["GateOverride"]):
    def to_chase(self) -> GateOverrideQuerySet:
        """Overrides of a missing check at the start: the check is still owed."""
        return self.filter(action=GateAction.START).exclude(investigation="")


@pghistory.track()
class GateOverride(models.Model):
    """One gate overridden for one administration: what the rule said, what was found, and why
    the neurologist gave it anyway. Never edited; a later result does not change it."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="gate_overrides"
    )
    plan = models.ForeignKey(
        "treatments.DmtPlan", on_delete=models.PROTECT, related_name="gate_overrides"
    )
    administration = models.ForeignKey(
        "treatments.DmtAdministration", on_delete=models.PROTECT, related_name="gate_overrides"
    )
    action = models.CharField(max_length=8, choices=GateAction.choices)
    gate_key = models.CharField(max_length=80)
    rule = models.TextField()
    value_seen = models.CharField(max_length=300)
    needed = models.CharField(max_length=300)
    source = models.CharField(max_length=200)
    investigation = models.CharField(
        max_length=40,
        blank=True,
        help_text="A missing check overridden at the start: it stays open to chase until done.",
    )
    reason = models.TextField(max_length=limits.NOTE)
    overridden_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    overridden_at = models.DateTimeField(auto_now_add=True)

    objects = GateOverrideQuerySet.as_manager()

    class Meta:
        ordering = ["overridden_at", "id"]
        indexes = [models.Index(fields=["patient", "overridden_at"], name="gate_override_patient")]
        constraints = [
            models.UniqueConstraint(
                fields=["administration", "gate_key"], name="one_override_per_gate_and_dose"
            ),
            models.CheckConstraint(
                name="gate_override_reason_length",
                condition=GreaterThanOrEqual(Length("reason"), MIN_OVERRIDE_REASON_LENGTH),
            ),
        ]

    def __str__(self) -> str:
        return f"Gate override {self.gate_key} on plan {self.plan_id}"

    @property
    def summary(self) -> str:
        return f"{self.rule} — found {self.value_seen}; needed {self.needed} ({self.source})"
