"""The two correction pages, for every record type (`registry.kinds()`): amend a record, or mark
it entered in error. Each is a page of its own with a real form (no JavaScript needed); with
htmx the form posts in place and a refusal is swapped into it.

Who may is checked twice: the view's capability (`record_amend_own` or `record_amend_any`),
then the record's own rule (its author, or a neurologist of the team: `Correctable
.may_be_corrected_by`), which the services check again under the row lock.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms import BaseForm
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from clinic.access import ClinicRequest, patient_page
from clinic.audit.access import get_scoped_or_404
from clinic.permissions import CapabilityDenied, Perm, requires
from patients.corrections.forms import ReasonForm
from patients.corrections.registry import CorrectableKind, kind_of
from patients.models import Patient
from patients.models.corrections import Correctable

WHAT = "amend a clinical record or mark it entered in error"


def _find(
    request: ClinicRequest, external_id: uuid.UUID, key: str, record_id: int
) -> tuple[CorrectableKind, Patient, Any]:
    kind = kind_of(key)
    if kind is None:
        raise Http404("No such record type.")
    patient = get_scoped_or_404(
        request, Patient.objects, external_id=external_id, category=kind.category
    )
    try:
        record = kind.model._default_manager.select_related("corrected_by", *kind.related).get(
            pk=record_id, **{kind.patient_path: patient}
        )
    except kind.model.DoesNotExist:
        raise Http404("No such record.") from None
    return kind, patient, record


def _refusal(kind: CorrectableKind, record: Correctable, step: str, request: ClinicRequest) -> str:
    """Why this step cannot be taken on this record ("" if it can). Not the author and not a
    neurologist: a 403, like any other capability refusal."""
    if not record.correction and not record.may_be_corrected_by(request.user):
        raise CapabilityDenied(record.correction_refusal(request.user) or "")
    return record.correction_refusal(request.user) or kind.refused(record, step, request.user) or ""


def _apply(error: ValidationError, form: BaseForm | None, reason: ReasonForm) -> None:
    """A service's field-keyed errors, next to their fields (the reason on its own form). A
    plausibility warning that may be confirmed shows its checkbox (`error.confirm`)."""
    confirm = getattr(error, "confirm", "")
    if confirm and form is not None and hasattr(form, "ask_to_confirm"):
        form.ask_to_confirm(confirm)
    if not hasattr(error, "error_dict"):
        (form or reason).add_error(None, error)
        return
    for name, errors in error.error_dict.items():
        if name == "reason":
            reason.add_error("reason", errors)
        elif form is not None:
            form.add_error(name if name in form.fields else None, errors)
        else:
            reason.add_error(None, errors)


def _page(
    request: ClinicRequest,
    *,
    step: str,
    kind: CorrectableKind,
    patient: Patient,
    record: Any,
    form: BaseForm | None,
    reason: ReasonForm,
    refusal: str = "",
    status: int = 200,
) -> HttpResponse:
    context = {
        "step": step,
        "kind": kind,
        "patient": patient,
        "record": record,
        "summary": kind.describe(record),
        "back_url": kind.return_url(patient, record),
        "form": form,
        "reason_form": reason,
        "refusal": refusal,
    }
    template = "patients/correction_form.html"
    if getattr(request, "htmx", False) and request.method == "POST":
        # htmx 2 swaps only 2xx answers: the refusal is the content to show in the form.
        template += "#correction-form"
        status = 200
    return render(request, template, context, status=status)


def _done(request: ClinicRequest, url: str, message: str) -> HttpResponse:
    messages.success(request, message)
    if getattr(request, "htmx", False):
        return HttpResponse(status=204, headers={"HX-Redirect": url})
    return redirect(url)


@requires(Perm.RECORD_AMEND_OWN, Perm.RECORD_AMEND_ANY, what=WHAT)
@patient_page
@require_http_methods(["GET", "POST"])
def amend(
    request: ClinicRequest, external_id: uuid.UUID, kind: str, record_id: int
) -> HttpResponse:
    spec, patient, record = _find(request, external_id, kind, record_id)
    refusal = _refusal(spec, record, "amend", request)
    page = {"step": "amend", "kind": spec, "patient": patient, "record": record}
    if refusal or spec.amend_form is None or spec.amend is None:
        return _page(request, **page, form=None, reason=ReasonForm(), refusal=refusal, status=409)
    data = request.POST if request.method == "POST" else None
    form = spec.amend_form(record, data)
    reason = ReasonForm(data)
    if data is not None:
        if form.is_valid() and reason.is_valid():
            try:
                replacement = spec.amend(
                    record=record, form=form, reason=reason.cleaned_data["reason"], by=request.user
                )
            except ValidationError as error:
                _apply(error, form, reason)
            else:
                url = spec.return_url(patient, replacement)
                return _done(request, url, f"{spec.label} amended; the original is kept.")
        return _page(request, **page, form=form, reason=reason, status=422)
    return _page(request, **page, form=form, reason=reason)


@requires(Perm.RECORD_AMEND_OWN, Perm.RECORD_AMEND_ANY, what=WHAT)
@patient_page
@require_http_methods(["GET", "POST"])
def entered_in_error(
    request: ClinicRequest, external_id: uuid.UUID, kind: str, record_id: int
) -> HttpResponse:
    spec, patient, record = _find(request, external_id, kind, record_id)
    refusal = _refusal(spec, record, "error", request)
    page = {"step": "error", "kind": spec, "patient": patient, "record": record}
    if refusal:
        return _page(request, **page, form=None, reason=ReasonForm(), refusal=refusal, status=409)
    reason = ReasonForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if reason.is_valid():
            try:
                spec.mark_in_error(
                    record=record, reason=reason.cleaned_data["reason"], by=request.user
                )
            except ValidationError as error:
                _apply(error, None, reason)
            else:
                url = spec.return_url(patient, record)
                return _done(request, url, f"{spec.label} marked entered in error.")
        return _page(request, **page, form=None, reason=reason, status=422)
    return _page(request, **page, form=None, reason=reason)
