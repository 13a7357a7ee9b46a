from __future__ import annotations

from django.conf import settings
from django.db import models


class DigestLog(models.Model):
    """One row per clinician per day: claimed before the daily digest is sent."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    on = models.DateField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "on"], name="one_digest_per_user_per_day")
        ]

    def __str__(self) -> str:
        return f"Digest {self.user_id} {self.on}"
