"""The DMT catalogue as stored, versioned data, and the clinic's catalogue settings."""

from __future__ import annotations

from datetime import date
from functools import cached_property

from django.conf import settings
from django.db import models
from django.db.models import Q

from treatments.protocols import Protocol, protocol_from_dict
from treatments.protocols.relapse_triage import RELAPSE_TRIAGE


class Region(models.TextChoices):
    US = "US", "United States (FDA labels)"
    EU = "EU", "Europe (EMA SmPCs)"


GENERAL_DRUG_KEY = "general"
# Catalogue entries that are procedures, not drugs a clinician plans: listed in the catalogue,
# but recorded through their own page (aHSCT: treatments.transplant), never in "Plan a DMT".
PROCEDURE_KEYS = ("ahsct",)


class ProtocolVersionQuerySet(models.QuerySet["ProtocolVersion"]):
    def drugs(self) -> ProtocolVersionQuerySet:
        """The drugs a clinician plans (not the general duties, not procedures such as aHSCT)."""
        return self.exclude(drug_key=GENERAL_DRUG_KEY).exclude(drug_key__in=PROCEDURE_KEYS)

    def dosed_by_body_surface(self) -> ProtocolVersionQuerySet:
        """The protocols whose every dose is recorded in mg/m² with the BSA (`bsa_dosing`)."""
        return self.filter(data__bsa_dosing__usual_mg_m2__isnull=False)

    def in_effect(self, *, drug_key: str, region: str, on: date) -> ProtocolVersion | None:
        """The latest version of the drug's protocol for the region in effect on a date."""
        return (
            self.filter(drug_key=drug_key, region=region, effective_from__lte=on)
            .order_by("-effective_from", "-loaded_at")
            .first()
        )


_DECODED: dict[tuple[object, ...], Protocol] = {}
_DECODED_MAX = 512


class ProtocolVersion(models.Model):
    """One version of one drug's protocol for one label region, frozen as JSON.

    A DMT plan pins the version it was started under, so a later catalogue release never
    rewrites the duties of a plan already running. Loaded from `treatments.protocols` by
    `manage.py load_catalogue` (idempotent) and by migration 0004_load_catalogue.
    """

    drug_key = models.CharField(max_length=40)
    drug_name = models.CharField(max_length=120)
    region = models.CharField(max_length=2, choices=Region.choices)
    version = models.CharField(max_length=20)
    effective_from = models.DateField()
    data = models.JSONField()
    loaded_at = models.DateTimeField(auto_now_add=True)

    objects = ProtocolVersionQuerySet.as_manager()

    class Meta:
        ordering = ["drug_name", "region", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["drug_key", "region", "version"], name="protocol_version_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.drug_key} {self.region} v{self.version}"

    @cached_property
    def protocol(self) -> Protocol:
        # A version is frozen once loaded (a change is a new version), and its Protocol is
        # immutable: decoded once per process, not once per plan row (evaluation and the
        # sweeps load thousands of plans).
        key = (self.pk, self.drug_key, self.region, self.version, self.loaded_at)
        if self.pk is None or None in key:
            return protocol_from_dict(self.data)
        decoded = _DECODED.get(key)
        if decoded is None:
            if len(_DECODED) >= _DECODED_MAX:
                _DECODED.clear()
            decoded = _DECODED[key] = protocol_from_dict(self.data)
        return decoded

    @property
    def is_general(self) -> bool:
        return self.drug_key == GENERAL_DRUG_KEY


class ClinicSettings(models.Model):
    """The clinic's choices for the catalogue: one row, edited by admins.

    `label_region` decides which region's protocol new plans pin (running plans keep theirs);
    `review_interval_months` is the neurology-review interval of the general protocol (3-6);
    `go_live_on` is the day the clinic began tracking in Myelin: monitoring items of a history
    entered afterwards that fell due before it are marked "before go-live" and never alert
    (empty: no history boundary, every item is live).
    """

    SINGLETON_ID = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON_ID, editable=False)
    label_region = models.CharField(max_length=2, choices=Region.choices)
    review_interval_months = models.PositiveSmallIntegerField(
        default=6, help_text="Neurology review with EDSS every 3 to 6 months."
    )
    phq9_enabled = models.BooleanField(
        "Offer the PHQ-9 in patient questionnaires",
        default=False,
        help_text="A PHQ-9 item 9 answer above 'not at all' raises a critical alert for the "
        "patient's neurologist: switch it on only when someone reads alerts every day.",
    )
    go_live_on = models.DateField(
        "Go-live date",
        null=True,
        blank=True,
        help_text=(
            "The day the clinic began tracking in Myelin. Monitoring of past therapy that fell "
            "due before it is shown as 'before go-live' and never alerts."
        ),
    )
    relapse_review_hours = models.PositiveSmallIntegerField(
        "Urgent review of a possible relapse within (hours)",
        default=RELAPSE_TRIAGE.default_review_hours,
        help_text="The relapse triage line's clock: a possible relapse is reviewed within this "
        "many hours of the call (red flags: the same day).",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "clinic settings"
        verbose_name_plural = "clinic settings"
        constraints = [
            models.CheckConstraint(name="clinic_settings_singleton", condition=Q(id=1)),
            models.CheckConstraint(
                name="clinic_settings_relapse_review_hours",
                condition=Q(relapse_review_hours__gte=1, relapse_review_hours__lte=168),
            ),
            models.CheckConstraint(
                name="clinic_settings_review_interval",
                condition=Q(review_interval_months__gte=3, review_interval_months__lte=6),
            ),
        ]

    def __str__(self) -> str:
        return "Clinic settings"

    @classmethod
    def load(cls) -> ClinicSettings:
        found, _ = cls.objects.get_or_create(
            id=cls.SINGLETON_ID,
            defaults={"label_region": settings.LABEL_REGION, "review_interval_months": 6},
        )
        return found
