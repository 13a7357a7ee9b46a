"""The access trail: who read or changed which patient's data, when, and what kind of data.

Rows are append-only (a database trigger refuses UPDATE and DELETE) and hash-chained: each row
stores the SHA-256 of its own fields and the previous row's hash, so `manage.py audit verify`
detects a modified, deleted or reordered row. Writes to clinical tables are additionally kept
as history rows by django-pghistory (see `clinic.audit.history`).
"""

from __future__ import annotations

import hashlib
import json

import pgtrigger
from django.conf import settings
from django.db import models


class Action(models.TextChoices):
    VIEW = "view", "Viewed"
    LIST = "list", "Listed"
    CREATE = "create", "Created"
    UPDATE = "update", "Changed"
    DELETE = "delete", "Deleted"
    EXPORT = "export", "Exported"
    BREAK_GLASS = "break_glass", "Emergency access"
    LOGIN = "login", "Logged in"
    LOGOUT = "logout", "Logged out"
    LOGIN_FAILED = "login_failed", "Failed login"


class Category(models.TextChoices):
    DEMOGRAPHICS = "demographics", "Demographics"
    CLINICAL = "clinical", "Clinical picture"
    TREATMENT = "treatment", "Treatment"
    MONITORING = "monitoring", "Monitoring and results"
    ALERT = "alert", "Alerts"
    REFERRAL = "referral", "Referrals"
    REHAB = "rehab", "Rehabilitation"
    ACCOUNT = "account", "Account"
    AUDIT = "audit", "Audit trail"


GENESIS_HASH = "0" * 64


class AccessEvent(models.Model):
    id = models.BigAutoField(primary_key=True)
    at = models.DateTimeField(db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=20, choices=Action.choices)
    category = models.CharField(max_length=20, choices=Category.choices)
    # What was touched, by type and id (never a name or a value), and a short fixed description.
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    detail = models.CharField(max_length=200, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            # The audit report filters by patient or by user, newest first.
            models.Index(fields=["patient", "-at"], name="audit_patient_at"),
            models.Index(fields=["user", "-at"], name="audit_user_at"),
        ]
        triggers = [
            pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete),
            pgtrigger.Trigger(
                name="no_truncate",
                operation=pgtrigger.Truncate,
                level=pgtrigger.Statement,
                when=pgtrigger.Before,
                # Only the throwaway test database sets this flag, so that transactional tests can
                # be flushed between tests; nothing else can empty the trail.
                func=(
                    "IF coalesce(current_setting('myelin.allow_audit_truncate', true), '') <> 'on' "
                    "THEN RAISE EXCEPTION 'The audit trail is append-only'; END IF; RETURN NULL;"
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.user_id} {self.action} {self.category}"

    def canonical(self) -> bytes:
        """The fields the hash covers, in a fixed order and encoding."""
        return json.dumps(
            [
                self.id,
                self.at.isoformat(),
                self.user_id,
                self.patient_id,
                self.action,
                self.category,
                self.object_type,
                self.object_id,
                self.detail,
                self.prev_hash,
            ],
            separators=(",", ":"),
        ).encode()

    def compute_hash(self) -> str:
        return hashlib.sha256(self.canonical()).hexdigest()
