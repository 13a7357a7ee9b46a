"""The access trail: who read or changed which patient's data, when, and what kind of data.

Rows are append-only and hash-chained: each row stores the SHA-256 of its own fields and the
previous row's hash, so `manage.py audit verify` detects a modified, deleted or reordered row.
A plain database trigger (migration 0004; no session setting turns it off) refuses UPDATE,
DELETE and TRUNCATE, the running app connects as a role that may only read and append
(`clinic.audit.protection`), and signed checkpoints of the chain's head kept outside the
database (`clinic.audit.checkpoints`) catch a rewrite by someone who owns the tables anyway: an
edit followed by recomputing every later hash, or the deletion of the newest rows.

Two hash schemes exist. Scheme 1 (the first rows of an older installation) hashes the whole row
in Python. Scheme 2, used for every new row, lets the database chain rows in the same statement
that inserts them (`audit_append`, migration 0003): Python sends a digest of the row's contents
and the database stores sha256("<previous hash>:<id>:<digest>"). Both are checked the same way. Writes to clinical tables are additionally kept
as history rows by django-pghistory (see `clinic.audit.history`).
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from django.conf import settings
from django.db import models


class Action(models.TextChoices):
    VIEW = "view", "Viewed"
    LIST = "list", "Listed"
    CREATE = "create", "Created"
    UPDATE = "update", "Changed"
    # Corrections of clinical records (patients.models.corrections), each its own event.
    AMEND = "amend", "Amended"
    ENTERED_IN_ERROR = "entered_in_error", "Marked entered in error"
    DELETE = "delete", "Deleted"
    EXPORT = "export", "Exported"
    BREAK_GLASS = "break_glass", "Emergency access"
    LOGIN = "login", "Logged in"
    LOGOUT = "logout", "Logged out"
    LOGIN_FAILED = "login_failed", "Failed login"
    PASSWORD_RESET = "password_reset", "Password reset"


class Category(models.TextChoices):
    DEMOGRAPHICS = "demographics", "Demographics"
    CLINICAL = "clinical", "Clinical picture"
    TREATMENT = "treatment", "Treatment"
    MONITORING = "monitoring", "Monitoring and results"
    ALERT = "alert", "Alerts"
    REFERRAL = "referral", "Referrals"
    REHAB = "rehab", "Rehabilitation"
    TRIAGE = "triage", "Relapse triage"
    INFUSION = "infusion", "Infusion day"
    MDT = "mdt", "MDT meetings"
    SUPPORTIVE = "supportive", "Supportive care"
    ACCOUNT = "account", "Account"
    AUDIT = "audit", "Audit trail"
    # Who may do what: users, roles, care teams, the break-glass right (clinic.accounts.staff).
    ADMINISTRATION = "administration", "User administration"
    FAMILY_PLANNING = "family_planning", "Family planning and pregnancy"
    TRANSPLANT = "transplant", "Stem-cell transplantation"


GENESIS_HASH = "0" * 64
CURRENT_SCHEME = 2


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
    scheme = models.PositiveSmallIntegerField(default=CURRENT_SCHEME)

    class Meta:
        ordering = ["-id"]
        indexes = [
            # The audit report filters by patient or by user, newest first.
            models.Index(fields=["patient", "-at"], name="audit_patient_at"),
            models.Index(fields=["user", "-at"], name="audit_user_at"),
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

    def content_digest(self) -> str:
        """Scheme 2: what the row says, without its place in the chain."""
        return content_digest(
            at=self.at,
            user_id=self.user_id,
            patient_id=self.patient_id,
            action=self.action,
            category=self.category,
            object_type=self.object_type,
            object_id=self.object_id,
            detail=self.detail,
        )

    def compute_hash(self) -> str:
        if self.scheme == 1:
            return hashlib.sha256(self.canonical()).hexdigest()
        return chain_hash(self.prev_hash, self.id, self.content_digest())


def content_digest(
    *,
    at: datetime,
    user_id: int | None,
    patient_id: int | None,
    action: str,
    category: str,
    object_type: str,
    object_id: str,
    detail: str,
) -> str:
    fields = [at.isoformat(), user_id, patient_id, action, category, object_type, object_id, detail]
    return hashlib.sha256(json.dumps(fields, separators=(",", ":")).encode()).hexdigest()


def chain_hash(prev_hash: str, event_id: int, digest: str) -> str:
    """The same formula as the audit_append() database function (migration 0003)."""
    return hashlib.sha256(f"{prev_hash}:{event_id}:{digest}".encode()).hexdigest()
