"""Patient-reported outcomes: a questionnaire link sent to one patient.

A link names one patient and the questionnaires chosen for them, expires, and is used once. The
patient reaches it through a signed token (``treatments.pro.services``) that carries only the
link's random ``external_id``; everything else — whose link it is, what it asks, whether it is
still usable — is on this row, so single use, revocation and the lock after wrong dates of
birth hold whatever the token says.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import pghistory
from django.db import models
from django.db.models import Q
from django.utils import timezone

from patients.models.scoping import PatientOwnedQuerySet


class LinkState(models.TextChoices):
    OPEN = "open", "Waiting for the patient"
    USED = "used", "Completed"
    EXPIRED = "expired", "Expired"
    REVOKED = "revoked", "Withdrawn"
    LOCKED = "locked", "Locked (wrong dates of birth)"


class QuestionnaireLinkQuerySet(PatientOwnedQuerySet["QuestionnaireLink"]):
    def usable(self, *, at: datetime) -> QuestionnaireLinkQuerySet:
        return self.filter(
            used_at__isnull=True,
            revoked_at__isnull=True,
            locked_at__isnull=True,
            expires_at__gt=at,
        )


@pghistory.track()
class QuestionnaireLink(models.Model):
    external_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="questionnaire_links"
    )
    # treatments.questionnaires keys, in the order the patient sees them.
    questionnaires = models.JSONField()
    created_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    emailed_at = models.DateTimeField(null=True, blank=True)
    failed_dob_attempts = models.PositiveSmallIntegerField(default=0)
    locked_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    used_at = models.DateTimeField(null=True, blank=True)
    # The answers as given, item by item, per questionnaire (the scores are OutcomeMeasurements).
    answers = models.JSONField(default=dict, blank=True)

    objects = QuestionnaireLinkQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["patient", "-created_at"], name="pro_link_patient")]
        constraints = [
            models.CheckConstraint(
                name="pro_link_expires_after_creation",
                condition=Q(expires_at__gt=models.F("created_at")),
            ),
            models.CheckConstraint(name="pro_link_asks_something", condition=~Q(questionnaires=[])),
            models.CheckConstraint(
                name="pro_link_used_once_not_revoked",
                condition=Q(used_at__isnull=True) | Q(revoked_at__isnull=True),
            ),
            models.CheckConstraint(
                name="pro_link_revoked_by_someone",
                condition=Q(revoked_at__isnull=True) | Q(revoked_by__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"Questionnaire link {self.pk}"

    def state_at(self, at: datetime) -> LinkState:
        if self.used_at is not None:
            return LinkState.USED
        if self.revoked_at is not None:
            return LinkState.REVOKED
        if self.locked_at is not None:
            return LinkState.LOCKED
        if at >= self.expires_at:
            return LinkState.EXPIRED
        return LinkState.OPEN

    @property
    def state(self) -> LinkState:
        return self.state_at(timezone.now())

    def is_usable_at(self, at: datetime) -> bool:
        return self.state_at(at) == LinkState.OPEN
