"""The QuerySet every patient-owned model uses: the one scoping rule, applied to other tables."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

from django.db import models

if TYPE_CHECKING:
    from clinic.accounts.models import User


class PatientOwnedQuerySet[M: models.Model](models.QuerySet[M]):
    """Rows that belong to one patient (a `patient` foreign key). What a user may see of them is
    decided by `Patient.objects.visible_ids(user)`, the one scoping rule, never again here; what
    they may change by `Patient.objects.editable_ids(user)`."""

    def visible_to(self, user: User) -> Self:
        return self.filter(patient__in=self._patients().visible_ids(user))

    def editable_by(self, user: User) -> Self:
        """Rows the user may change: of their own teams' patients, never one they see only
        through an emergency grant (`Patient.objects.editable_ids`)."""
        return self.filter(patient__in=self._patients().editable_ids(user))

    def _patients(self) -> Any:
        # The Patient model, found through the foreign key (its module imports this one).
        return self.model._meta.get_field("patient").related_model._default_manager  # type: ignore[union-attr]

    def for_patients(self, patients: models.QuerySet[Any]) -> Self:
        """Rows of these patients (a QuerySet of patients or of their ids)."""
        return self.filter(patient__in=patients)
