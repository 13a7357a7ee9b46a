"""The one way a view reaches a patient's data: scoped, 404 outside the scope, and audited.

Every patient-owned model's QuerySet has `visible_to(user)` (patients.models.scoping). A view
asks for one row with `get_scoped_or_404(request, Model.objects, category=..., pk=...)`: a row
outside the user's care teams is a 404, indistinguishable from one that does not exist, and
the access is written to the hash-chained trail in the same call, so no view writes its own
audit block for a read.

A state-changing request (POST and the like) also needs the row to be `editable_by` the user:
a patient seen only through an emergency grant is read-only, a 403 saying so.
"""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import models
from django.http import Http404, HttpRequest

from clinic.audit import services as audit
from clinic.audit.models import Action, Category
from clinic.errors import Refused

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
READ_ONLY_MESSAGE = (
    "Your emergency access to this patient is read-only: ask their care team to make this change."
)

M = TypeVar("M", bound=models.Model)


class ScopedQuerySet(Protocol[M]):  # type: ignore[misc]
    def visible_to(self, user: Any) -> models.QuerySet[M]: ...
    def editable_by(self, user: Any) -> models.QuerySet[M]: ...


def refuse_read_only(request: HttpRequest, queryset: Any, obj: models.Model) -> None:
    """On a state-changing request, refuse a row the user sees only through an emergency grant
    (403 with the reason). `queryset` is the scoped manager or QuerySet the row came from."""
    if request.method in SAFE_METHODS:
        return
    if not queryset.editable_by(request.user).filter(pk=obj.pk).exists():
        raise Refused(READ_ONLY_MESSAGE)


def get_scoped_or_404(
    request: HttpRequest,
    queryset: Any,
    *,
    category: Category | str,
    action: Action | str = Action.VIEW,
    detail: str = "",
    **lookup: Any,
) -> Any:
    """The row of `queryset` (a manager or QuerySet of a patient-owned model, or of Patient)
    that `lookup` names, if the user may see its patient; else Http404. Records the access
    (with `detail`, e.g. what an export disclosed)."""
    scoped = queryset.visible_to(request.user)
    try:
        obj = scoped.get(**lookup)
    except (ObjectDoesNotExist, ValueError, TypeError, ValidationError):
        # A malformed id is as unknown as a missing one: never a 500, never a hint.
        raise Http404("Not found.") from None
    refuse_read_only(request, queryset, obj)
    # A patient-owned row names its patient by patient_id (which may be empty, as for a lab
    # message not yet matched to anyone); the patient is its own subject.
    user: Any = request.user  # signed in: the login middleware ran first
    if hasattr(obj, "patient_id"):
        audit.record(
            user=user,
            patient=obj.patient_id,
            action=action,
            category=category,
            obj=obj,
            detail=detail,
        )
    else:
        audit.record(user=user, patient=obj, action=action, category=category, detail=detail)
    return obj
