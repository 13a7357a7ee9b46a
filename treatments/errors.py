"""The one exception every treatments workflow raises for a request it refuses."""

from __future__ import annotations


class TreatmentError(Exception):
    """A request the workflow refuses; `field` is the form field the message belongs next to."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ServiceErrorMixin:
    """For forms: put a TreatmentError next to the field it names (or at the top of the form)."""

    def add_service_error(self, error: TreatmentError) -> None:
        field = error.field if error.field in self.fields else None  # type: ignore[attr-defined]
        self.add_error(field, error.message)  # type: ignore[attr-defined]
