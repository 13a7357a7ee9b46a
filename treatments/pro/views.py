"""Patient questionnaires: the clinician's pages (send a link, see it as a QR code, withdraw it)
and the patient's public pages (date of birth, the questionnaires, thanks).

The public pages are the only pages of Myelin without sign-in. Each is marked
``login_not_required`` here, by name, and shows nothing but a date-of-birth form until the
date matches; they are rate-limited per address and never cached.
"""

from __future__ import annotations

import io
import uuid
from typing import Any

import qrcode
import qrcode.image.svg
from axes.helpers import get_client_ip_address
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from clinic.access import ClinicRequest, patient_page
from clinic.audit.access import get_scoped_or_404
from clinic.audit.models import Action, Category
from clinic.permissions import Perm, requires
from patients.models import Patient
from treatments.models import LinkState, QuestionnaireLink
from treatments.pro import services
from treatments.pro.forms import AnswersForm, DateOfBirthForm, SendForm

# -- the clinician's side ------------------------------------------------------------------


@requires(Perm.QUESTIONNAIRE_SEND)
@patient_page
def send(request: ClinicRequest, external_id: uuid.UUID) -> HttpResponse:
    """Choose questionnaires and create a link; the patient's earlier links are listed."""
    patient = get_scoped_or_404(
        request,
        Patient.objects,
        external_id=external_id,
        category=Category.REHAB,
        action=Action.VIEW,  # create_link records the creation, only when a link is made
    )
    offered = services.offered_questionnaires()
    form = SendForm(
        request.POST if request.method == "POST" else None,
        offered=offered,
        has_email=bool(patient.email),
    )
    if request.method == "POST" and form.is_valid():
        emailed = bool(form.cleaned_data.get("send_email"))
        try:
            link = services.create_link(
                patient=patient,
                keys=form.cleaned_data["questionnaires"],
                by=request.user,
                send_email=emailed,
            )
        except services.ProRefused as refused:
            form.add_error(None, refused.message)
        else:
            messages.success(
                request,
                "Link created; it is being e-mailed to the patient."
                if emailed
                else "Link created. Show the QR code or copy the link.",
            )
            return redirect("pro:link", link_id=link.pk)
    links = QuestionnaireLink.objects.filter(patient=patient).select_related("created_by")[:20]
    return render(
        request,
        "pro/send.html",
        {"patient": patient, "form": form, "links": links, "link_days": settings.PRO_LINK_DAYS},
        status=422 if request.method == "POST" else 200,
    )


@requires(Perm.QUESTIONNAIRE_SEND)
@patient_page
def link(request: ClinicRequest, link_id: int) -> HttpResponse:
    """The link as a QR code and as text to copy, while it can be used."""
    found = get_scoped_or_404(
        request,
        QuestionnaireLink.objects.select_related("patient", "created_by"),
        pk=link_id,
        category=Category.REHAB,
    )
    state = found.state_at(timezone.now())
    context: dict[str, Any] = {"link": found, "patient": found.patient, "state": state}
    if state == LinkState.OPEN:
        url = request.build_absolute_uri(services.public_path(found))
        context |= {"url": url, "qr_svg": _qr_svg(url)}
    return render(request, "pro/link.html", context)


@requires(Perm.QUESTIONNAIRE_SEND)
@patient_page
@require_POST
def revoke(request: ClinicRequest, link_id: int) -> HttpResponse:
    found = get_scoped_or_404(
        request,
        QuestionnaireLink.objects,
        pk=link_id,
        category=Category.REHAB,
        action=Action.UPDATE,
    )
    try:
        services.revoke_link(link=found, by=request.user)
    except services.ProRefused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, "Link withdrawn: it no longer opens.")
    return redirect("pro:link", link_id=found.pk)


def _qr_svg(url: str) -> str:
    """The URL as an inline SVG QR code (no image request, nothing leaves the server)."""
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue().decode()


# -- the patient's side (public) -------------------------------------------------------------


def _address(request: HttpRequest) -> str:
    return get_client_ip_address(request) or request.META.get("REMOTE_ADDR", "") or "unknown"


def _public(
    request: HttpRequest, step: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    """The one public page, at one of its steps (each a named partial of pro/public.html)."""
    response = render(request, "pro/public.html", {**context, "step": step}, status=status)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _unavailable(request: HttpRequest, state: LinkState | None) -> HttpResponse:
    # One page for every link that cannot be used, with no detail about whose it is.
    return _public(request, "unavailable", {"state": state}, status=404 if state is None else 410)


def _too_many(request: HttpRequest) -> HttpResponse:
    response = _public(request, "too-many", {}, status=429)
    response["Retry-After"] = str(settings.PRO_RATE_WINDOW_SECONDS)
    return response


def _token(request: HttpRequest) -> str:
    """The link's token: in the query string of the link itself, then in a hidden field of each
    form. Never in the path, which the web server's access log records (the query is not)."""
    return (request.POST.get("t") or request.GET.get("t") or "")[:200]


def _limited(request: HttpRequest) -> bool:
    return services.over_rate_limit(
        _address(request),
        bucket="requests",
        limit=settings.PRO_RATE_LIMIT,
        window=settings.PRO_RATE_WINDOW_SECONDS,
    )


@login_not_required
@never_cache
def start(request: HttpRequest) -> HttpResponse:
    """The date-of-birth check; when it matches, the questionnaires (nothing before)."""
    token = _token(request)
    if _limited(request):
        return _too_many(request)
    opened = services.open_token(token)
    if opened is None:
        return _unavailable(request, None)
    state = opened.state_at(timezone.now())
    if state != LinkState.OPEN:
        return _unavailable(request, state)
    form = DateOfBirthForm(request.POST if request.method == "POST" else None)
    if request.method != "POST":
        return _public(request, "date-of-birth", {"form": form, "token": token})
    address = _address(request)
    if services.address_locked_out(address):
        return _too_many(request)
    if not form.is_valid():
        return _public(request, "date-of-birth", {"form": form, "token": token}, status=422)
    try:
        matched = services.check_date_of_birth(
            link=opened.link, date_of_birth=form.cleaned_data["date_of_birth"]
        )
    except services.LinkUnavailable as gone:
        return _unavailable(request, gone.state)
    if not matched:
        services.count_address_failure(address)
        form.add_error(
            None,
            "That date of birth does not match our records. Check it and try again; after "
            f"{settings.PRO_DOB_ATTEMPTS} wrong tries the link stops working.",
        )
        return _public(request, "date-of-birth", {"form": form, "token": token}, status=422)
    answers = AnswersForm(
        initial={"proof": services.proof_for(opened.link)}, keys=list(opened.link.questionnaires)
    )
    return _public(request, "answers", {"form": answers, "token": token})


@login_not_required
@never_cache
@require_POST
def answer(request: HttpRequest) -> HttpResponse:
    """Score and store the answers; the link is used from then on."""
    token = _token(request)
    if _limited(request):
        return _too_many(request)
    opened = services.open_token(token)
    if opened is None:
        return _unavailable(request, None)
    state = opened.state_at(timezone.now())
    if state != LinkState.OPEN:
        return _unavailable(request, state)
    if not services.proof_holds(opened.link, request.POST.get("proof", "")):
        # No proof, a forged one, or one too old: back to the date of birth, nothing shown.
        notice = "For your security, please enter your date of birth again."
        return _public(
            request,
            "date-of-birth",
            {"form": DateOfBirthForm(), "token": token, "notice": notice},
            status=403,
        )
    form = AnswersForm(request.POST, keys=list(opened.link.questionnaires))
    if not form.is_valid():
        return _public(request, "answers", {"form": form, "token": token}, status=422)
    try:
        submitted = services.submit_answers(
            link=opened.link, answers=form.answers(), closing=form.closing()
        )
    except services.LinkUnavailable as gone:
        return _unavailable(request, gone.state)
    except services.IncompleteQuestionnaires:
        # The form requires every item, so this means a tampered request: ask again.
        return _public(request, "answers", {"form": form, "token": token}, status=422)
    # Rendered, not redirected: the thank-you page says whether to seek help today, and that
    # must not be readable again by anyone who has the link.
    return _public(request, "done", {"self_harm": submitted.self_harm})
