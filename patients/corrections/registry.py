"""The correctable record types, declared in one list (`settings.CORRECTABLE_RECORDS`) by dotted
path, so the correction pages serve treatments' records without the patients app importing
treatments (the same device as the patient page's PATIENT_PAGE_* lists)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from django.forms import BaseForm

    from clinic.accounts.models import User
    from patients.models import Patient
    from patients.models.corrections import Correctable


@dataclass(frozen=True)
class CorrectableKind:
    """One record type: how to find a row, show it, amend it and mark it entered in error.

    `amend(record=, data=, reason=, by=)` and `mark_in_error(record=, reason=, by=)` are the
    record type's services; they raise ValidationError keyed by form field to refuse, and
    recompute what the record derives. `refusal(record, step)` refuses a step for this type's
    own reasons (a message), before any form is shown."""

    key: str  # the URL segment: "edss"
    label: str  # "EDSS assessment"
    model: type[Correctable]
    patient_path: str  # the lookup from the record to its patient: "patient", "plan__patient"
    category: str  # what the access trail records
    return_url: Callable[[Patient, Any], str]
    describe: Callable[[Any], str]
    mark_in_error: Callable[..., Any]
    amend: Callable[..., Any] | None = None
    amend_form: Callable[[Any, Mapping[str, Any] | None], BaseForm] | None = None
    related: tuple[str, ...] = ()
    refusal: Callable[[Any, str], str | None] | None = None

    def refused(self, record: Any, step: str, user: User) -> str | None:
        if step == "amend" and self.amend is None:
            return f"A {self.label.lower()} cannot be amended; mark it entered in error instead."
        if self.refusal is not None:
            return self.refusal(record, step)
        return None


@functools.cache
def kinds() -> dict[str, CorrectableKind]:
    found = [import_string(path) for path in settings.CORRECTABLE_RECORDS]
    return {kind.key: kind for kind in found}


def kind_of(key: str) -> CorrectableKind | None:
    return kinds().get(key)


def kind_for_model(model: type) -> CorrectableKind | None:
    return next((kind for kind in kinds().values() if kind.model is model), None)
