"""MDT pages: the team's meetings, one meeting with its list, a patient's case with its outcome
and actions, and each person's open actions (also shown in their alert inbox)."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.db.models import Count, Prefetch
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from clinic.access import ClinicRequest, patient_page, render_page, safe_next
from clinic.audit import services as audit
from clinic.audit.access import get_scoped_or_404
from clinic.audit.models import Action, Category
from clinic.permissions import Perm, requires
from patients.mdt import forms
from patients.mdt import services as mdt
from patients.models import MdtAction, MdtCase, MdtMeeting, Patient

# How many past meetings the meetings page lists under the coming ones.
RECENT_MEETINGS = 12


def _meeting_or_404(
    request: ClinicRequest, meeting_id: int, *, action: Action = Action.VIEW
) -> MdtMeeting:
    """A meeting of one of the user's care teams, else 404 (as for another team's patient).
    A meeting is the team's, not one patient's: the access is recorded without a patient and
    the patients it lists are recorded by the page that lists them."""
    try:
        meeting = (
            MdtMeeting.objects.visible_to(request.user)
            .select_related("care_team")
            .get(pk=meeting_id)
        )
    except MdtMeeting.DoesNotExist:
        raise Http404("Not found.") from None
    audit.record(user=request.user, action=action, category=Category.MDT, obj=meeting)
    return meeting


@requires(Perm.PATIENT_VIEW)
def meetings(request: ClinicRequest) -> HttpResponse:
    today = timezone.localdate()
    visible = (
        MdtMeeting.objects.visible_to(request.user)
        .select_related("care_team")
        .annotate(patient_count=Count("cases", distinct=True))
    )
    coming = list(visible.upcoming(on=today).order_by("held_on", "id"))
    past = list(visible.filter(held_on__lt=today).order_by("-held_on", "-id")[:RECENT_MEETINGS])
    return render(
        request,
        "patients/mdt_meetings.html",
        {"coming": coming, "past": past, "today": today},
    )


@requires(Perm.MDT_MEETING_PLAN)
def meeting_new(request: ClinicRequest) -> HttpResponse:
    form = forms.MeetingForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            meeting = mdt.plan_meeting(by=request.user, **form.cleaned_data)
        except mdt.MdtRefused as refused:
            form.add_refusal(refused.field, refused.message)
        else:
            messages.success(request, f"Meeting planned for {meeting.held_on:%d %b %Y}.")
            return redirect(meeting.get_absolute_url())
    status = 422 if request.method == "POST" else 200
    return render(request, "patients/mdt_meeting_form.html", {"form": form}, status=status)


@requires(Perm.PATIENT_VIEW)
@patient_page
def meeting(request: ClinicRequest, meeting_id: int) -> HttpResponse:
    found = _meeting_or_404(request, meeting_id)
    cases = list(
        MdtCase.objects.filter(meeting=found)
        .select_related("patient", "added_by", "decided_by")
        .prefetch_related(
            Prefetch("actions", queryset=MdtAction.objects.select_related("assigned_to"))
        )
    )
    attendees = list(found.attendees.order_by("last_name", "first_name"))
    audit.record_list(
        user=request.user, patient_ids=[case.patient_id for case in cases], category=Category.MDT
    )
    return render(
        request,
        "patients/mdt_meeting.html",
        {
            "meeting": found,
            "cases": cases,
            "attendees": attendees,
            "today": timezone.localdate(),
        },
    )


@requires(Perm.MDT_CASE_ADD)
@patient_page
def case_add(request: ClinicRequest, external_id: uuid.UUID) -> HttpResponse:
    patient = get_scoped_or_404(
        request,
        Patient.objects,
        external_id=external_id,
        category=Category.MDT,
        action=Action.CREATE if request.method == "POST" else Action.VIEW,
    )
    coming = (
        MdtMeeting.objects.visible_to(request.user)
        .filter(care_team_id=patient.care_team_id)
        .upcoming(on=timezone.localdate())
        .order_by("held_on", "id")
    )
    initial = {"meeting": request.GET.get("meeting")} if request.GET.get("meeting") else {}
    form = forms.CaseForm(request.POST or None, initial=initial, meetings=coming)
    back = safe_next(request, patient.get_absolute_url())
    if request.method == "POST" and form.is_valid():
        try:
            case = mdt.add_case(patient=patient, by=request.user, **form.cleaned_data)
        except mdt.MdtRefused as refused:
            form.add_refusal(refused.field, refused.message)
        else:
            messages.success(
                request, f"Added to the MDT meeting on {case.meeting.held_on:%d %b %Y}."
            )
            return HttpResponseRedirect(back)
    status = 422 if request.method == "POST" else 200
    return render(
        request,
        "patients/mdt_case_add.html",
        {"patient": patient, "form": form, "has_meetings": coming.exists(), "next": back},
        status=status,
    )


def _case_context(request: ClinicRequest, case: MdtCase, **forms_: object) -> dict[str, object]:
    actions = list(case.actions.select_related("assigned_to", "done_by"))
    today = timezone.localdate()
    return {
        "case": case,
        "meeting": case.meeting,
        "patient": case.patient,
        "actions": actions,
        "today": today,
        "outcome_refusal": case.meeting.outcome_refusal(on=today),
        "outcome_form": forms_.get("outcome_form")
        or forms.OutcomeForm(initial={"discussion": case.discussion, "decision": case.decision}),
        "action_form": forms_.get("action_form")
        or forms.ActionForm(team_id=case.meeting.care_team_id, initial={"due_on": None}),
    }


def _case_or_404(request: ClinicRequest, case_id: int, action: Action = Action.VIEW) -> MdtCase:
    case: MdtCase = get_scoped_or_404(
        request,
        MdtCase.objects.select_related("meeting__care_team", "patient"),
        category=Category.MDT,
        action=action,
        pk=case_id,
    )
    return case


@requires(Perm.PATIENT_VIEW, post=Perm.MDT_OUTCOME_RECORD)
@patient_page
def case(request: ClinicRequest, case_id: int) -> HttpResponse:
    found = _case_or_404(
        request, case_id, Action.UPDATE if request.method == "POST" else Action.VIEW
    )
    if request.method != "POST":
        return render(request, "patients/mdt_case.html", _case_context(request, found))
    form = forms.OutcomeForm(request.POST)
    if form.is_valid():
        try:
            mdt.record_outcome(case=found, by=request.user, **form.cleaned_data)
        except mdt.MdtRefused as refused:
            form.add_refusal(refused.field, refused.message)
        else:
            messages.success(request, "Decision recorded.")
            return redirect(found.get_absolute_url())
    return render(
        request,
        "patients/mdt_case.html",
        _case_context(request, found, outcome_form=form),
        status=422,
    )


@require_POST
@requires(Perm.MDT_OUTCOME_RECORD)
@patient_page
def action_new(request: ClinicRequest, case_id: int) -> HttpResponse:
    found = _case_or_404(request, case_id, Action.CREATE)
    form = forms.ActionForm(request.POST, team_id=found.meeting.care_team_id)
    if form.is_valid():
        try:
            action = mdt.add_action(case=found, by=request.user, **form.cleaned_data)
        except mdt.MdtRefused as refused:
            form.add_refusal(refused.field, refused.message)
        else:
            messages.success(request, f"Action assigned to {action.assigned_to.display_name}.")
            return redirect(found.get_absolute_url())
    return render(
        request,
        "patients/mdt_case.html",
        _case_context(request, found, action_form=form),
        status=422,
    )


@require_POST
@requires(Perm.MDT_ACTION_DONE)
@patient_page
def action_done(request: ClinicRequest, action_id: int) -> HttpResponse:
    action: MdtAction = get_scoped_or_404(
        request,
        MdtAction.objects.select_related("case"),
        category=Category.MDT,
        action=Action.UPDATE,
        pk=action_id,
    )
    form = forms.DoneForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        mdt.complete_action(action=action, by=request.user, note=note)
    except mdt.MdtRefused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, f"Done: {action.description}")
    # HttpResponseRedirect, not redirect(): a `next` such as "on" is a relative URL, never a
    # view name to reverse.
    return HttpResponseRedirect(safe_next(request, action.case.get_absolute_url()))


@requires(Perm.PATIENT_VIEW)
@patient_page
@vary_on_headers("HX-Request")
def my_actions(request: ClinicRequest) -> HttpResponse:
    """The user's open MDT actions: a page, and the block the alert inbox loads into itself."""
    actions = mdt.open_actions_for(request.user)
    audit.record_list(
        user=request.user,
        patient_ids=sorted({action.patient_id for action in actions}),
        category=Category.MDT,
        detail="open MDT actions",
    )
    # Inside the inbox, "Mark done" comes back to the inbox, not to this block on its own.
    back = (request.htmx.current_url_abs_path if request.htmx else None) or request.get_full_path()
    return render_page(
        request,
        "patients/mdt_actions.html",
        {"actions": actions, "today": timezone.localdate(), "back": back},
        partial="mdt-actions",
    )
