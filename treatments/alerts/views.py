from __future__ import annotations

from datetime import datetime, time
from typing import Any, ClassVar
from urllib.parse import quote

from django import forms
from django.contrib import messages
from django.db.models import QuerySet
from django.forms import BoundField
from django.http import Http404, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import formats, timezone
from django.utils.safestring import SafeString
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from clinic import limits, paging
from clinic.access import ClinicRequest, patient_page, render_page, safe_next
from clinic.audit import services as audit
from clinic.audit.access import get_scoped_or_404, refuse_read_only
from clinic.audit.models import Category
from clinic.forms import DateField
from clinic.permissions import Perm, ensure, may, requires
from clinic.templatetags.words import plain, source_words
from treatments.alerts import services as alerts
from treatments.alerts.cards import card
from treatments.models import ACTIVE_STATUSES, Alert, AlertGrade, AlertKind, AlertStatus


class _CachedSelect(BoundField):
    """A filter's <select>, rendered once per (field, value) and then reused: Django renders each
    <option> through templates of its own, a tenth of the inbox page's time. Only a value the
    field accepts is kept (so the cache holds a few dozen strings at most); a refused value,
    which the widget marks invalid, is rendered afresh each time."""

    _rendered: ClassVar[dict[tuple[type, str, str, str | None], SafeString]] = {}

    def as_widget(
        self,
        widget: forms.Widget | None = None,
        attrs: dict[str, Any] | None = None,
        only_initial: bool = False,
    ) -> SafeString:
        if widget is not None or attrs or only_initial or self.errors:
            return super().as_widget(widget, attrs, only_initial)
        value = self.value()
        key = (
            type(self.form),
            self.html_name,
            str(self.auto_id),
            None if value is None else str(value),
        )
        html = self._rendered.get(key)
        if html is None:
            html = self._rendered[key] = super().as_widget()
        return html


class InboxFilterForm(forms.Form):
    bound_field_class = _CachedSelect

    scope = forms.ChoiceField(
        choices=[("mine", "Assigned to me"), ("team", "My teams")], required=False
    )
    grade = forms.ChoiceField(choices=[("", "Any grade"), *AlertGrade.choices], required=False)
    kind = forms.ChoiceField(choices=[("", "Any kind"), *AlertKind.choices], required=False)
    status = forms.ChoiceField(
        choices=[("active", "Open, acknowledged or snoozed"), *AlertStatus.choices], required=False
    )
    layout = forms.ChoiceField(
        label="Show",
        choices=[("cards", "Cards"), ("compact", "Compact, by patient and kind")],
        required=False,
    )


class SnoozeForm(forms.Form):
    until = DateField(
        label="Snooze until",
        error_messages={
            "required": "Give the date until which the alert can wait.",
            "invalid": "Enter the date as a real calendar date.",
        },
    )
    reason = forms.CharField(
        label="Why it can wait",
        max_length=300,
        error_messages={"required": "Say why the alert can wait."},
    )


class ResolveForm(forms.Form):
    note = forms.CharField(
        label="How it was resolved",
        max_length=limits.REASON,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Write a note saying how it was resolved."},
    )


def _first_error(form: forms.Form) -> str:
    """One sentence for the row: the first message of the form (each says what to do)."""
    for errors in form.errors.values():
        return str(errors[0])
    return "Check the form."


# Everyone an alert row names (an escalated or resolved alert names two more than its owner).
_ROW_RELATED = ("patient", "owner", "escalated_to", "resolved_by")
_ALERT_FIELDS = [field.name for field in Alert._meta.concrete_fields]
_ROW_PATIENT = [f"patient__{name}" for name in ("external_id", "mrn", "given_name", "family_name")]
_ROW_PEOPLE = [
    f"{person}__{name}"
    for person in ("owner", "escalated_to", "resolved_by")
    for name in ("first_name", "last_name", "username")
]


def _rows(alerts: QuerySet[Alert]) -> QuerySet[Alert]:
    """Alerts with the people a row names, in the same query, and of them only what a row
    shows: no addresses, comorbidities or password hashes."""
    return alerts.select_related(*_ROW_RELATED).only(*_ALERT_FIELDS, *_ROW_PATIENT, *_ROW_PEOPLE)


def _fetch_rows(ids: list[int]) -> QuerySet[Alert]:
    """The rows of a page the scoped inbox query found (paging.get_page's `fetch`)."""
    return _rows(Alert.objects.filter(pk__in=ids))


def _inbox_queryset(request: ClinicRequest, form: InboxFilterForm) -> QuerySet[Alert]:
    """The alerts the inbox lists, scoped and ordered: it finds the page, and `_fetch_rows`
    reads that page's rows (joining thirty alerts to their people, not the whole inbox)."""
    data = form.cleaned_data if form.is_valid() else {}
    qs = Alert.objects.visible_to(request.user)
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
    if data.get("layout") == "compact":
        # Grouped by patient, then kind: each group's rows come together.
        return qs.order_by(
            "patient__family_name", "patient__given_name", "patient_id", "kind", "-created_at"
        )
    return qs.order_by("-created_at", "-id")


def _linked_alert(request: ClinicRequest) -> tuple[Alert | None, bool]:
    """The alert `?alert=N` names (a link from an email), if the user may see its patient:
    (alert, False). (None, True) for one they may not see or that does not exist, which the
    page says in the same words either way; (None, False) without the parameter."""
    raw = request.GET.get("alert", "")
    if not raw:
        return None, False
    if not (raw.isascii() and raw.isdigit() and len(raw) < 12):
        return None, True
    alert = _rows(Alert.objects.visible_to(request.user).filter(pk=int(raw))).first()
    return alert, alert is None


def _date(value: datetime | None, fmt: str) -> str:
    """`value|date:fmt` as a template shows it (clinic time; nothing for no value)."""
    return "" if value is None else formats.date_format(timezone.localtime(value), fmt)


def alert_row(alert: Alert, steps: dict[str, bool]) -> dict[str, Any]:
    """What an alert's row shows, worked out once, as text. The template engine pays for every
    attribute it reads from a model (a failed dictionary lookup first, then the localisation of
    a number) and for every filter; a page of thirty rows read some thirty each."""
    labels = alert.labels
    patient = alert.patient
    status = labels["status"]
    if alert.status == AlertStatus.SNOOZED:
        status += " until " + _date(alert.snoozed_until, "d M")
    people = (alert.owner.display_name if alert.owner else "") or "unassigned"
    if alert.escalated_to:
        people += " · escalated to " + alert.escalated_to.display_name
    resolved = ""
    if alert.status == AlertStatus.RESOLVED:
        resolved = "Resolved " + _date(alert.resolved_at, "d M Y H:i")
        if alert.resolved_automatically:
            resolved += " automatically"
        elif alert.resolved_by:
            resolved += " by " + alert.resolved_by.display_name
        resolved += ": " + alert.resolution_note
    return {
        "alert": alert,
        "steps": steps,
        "pk": str(alert.pk),
        "grade": alert.grade,
        "grade_text": labels["grade"]
        + (f" · CTCAE {alert.ctcae_grade}" if alert.ctcae_grade else ""),
        "kind_label": labels["kind"],
        "status": alert.status,
        "status_text": status,
        "raised": labels["raised"],
        "is_active": alert.is_active,
        # Acknowledge button, and a tick box in the compact inbox.
        "acknowledgeable": steps["acknowledge"]
        and alert.is_active
        and alert.status != AlertStatus.ACKNOWLEDGED,
        "family": str(alert.family),
        "patient_url": patient.get_absolute_url(),
        "patient_name": patient.listing_name,
        "mrn": patient.mrn,
        "title": plain(alert.title),
        # None when the alert has none (the row leaves its paragraph out).
        "detail": plain(alert.detail) if alert.detail else None,
        "action": plain(alert.action) if alert.action else None,
        "source": source_words(alert.source) if alert.source else None,
        "people": people,
        "resolved": resolved,
        "acknowledge_url": alert.acknowledge_url,
        "snooze_url": alert.snooze_url,
        "resolve_url": alert.resolve_url,
    }


def _groups(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The compact inbox's rows, grouped by patient and, within a patient, by kind (the rows
    come ordered that way): [{patient, count, ids, kinds: [{label, rows}]}]."""
    groups: list[dict[str, Any]] = []
    for row in rows:
        alert = row["alert"]
        if not groups or groups[-1]["patient"].pk != alert.patient_id:
            groups.append({"patient": alert.patient, "count": 0, "ids": [], "kinds": []})
        group = groups[-1]
        group["count"] += 1
        if row["acknowledgeable"]:
            group["ids"].append(alert.pk)
        if not group["kinds"] or group["kinds"][-1]["kind"] != alert.kind:
            group["kinds"].append({"kind": alert.kind, "label": row["kind_label"], "rows": []})
        group["kinds"][-1]["rows"].append(row)
    return groups


@requires(Perm.PATIENT_VIEW)
@patient_page
@vary_on_headers("HX-Request")
def inbox(request: ClinicRequest) -> HttpResponse:
    form = InboxFilterForm(request.GET or None)
    compact = form.is_valid() and form.cleaned_data.get("layout") == "compact"
    page = paging.get_page(
        _inbox_queryset(request, form),
        request.GET.get("page"),
        50 if compact else 30,
        fetch=_fetch_rows,
    )
    linked, link_refused = _linked_alert(request)
    shown = {a.patient_id for a in page} | ({linked.patient_id} if linked else set())
    audit.record_list(user=request.user, patient_ids=shown, category=Category.ALERT)
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("alert", None)
    # Each row with the steps this user may take on it (its buttons), which depend on the
    # alert's family alone; the linked alert is shown once, at the top, highlighted.
    by_family: dict[str, dict[str, bool]] = {}

    def steps(alert: Alert) -> dict[str, bool]:
        if alert.family not in by_family:
            by_family[alert.family] = alerts.allowed_steps(request.user, alert)
        return by_family[alert.family]

    rows = [
        alert_row(alert, steps(alert)) for alert in page if linked is None or alert.pk != linked.pk
    ]
    # One masked token for the page's forms (the context processor's lazy token masks the
    # secret anew, with 32 random choices, for each form).
    csrf_token = get_token(request)
    if not compact:
        for row in rows:
            row["card"] = card(row, csrf_token=csrf_token)
    return_to = request.get_full_path()
    return render_page(
        request,
        "alerts/inbox.html",
        {
            "form": form,
            "page": page,
            "compact": compact,
            "rows": rows,
            "groups": _groups(rows) if compact else [],
            "linked": linked,
            "linked_card": (
                card(alert_row(linked, steps(linked)), csrf_token=csrf_token, highlight=True)
                if linked
                else ""
            ),
            "link_refused": link_refused,
            "may_bulk": may(request.user, Perm.ALERT_BULK_ACKNOWLEDGE),
            "return_to": return_to,
            "next_param": quote(return_to),  # `return_to|urlencode`, once for every row
            "querystring_prefix": query.urlencode() + "&" if query else "",
            "csrf_token": csrf_token,
        },
        partial="alert-list",
    )


@requires(Perm.ALERT_BULK_ACKNOWLEDGE)
@patient_page
@require_POST
def acknowledge_many(request: ClinicRequest) -> HttpResponse:
    """Acknowledge the ticked alerts (or a whole patient's group) of the compact inbox."""
    ids = [int(v) for v in request.POST.getlist("alert") if v.isascii() and v.isdigit()][
        : alerts.BULK_LIMIT
    ]
    if not ids:
        messages.error(request, "Tick the alerts to acknowledge first.")
        return redirect(safe_next(request) or "alerts:inbox")
    outcome = alerts.acknowledge_many(alert_ids=ids, by=request.user)
    done = f"{outcome.acknowledged} alert{'s' if outcome.acknowledged != 1 else ''} acknowledged."
    if outcome.skipped:
        done += f" {outcome.skipped} could not be: already resolved, or not yours to acknowledge."
    (messages.success if outcome.acknowledged else messages.warning)(request, done)
    return redirect(safe_next(request) or "alerts:inbox")


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
    if getattr(request, "htmx", False):  # the alert's card, swapped into its place
        alert.refresh_from_db()
        row = alert_row(alert, alerts.allowed_steps(request.user, alert))
        return HttpResponse(card(row, csrf_token=get_token(request), error=error))
    if error:
        messages.error(request, error)
    return redirect(safe_next(request) or "alerts:inbox")


ACTION_TITLES = {"snooze": "Snooze an alert", "resolve": "Resolve an alert"}


def _refused(request: ClinicRequest, alert: Alert, action: str, error: str) -> HttpResponse:
    """A snooze or resolve that was not taken: the form again, with what was typed and why
    (422), in the alert's row (htmx) or on the action's page. Nothing typed is lost."""
    alert.refresh_from_db()
    context = {
        "alert": alert,
        "action": action,
        "action_title": ACTION_TITLES[action],
        "error": error,
        "values": {key: request.POST.get(key, "") for key in ("until", "reason", "note")},
        "next": safe_next(request),
        "standalone": not getattr(request, "htmx", False),
    }
    if not getattr(request, "htmx", False):
        return render(request, "alerts/action.html", context, status=422)
    action_form = render_to_string("alerts/action.html#action-form", context, request)
    return HttpResponse(
        card(
            alert_row(alert, alerts.allowed_steps(request.user, alert)),
            csrf_token=get_token(request),
            error=error,
            action=action,
            action_form=action_form,
        ),
        status=422,
    )


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
    context = {
        "alert": alert,
        "action": action,
        "action_title": title,
        "next": safe_next(request),
        # On a page of its own the form posts plainly (there is no row to swap).
        "standalone": not getattr(request, "htmx", False),
    }
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
        return _refused(request, alert, "snooze", _first_error(form))
    until = timezone.make_aware(datetime.combine(form.cleaned_data["until"], time(8, 0)))
    try:
        alerts.snooze(alert=alert, by=request.user, until=until, reason=form.cleaned_data["reason"])
    except alerts.AlertError as exc:
        return _refused(request, alert, "snooze", str(exc))
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
        return _refused(request, alert, "resolve", _first_error(form))
    try:
        alerts.resolve(alert=alert, by=request.user, note=form.cleaned_data["note"])
    except alerts.AlertError as exc:
        return _refused(request, alert, "resolve", str(exc))
    return _after_action(request, alert)
