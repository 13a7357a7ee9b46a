"""The relapse triage line's pages: log a call (with a preview of the suggestion), the call and
what can be done with it. Open calls are on the nurse's worklist (treatments.monitoring.views)."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from clinic.access import ClinicRequest, patient_page
from clinic.audit.access import get_scoped_or_404
from clinic.audit.models import Action, Category
from clinic.permissions import Perm, requires
from patients.models import Patient
from treatments.errors import TreatmentError
from treatments.models import TriageCall, TriageOutcome
from treatments.protocols.relapse_triage import RELAPSE_TRIAGE
from treatments.triage import forms
from treatments.triage import services as triage


@requires(Perm.TRIAGE_LOG)
@patient_page
def triage_new(request: ClinicRequest, external_id: uuid.UUID) -> HttpResponse:
    patient = get_scoped_or_404(
        request,
        Patient.objects,
        external_id=external_id,
        category=Category.TRIAGE,
        action=Action.CREATE if request.method == "POST" else Action.VIEW,
    )
    now = timezone.localtime()
    form = forms.TriageCallForm(
        request.POST if request.method == "POST" else None,
        initial={"called_on": now.date(), "called_time": now.strftime("%H:%M")},
        patient=patient,
    )
    assessment = None
    if request.method == "POST" and form.is_valid():
        try:
            if "preview" in request.POST:
                # Check what the service would refuse, then show the suggestion without saving.
                triage._check_report(form.report(), called_at=form.cleaned_data["called_at"])
                assessment = triage.assess_report(patient, form.report())
            else:
                call = triage.log_call(
                    patient=patient,
                    report=form.report(),
                    called_at=form.cleaned_data["called_at"],
                    outcome=form.cleaned_data["outcome"],
                    advice=form.cleaned_data["advice"],
                    by=request.user,
                )
                messages.success(request, f"Call logged: {call.get_outcome_display()}.")
                return redirect("treatments:triage_call", call_id=call.pk)
        except TreatmentError as error:
            form.add_service_error(error)
    invalid = request.method == "POST" and (bool(form.errors) or assessment is None)
    return render(
        request,
        "treatments/triage_new.html",
        {
            "patient": patient,
            "form": form,
            "assessment": assessment,
            "suggestion_label": dict(TriageOutcome.choices).get(assessment.suggestion)
            if assessment
            else "",
            "entry": RELAPSE_TRIAGE,
        },
        status=422 if invalid else 200,
    )


def _call(request: ClinicRequest, call_id: int, action: str = Action.VIEW) -> TriageCall:
    return get_scoped_or_404(  # type: ignore[no-any-return]
        request,
        TriageCall.objects.select_related(
            "patient", "taken_by", "closed_by", "relapse", "treatment"
        ),
        pk=call_id,
        category=Category.TRIAGE,
        action=action,
    )


def _call_context(call: TriageCall, **forms_given: Any) -> dict[str, Any]:
    patient = call.patient
    today = timezone.localdate()
    now = timezone.now()
    context = {
        "call": call,
        "patient": patient,
        "now": now,
        "clock": call.clock(now),
        "entry": RELAPSE_TRIAGE,
        "red_flags": [RELAPSE_TRIAGE.red_flag(key).text for key in call.red_flags],
        "book_form": forms.BookReviewForm(patient=patient),
        "relapse_form": forms.RelapseFromCallForm(
            initial={"severity": "severe" if call.functional_impact == "severe" else "moderate"}
        ),
        "treatment_form": forms.RelapseTreatmentForm(
            initial={"started_on": today}, patient=patient
        ),
        "close_form": forms.CloseCallForm(),
    }
    context.update(forms_given)
    return context


@requires(Perm.TRIAGE_LOG)
@patient_page
def triage_call(request: ClinicRequest, call_id: int) -> HttpResponse:
    call = _call(request, call_id)
    return render(request, "treatments/triage_call.html", _call_context(call))


ACTIONS = {
    "book": "book_form",
    "relapse": "relapse_form",
    "treatment": "treatment_form",
    "close": "close_form",
}


@require_POST
@requires(Perm.TRIAGE_LOG)
@patient_page
def triage_act(request: ClinicRequest, call_id: int, step: str) -> HttpResponse:
    if step not in ACTIONS:
        raise Http404("No such step.")
    call = _call(request, call_id, Action.UPDATE)
    patient = call.patient
    form: Any
    if step == "book":
        form = forms.BookReviewForm(request.POST, patient=patient)
    elif step == "relapse":
        form = forms.RelapseFromCallForm(request.POST)
    elif step == "treatment":
        form = forms.RelapseTreatmentForm(request.POST, patient=patient)
    else:
        form = forms.CloseCallForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            if step == "book":
                triage.book_review(call=call, review_at=data["review_at"], by=request.user)
                if call.review_booked_late:
                    messages.warning(request, "Review booked after the call's target.")
                messages.success(request, "Urgent review booked.")
            elif step == "relapse":
                recorded = triage.record_relapse_from_call(
                    call=call,
                    severity=data["severity"],
                    objectively_confirmed=data["objectively_confirmed"],
                    by=request.user,
                )
                for warning in recorded.warnings:
                    messages.warning(request, warning)
                messages.success(request, "Relapse recorded on the patient's record.")
            elif step == "treatment":
                treatment, warnings = triage.start_relapse_treatment(
                    call=call,
                    regimen_key=data["regimen"],
                    started_on=data["started_on"],
                    by=request.user,
                )
                for warning in warnings:
                    messages.warning(request, warning)
                messages.success(request, f"{treatment.drug} started.")
            else:
                triage.close_call(call=call, note=data["note"], by=request.user)
                messages.success(request, "Call closed.")
        except TreatmentError as error:
            form.add_service_error(error)
        else:
            return redirect("treatments:triage_call", call_id=call.pk)
    return render(
        request,
        "treatments/triage_call.html",
        _call_context(call, **{ACTIONS[step]: form}),
        status=422,
    )
