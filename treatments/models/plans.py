"""DMT plans: one course of one drug for one patient, and the doses or courses given."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

import pghistory
from django.db import models
from django.db.models import F, Q
from django.urls import reverse

from clinic import limits
from clinic.dates import from_1900
from patients.models.corrections import Correctable, CorrectableQuerySet, correction_constraints
from patients.models.scoping import PatientOwnedQuerySet
from treatments.protocols import Condition, PlanEvents


class PlanStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"
    STOPPED = "stopped", "Stopped"


CURRENT_STATUSES = (PlanStatus.ACTIVE, PlanStatus.SUSPENDED)


class StopReason(models.TextChoices):
    ADVERSE_EVENT = "adverse_event", "Adverse event"
    LACK_OF_EFFICACY = "lack_of_efficacy", "Lack of efficacy"
    PREGNANCY_PLANNING = "pregnancy_planning", "Pregnancy planning"
    PATIENT_CHOICE = "patient_choice", "Patient choice"
    OTHER = "other", "Other"


# Patient facts a clinician confirms on the plan; FEMALE comes from the patient record.
PLAN_CONDITION_CHOICES = [
    (Condition.DIABETES_OR_UVEITIS.value, "Diabetes, uveitis or retinal disease"),
    (Condition.THYROID_HISTORY.value, "History of thyroid disease"),
    (Condition.CARDIAC_RISK.value, "Cardiac risk (HR < 55, AV block, MI or heart failure)"),
    (Condition.JCV_POSITIVE.value, "JCV positive, index ≤ 1.5, no prior immunosuppressant"),
    (Condition.PML_HIGH_RISK.value, "JCV positive with index > 1.5 or prior immunosuppressant"),
]


class DmtPlanQuerySet(PatientOwnedQuerySet["DmtPlan"]):
    def current(self) -> DmtPlanQuerySet:
        return self.filter(status__in=CURRENT_STATUSES)


@pghistory.track()
class DmtPlan(models.Model):
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="dmt_plans"
    )
    protocol_version = models.ForeignKey(
        "treatments.ProtocolVersion", on_delete=models.PROTECT, related_name="plans"
    )
    drug_key = models.CharField(max_length=40)
    drug_name = models.CharField(max_length=120)
    status = models.CharField(max_length=12, choices=PlanStatus.choices, default=PlanStatus.PLANNED)
    conditions = models.JSONField(
        default=list,
        blank=True,
        help_text="Patient facts (condition keys) that switch conditional monitoring rules on.",
    )
    planned_on = models.DateField()
    started_on = models.DateField(null=True, blank=True)
    suspended_on = models.DateField(null=True, blank=True)
    suspend_reason = models.TextField(blank=True, max_length=limits.NOTE)
    stopped_on = models.DateField(null=True, blank=True)
    stop_reason = models.CharField(max_length=20, choices=StopReason.choices, blank=True)
    stop_note = models.TextField(blank=True, max_length=limits.NOTE)
    baseline_override_reason = models.TextField(
        blank=True,
        max_length=limits.NOTE,
        help_text="Why the plan was started with baseline checks outstanding.",
    )
    baseline_override_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_as_history = models.BooleanField(
        default=False,
        help_text=(
            "Entered afterwards as past therapy (treatments.plans.history or the go-live "
            "import): its start and doses are records of the past, not actions taken in Myelin."
        ),
    )
    switched_from = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="switched_to"
    )
    created_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DmtPlanQuerySet.as_manager()

    class Meta:
        ordering = ["-planned_on", "-id"]
        indexes = [models.Index(fields=["patient", "status"], name="dmt_plan_patient_status")]
        constraints = [
            *from_1900("dmt_plan", "started_on", "stopped_on"),
            # One drug at a time: a second current plan for the patient is refused by the
            # database even if two clinicians press "start" at the same moment.
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(status__in=["active", "suspended"]),
                name="one_current_dmt_plan",
                violation_error_message="This patient already has an active or suspended DMT.",
            ),
            models.CheckConstraint(
                name="dmt_plan_started_when_running",
                condition=~Q(status__in=["active", "suspended"]) | Q(started_on__isnull=False),
            ),
            models.CheckConstraint(
                name="dmt_plan_start_after_planning",
                condition=Q(started_on__isnull=True) | Q(started_on__gte=F("planned_on")),
            ),
            models.CheckConstraint(
                name="dmt_plan_stop_after_start",
                condition=Q(stopped_on__isnull=True)
                | Q(started_on__isnull=True)
                | Q(stopped_on__gte=F("started_on")),
            ),
            models.CheckConstraint(
                name="dmt_plan_stopped_has_reason",
                condition=~Q(status="stopped") | (Q(stopped_on__isnull=False) & ~Q(stop_reason="")),
            ),
        ]

    def __str__(self) -> str:
        return f"DMT plan {self.pk} ({self.drug_key}, {self.status})"

    def get_absolute_url(self) -> str:
        return reverse(
            "treatments:plan",
            kwargs={"external_id": self.patient.external_id, "plan_id": self.pk},
        )

    @property
    def is_current(self) -> bool:
        return self.status in CURRENT_STATUSES

    @property
    def is_planned(self) -> bool:
        return self.status == PlanStatus.PLANNED

    @property
    def has_override(self) -> bool:
        return bool(self.baseline_override_reason)

    def can_record_administration(self) -> bool:
        return self.status in CURRENT_STATUSES

    def plan_events(
        self,
        administrations: list[DmtAdministration],
        interruptions: Sequence[DmtInterruption] = (),
    ) -> PlanEvents:
        """What has happened on the plan, in the engine's terms (corrected doses count for
        nothing, whatever list the caller loaded)."""
        administrations = [a for a in administrations if not a.correction]
        doses = tuple(a.given_on for a in administrations if a.kind == AdministrationKind.DOSE)
        courses = tuple(a.given_on for a in administrations if a.kind == AdministrationKind.COURSE)
        return PlanEvents(
            first_dose_on=self.started_on,
            doses=doses,
            courses=courses,
            stopped_on=self.stopped_on,
            interruptions=tuple((i.stopped_taking_on, i.resumed_on) for i in interruptions),
        )

    def period_end(self) -> date | None:
        return self.stopped_on


class AdministrationKind(models.TextChoices):
    DOSE = "dose", "Dose / infusion"
    COURSE = "course", "Treatment course"


@pghistory.track()
class DmtAdministration(Correctable):
    """A dose, infusion or course start given on a plan; drives anchored monitoring rules.
    Only standing rows count (`plan.administrations.standing()`)."""

    plan = models.ForeignKey(DmtPlan, on_delete=models.PROTECT, related_name="administrations")
    kind = models.CharField(max_length=8, choices=AdministrationKind.choices)
    given_on = models.DateField()
    note = models.CharField(max_length=200, blank=True)
    # Doses by body-surface area (mitoxantrone, §3.17): the dose and what its BSA came from.
    dose_mg_m2 = models.DecimalField(
        "Dose (mg/m²)", max_digits=5, decimal_places=2, null=True, blank=True
    )
    height_cm = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    weight_kg = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    bsa_m2 = models.DecimalField("BSA (m²)", max_digits=4, decimal_places=2, null=True, blank=True)
    recorded_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    objects = CorrectableQuerySet.as_manager()

    class Meta:
        ordering = ["given_on", "id"]
        constraints = [
            *from_1900("dmt_administration", "given_on"),
            models.UniqueConstraint(
                fields=["plan", "kind", "given_on"],
                condition=Q(correction=""),
                name="one_administration_per_day",
                violation_error_message="This dose or course is already recorded on that date.",
            ),
            # A dose in mg/m² is meaningless without the BSA it was calculated on.
            models.CheckConstraint(
                name="administration_dose_has_bsa",
                condition=Q(dose_mg_m2__isnull=True) | (Q(dose_mg_m2__gt=0) & Q(bsa_m2__gt=0)),
            ),
            *correction_constraints("administration"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.given_on:%Y-%m-%d} on plan {self.plan_id}"

    @property
    def dose_display(self) -> str:
        if self.dose_mg_m2 is None or self.bsa_m2 is None:
            return ""
        total = (self.dose_mg_m2 * self.bsa_m2).quantize(Decimal("0.1"))
        return f"{self.dose_mg_m2.normalize():f} mg/m² × {self.bsa_m2:f} m² = {total:f} mg"


@pghistory.track()
class DmtInterruption(models.Model):
    """A gap in treatment: the plan was suspended and resumed. Some labels repeat the start of
    treatment after a long enough gap (fingolimod's first-dose observation, §3.6); the engine
    reads these as ``PlanEvents.interruptions``."""

    plan = models.ForeignKey(DmtPlan, on_delete=models.PROTECT, related_name="interruptions")
    stopped_taking_on = models.DateField(help_text="The first day without the drug.")
    resumed_on = models.DateField(help_text="The day the drug was taken again.")
    recorded_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["stopped_taking_on", "id"]
        constraints = [
            models.CheckConstraint(
                name="dmt_interruption_resumed_after_stop",
                condition=Q(resumed_on__gte=F("stopped_taking_on")),
            ),
        ]

    def __str__(self) -> str:
        return f"Interruption {self.stopped_taking_on:%Y-%m-%d} on plan {self.plan_id}"

    @property
    def days_without_drug(self) -> int:
        return (self.resumed_on - self.stopped_taking_on).days


@pghistory.track()
class BaselineCheckRecord(models.Model):
    """A baseline check ticked as done on a plan (e.g. done elsewhere, no result to enter)."""

    plan = models.ForeignKey(DmtPlan, on_delete=models.PROTECT, related_name="baseline_records")
    investigation = models.CharField(max_length=40)
    done_on = models.DateField()
    note = models.CharField(max_length=200, blank=True)
    checked_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    checked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["investigation"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "investigation"], name="one_baseline_record_per_check"
            ),
        ]

    def __str__(self) -> str:
        return f"Baseline {self.investigation} on plan {self.plan_id}"
