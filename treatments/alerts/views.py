from __future__ import annotations

from datetime import datetime, time
from functools import lru_cache

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse, QueryDict
from django.middleware.csrf import get_token
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from clinic import paging
from clinic.access import ClinicRequest, patient_page, render_page, safe_next
from clinic.audit import services as audit
from clinic.audit.access import get_scoped_or_404, refuse_read_only
from clinic.audit.models import Category
from clinic.forms import DateField
from clinic.permissions import Perm, ensure, requires
from treatments.alerts import services as alerts
from treatments.alerts.rows import alert_row
from treatments.models import ACTIVE_STATUSES, Alert, AlertGrade, AlertKind, AlertStatus


class InboxFilterForm(forms.Form):
    scope = forms.ChoiceField(
        choices=[("mine", "Assigned to me"), ("team", "My teams")], required=False
    )
    grade = forms.ChoiceField(choices=[("", "Any grade"), *AlertGrade.choices], required=False)
    kind = forms.ChoiceField(choices=[("", "Any kind"), *AlertKind.choices], required=False)
    status = forms.ChoiceField(
        choices=[("active", "Open, acknowledged or snoozed"), *AlertStatus.choices], required=False
    )


class SnoozeForm(forms.Form):
    until = DateField(label="Snooze until")
    reason = forms.CharField(label="Why it can wait", max_length=300)


class ResolveForm(forms.Form):
    note = forms.CharField(label="How it was resolved", widget=forms.Textarea(attrs={"rows": 2}))


# Everyone an alert row names (an escalated or resolved alert names two more than its owner).
_ROW_RELATED = ("patient", "owner", "escalated_to", "resolved_by")
_ALERT_FIELDS = [field.name for field in Alert._meta.concrete_fields]
_ROW_PATIENT = [f"patient__{name}" for name in ("external_id", "mrn", "given_name", "family_name")]
_ROW_PEOPLE = [
    f"{person}__{name}"
    for person in ("owner", "escalated_to", "resolved_by")
    for name in ("first_name", "last_name", "username")
]


@lru_cache(maxsize=256)
def _filter_fields(query: str) -> SafeString:
    """The filter form's fields as HTML, for one query string. They show nothing but the
    choices and what was asked, so each distinct query is rendered once per process (the
    widgets' templates cost as much as the thirty rows of the page)."""
    form = InboxFilterForm(QueryDict(query) or None)
    return mark_safe(  # noqa: S308 - format_html escaped every part
        "".join(
            format_html(
                '<div class="field"><label for="{}">{}</label>{}</div>',
                field.id_for_label,
                field.label,
                field,
            )
            for field in form
        )
    )


def _inbox_queryset(request: ClinicRequest, form: InboxFilterForm):  # type: ignore[no-untyped-def]
    data = form.cleaned_data if form.is_valid() else {}
    # The people a row names come in the same query, and of them only what a row shows: no
    # addresses, comorbidities or password hashes.
    qs = (
        Alert.objects.visible_to(request.user)
        .select_related(*_ROW_RELATED)
        .only(*_ALERT_FIELDS, *_ROW_PATIENT, *_ROW_PEOPLE)
    )
    if data.get("scope") == "team":
        qs = qs.filter(alerts.team_filter(request.user))
    else:
        qs = qs.filter(owner=request.user)
    status = data.get("status") or "active"
    qs = qs.filter(status__in=ACTIVE_STATUSES) if status == "active" else qs.filter(status=status)
    if data.get("grade"):
        qs = qs.filter(grade=data["grade"])
    if data.get("kind"):
        qs = qs.filter(kind=data["kind"])
    return qs.order_by("-created_at", "-id")


@requires(Perm.PATIENT_VIEW)
@patient_page
@vary_on_headers("HX-Request")
def inbox(request: ClinicRequest) -> HttpResponse:
    form = InboxFilterForm(request.GET or None)
    page = paging.get_page(_inbox_queryset(request, form), request.GET.get("page"), 30)
    audit.record_list(
        user=request.user, patient_ids={a.patient_id for a in page}, category=Category.ALERT
    )
    query = request.GET.copy()
    query.pop("page", None)
    token = get_token(request)
    return render_page(
        request,
        "alerts/inbox.html",
        {
            "form": form,
            "filter_fields": _filter_fields(request.GET.urlencode()),
            "page": page,
            # Each row with the steps this user may take on it (its buttons).
            "rows": [
                alert_row(alert, alerts.allowed_steps(request.user, alert), csrf_token=token)
                for alert in page
            ],
            "querystring_prefix": query.urlencode() + "&" if query else "",
            "now": timezone.now(),
        },
        partial="alert-list",
    )


def _visible_alert(request: ClinicRequest, alert_id: int, verb: str) -> Alert:
    """The alert, if the user sees its patient (404 otherwise) and may take `verb` on an alert
    of its family (403 otherwise)."""
    alert = (
        Alert.objects.visible_to(request.user)
        .select_related(*_ROW_RELATED)
        .filter(pk=alert_id)
        .first()
    )
    if alert is None:
        raise Http404("No such alert.")
    ensure(request.user, alerts.capability_for(alert, verb))
    refuse_read_only(request, Alert.objects, alert)  # an emergency grant changes nothing
    return alert


def _after_action(request: ClinicRequest, alert: Alert, error: str | None = None) -> HttpResponse:
    if getattr(request, "htmx", False):
        alert.refresh_from_db()
        return render_page(
            request,
            "alerts/inbox.html",
            {
                "alert": alert,
                "row": alert_row(
                    alert,
                    alerts.allowed_steps(request.user, alert),
                    csrf_token=get_token(request),
                    error=error,
                ),
            },
            partial="alert-row",
        )
    if error:
        messages.error(request, error)
    return redirect(safe_next(request) or "alerts:inbox")


@requires(Perm.ALERT_SAFETY_ACKNOWLEDGE, Perm.ALERT_REFERRAL_ACKNOWLEDGE, what="acknowledge alerts")
@require_POST
def acknowledge(request: ClinicRequest, alert_id: int) -> HttpResponse:
    alert = _visible_alert(request, alert_id, "acknowledge")
    try:
        alerts.acknowledge(alert=alert, by=request.user)
    except alerts.AlertError as exc:
        return _after_action(request, alert, str(exc))
    return _after_action(request, alert)


def _action_form(request: ClinicRequest, alert_id: int, action: str, title: str) -> HttpResponse:
    """The snooze or resolve form, fetched when asked for: into the alert's row (htmx) or as a
    page of its own. The inbox rows stay light, and there is one form per action taken."""
    alert = get_scoped_or_404(
        request, Alert.objects.select_related(*_ROW_RELATED), pk=alert_id, category=Category.ALERT
    )
    context = {"alert": alert, "action": action, "action_title": title}
    return render_page(request, "alerts/action.html", context, partial="action-form")


@requires(Perm.ALERT_SAFETY_SNOOZE, Perm.ALERT_REFERRAL_SNOOZE, what="snooze alerts")
@patient_page
@require_http_methods(["GET", "POST"])
def snooze(request: ClinicRequest, alert_id: int) -> HttpResponse:
    alert = _visible_alert(request, alert_id, "snooze")  # 404 out of scope, 403 for the role
    if request.method == "GET":
        return _action_form(request, alert_id, "snooze", "Snooze an alert")
    form = SnoozeForm(request.POST)
    if not form.is_valid():
        return _after_action(request, alert, "Give a date and a reason to snooze.")
    until = timezone.make_aware(datetime.combine(form.cleaned_data["until"], time(8, 0)))
    try:
        alerts.snooze(alert=alert, by=request.user, until=until, reason=form.cleaned_data["reason"])
    except alerts.AlertError as exc:
        return _after_action(request, alert, str(exc))
    return _after_action(request, alert)


@requires(Perm.ALERT_SAFETY_RESOLVE, Perm.ALERT_REFERRAL_RESOLVE, what="resolve alerts")
@patient_page
@require_http_methods(["GET", "POST"])
def resolve(request: ClinicRequest, alert_id: int) -> HttpResponse:
    alert = _visible_alert(request, alert_id, "resolve")  # 404 out of scope, 403 for the role
    if request.method == "GET":
        return _action_form(request, alert_id, "resolve", "Resolve an alert")
    form = ResolveForm(request.POST)
    if not form.is_valid():
        return _after_action(request, alert, "Write a note saying how it was resolved.")
    try:
        alerts.resolve(alert=alert, by=request.user, note=form.cleaned_data["note"])
    except alerts.AlertError as exc:
        return _after_action(request, alert, str(exc))
    return _after_action(request, alert)
