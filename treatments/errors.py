"""The one exception every treatments workflow raises for a request it refuses."""

from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError


class TreatmentError(Exception):
    """A request the workflow refuses; `field` is the form field the message belongs next to.

    `details` are further lines shown under the message (each unmet gate of a refused dose)."""

    def __init__(
        self, message: str, *, field: str | None = None, details: Sequence[str] = ()
    ) -> None:
        super().__init__(" ".join((message, *details)))
        self.message = message
        self.field = field
        self.details = tuple(details)


class ServiceErrorMixin:
    """For forms: put a TreatmentError next to the field it names (or at the top of the form)."""

    def add_service_error(self, error: TreatmentError) -> None:
        field = error.field if error.field in self.fields else None  # type: ignore[attr-defined]
        for message in (error.message, *error.details):
            self.add_error(field, message)  # type: ignore[attr-defined]


def as_validation_error(error: Exception) -> ValidationError:
    """A workflow's refusal (TreatmentError, SafetyError, RehabRefused ...: a `message`, perhaps
    a `field` and `details`) as a field-keyed ValidationError, as the correction pages expect."""
    messages = [getattr(error, "message", str(error)), *getattr(error, "details", ())]
    return ValidationError({getattr(error, "field", None) or NON_FIELD_ERRORS: messages})
