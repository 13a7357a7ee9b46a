from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, When
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from clinic.access import ClinicRequest, patient_page, render_page
from clinic.audit import services as audit
from clinic.audit.access import get_scoped_or_404
from clinic.audit.models import Category
from clinic.permissions import Perm, requires
from patients.models import (
    TRANSITIONS,
    Patient,
    Referral,
    ReferralDiscipline,
    ReferralState,
    ReferralTarget,
)
from patients.models.corrections import link_amendments
from patients.models.referrals import AWAITING_RESPONSE, OPEN_STATES
from patients.referrals import services
from patients.referrals.forms import BoardFilterForm, ReferralForm, TargetFormSet, TransitionForm

BOARD_PAGE_SIZE = 25


@dataclass(frozen=True)
class Row:
    referral: Referral
    clock: str
    breached: bool


def _rows(referrals: list[Referral], now: datetime) -> list[Row]:
    return [Row(r, r.clock_text(now), r.is_breached(now)) for r in referrals]


def _board_views(request: ClinicRequest) -> list[tuple[str, str]]:
    user = request.user
    views: list[tuple[str, str]] = []
    if user.is_therapist:
        views.append(("inbox", f"Referrals to {user.role_label}"))
    if user.is_nurse:
        views.append(("inbox", "Referrals to the MS nurse service"))
    views.append(("sent", "My referrals"))
    return views


@requires(Perm.PATIENT_VIEW)
@patient_page
@vary_on_headers("HX-Request")
def board(request: ClinicRequest) -> HttpResponse:
    """A therapist's inbox for their discipline; everyone's referrals they sent."""
    views = _board_views(request)
    view = request.GET.get("view", views[0][0])
    if view not in {key for key, _ in views}:
        view = views[0][0]
    filters = BoardFilterForm(request.GET)
    filters.is_valid()  # an unknown value is simply ignored
    state = filters.cleaned_data.get("state", "")
    urgency = filters.cleaned_data.get("urgency", "")

    referrals = Referral.objects.visible_to(request.user)
    if view == "inbox":
        referrals = referrals.to_receiver(request.user).board_order()
        default_states = OPEN_STATES
    else:
        # Summaries waiting for the referrer come first.
        waiting = Case(
            When(state=ReferralState.COMPLETED, then=0), default=1, output_field=IntegerField()
        )
        referrals = (
            referrals.sent_by(request.user).alias(waiting=waiting).order_by("waiting", "due_at")
        )
        default_states = OPEN_STATES | {ReferralState.COMPLETED}
    if state == "":
        referrals = referrals.filter(state__in=default_states)
    elif state != "all":
        referrals = referrals.filter(state=state)
    if urgency:
        referrals = referrals.filter(urgency=urgency)
    referrals = referrals.select_related("patient", "referred_by")

    page = Paginator(referrals, BOARD_PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    audit.record_list(
        user=request.user,
        patient_ids=sorted({r.patient_id for r in page}),
        category=Category.REFERRAL,
        detail=f"referral board ({view})",
    )
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "views": views,
        "view": view,
        "filters": filters,
        "page": page,
        "rows": _rows(list(page), now),
        "querystring_prefix": f"{query.urlencode()}&" if query else "",
        "target": "referral-table",
    }
    return render_page(request, "patients/referral_board.html", context, partial="referral-table")


@requires(Perm.REFERRAL_SEND)
@patient_page
def new(request: ClinicRequest, external_id: uuid.UUID) -> HttpResponse:
    patient = get_scoped_or_404(
        request, Patient.objects, external_id=external_id, category=Category.REFERRAL
    )
    existing: list[Referral] = []
    initial = {}
    if request.GET.get("discipline") in ReferralDiscipline.values:
        initial["discipline"] = request.GET["discipline"]
    form = ReferralForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            referral = services.send_referral(
                patient=patient,
                discipline=form.cleaned_data["discipline"],
                urgency=form.cleaned_data["urgency"],
                reason=form.cleaned_data["reason"],
                by=request.user,
                allow_duplicate=request.POST.get("create_anyway") == "1",
            )
        except services.DuplicateReferral as duplicate:
            existing = duplicate.existing
        else:
            messages.success(
                request,
                f"Referral to {referral.get_discipline_display()} sent; a response is due by "
                f"{timezone.localtime(referral.due_at):%a %d %b %H:%M}.",
            )
            return redirect(referral)
    status = 422 if request.method == "POST" and form.errors else 200
    return render(
        request,
        "patients/referral_new.html",
        {"patient": patient, "form": form, "existing": existing, "now": timezone.now()},
        status=status,
    )


def _get_referral(request: ClinicRequest, referral_id: uuid.UUID, *, action: str) -> Referral:
    return get_scoped_or_404(  # type: ignore[no-any-return]
        request,
        Referral.objects.select_related("patient", "referred_by"),
        external_id=referral_id,
        category=Category.REFERRAL,
        action=action,
    )


def _detail_context(
    request: ClinicRequest,
    referral: Referral,
    *,
    bound: TransitionForm | None = None,
    refusal: str = "",
) -> dict[str, object]:
    now = timezone.now()
    forms = []
    for step in referral.actions_for(request.user):
        form = bound if bound is not None and bound.action == step.action else None
        forms.append((step, form or TransitionForm(action=step.action)))
    return {
        "referral": referral,
        "patient": referral.patient,
        "events": link_amendments(list(referral.steps.select_related("by", "corrected_by"))),
        "action_forms": forms,
        "clock": referral.clock_text(now),
        "breached": referral.is_breached(now),
        "refusal": refusal,
        "awaiting_states": AWAITING_RESPONSE,
    }


@requires(Perm.PATIENT_VIEW)
@patient_page
@vary_on_headers("HX-Request")
def detail(request: ClinicRequest, referral_id: uuid.UUID) -> HttpResponse:
    referral = _get_referral(request, referral_id, action="view")
    return render_page(
        request,
        "patients/referral_detail.html",
        _detail_context(request, referral),
        partial="referral-detail",
    )


@require_POST
@requires(
    Perm.REFERRAL_RESPOND_OWN,
    Perm.REFERRAL_RESPOND_EXTERNAL,
    Perm.REFERRAL_CLOSE_OWN,
    Perm.REFERRAL_CLOSE_TEAM,
    what="work on referrals",
)
@patient_page
def act(request: ClinicRequest, referral_id: uuid.UUID, action: str) -> HttpResponse:
    referral = _get_referral(request, referral_id, action="view")
    if action not in TRANSITIONS:
        raise Http404("No such step.")
    form = TransitionForm(request.POST, action=action)
    refusal = referral.refusal(action, request.user)
    if refusal is None and form.is_valid():
        try:
            referral = services.transition_referral(
                referral=referral, action=action, by=request.user, **form.details()
            )
        except services.ReferralRefused as refused:
            refusal = refused.message
        else:
            if request.htmx:
                return render(
                    request,
                    "patients/referral_detail.html#referral-detail",
                    {**_detail_context(request, referral), "done": TRANSITIONS[action].done},
                )
            messages.success(request, f"Referral {TRANSITIONS[action].done}.")
            return redirect(referral)
    # Nothing was changed: show why, next to the form, keeping what was typed.
    status = 409 if refusal else 422
    template = "patients/referral_detail.html"
    if request.htmx:
        template += "#referral-detail"
    context = _detail_context(request, referral, bound=form, refusal=refusal or "")
    return render(request, template, context, status=status)


@requires(Perm.PATIENT_VIEW)
@patient_page
def patient_referrals(request: ClinicRequest, external_id: uuid.UUID) -> HttpResponse:
    patient = get_scoped_or_404(
        request, Patient.objects, external_id=external_id, category=Category.REFERRAL
    )
    referrals = patient.referrals.select_related("referred_by").order_by("-sent_at")  # type: ignore[attr-defined]
    now = timezone.now()
    return render(
        request,
        "patients/referral_list.html",
        {"patient": patient, "rows": _rows(list(referrals), now)},
    )


@requires(Perm.REFERRAL_TARGETS)
def targets(request: ClinicRequest) -> HttpResponse:
    """Clinic admins set each discipline's response target per urgency."""
    formset = TargetFormSet(request.POST or None, queryset=ReferralTarget.objects.all())
    if request.method == "POST" and formset.is_valid():
        changed = [form.instance for form in formset.forms if form.has_changed()]
        services.update_targets(targets=changed, by=request.user)
        messages.success(request, "Response targets saved; they apply to new referrals.")
        return redirect("referrals:targets")
    status = 422 if request.method == "POST" else 200
    return render(request, "patients/referral_targets.html", {"formset": formset}, status=status)
