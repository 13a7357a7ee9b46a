"""Symptomatic and relapse treatments recorded on the patient."""

from __future__ import annotations

import pghistory
from django.db import models
from django.db.models import F, Q

from clinic import limits
from patients.models.corrections import (
    Correctable,
    PatientCorrectableQuerySet,
    correction_constraints,
)


class TreatmentKind(models.TextChoices):
    SYMPTOMATIC = "symptomatic", "Symptomatic"
    RELAPSE = "relapse", "Relapse treatment"


class Indication(models.TextChoices):
    SPASTICITY = "spasticity", "Spasticity"
    FATIGUE = "fatigue", "Fatigue"
    BLADDER = "bladder", "Bladder"
    PAIN = "pain", "Pain"
    MOOD = "mood", "Mood"
    COGNITION = "cognition", "Cognition"
    SLEEP = "sleep", "Sleep"
    RELAPSE = "relapse", "Relapse"
    OTHER = "other", "Other"


class SymptomaticTreatmentQuerySet(PatientCorrectableQuerySet["SymptomaticTreatment"]):
    def current_on(self, day: object) -> SymptomaticTreatmentQuerySet:
        return self.filter(started_on__lte=day).filter(
            Q(stopped_on__isnull=True) | Q(stopped_on__gte=day)
        )


@pghistory.track()
class SymptomaticTreatment(Correctable):
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="symptomatic_treatments"
    )
    kind = models.CharField(
        max_length=12, choices=TreatmentKind.choices, default=TreatmentKind.SYMPTOMATIC
    )
    drug = models.CharField(max_length=120)
    indication = models.CharField(max_length=12, choices=Indication.choices)
    dose = models.CharField(max_length=120, blank=True, help_text="e.g. 10 mg three times daily")
    started_on = models.DateField()
    stopped_on = models.DateField(null=True, blank=True)
    note = models.TextField(blank=True, max_length=limits.NOTE)
    recorded_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    objects = SymptomaticTreatmentQuerySet.as_manager()

    class Meta:
        ordering = ["-started_on", "-id"]
        constraints = [
            models.CheckConstraint(
                name="symptomatic_stop_after_start",
                condition=Q(stopped_on__isnull=True) | Q(stopped_on__gte=F("started_on")),
            ),
            *correction_constraints("symptomatic"),
        ]

    def __str__(self) -> str:
        return f"Symptomatic treatment {self.pk}"

    @property
    def is_relapse_treatment(self) -> bool:
        return self.kind == TreatmentKind.RELAPSE
