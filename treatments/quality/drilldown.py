"""The patients behind each dashboard figure: those who fell short of it.

Always scoped with ``Patient.objects.visible_to(user)`` on top of the dashboard's team scope,
so a drill-down never lists a patient the user could not open; clinic admins get none (the
view refuses them first). Each list is one query per page, annotated with what fell short.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import (
    Count,
    DateField,
    DateTimeField,
    F,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from clinic.accounts.models import User
from patients.models import EdssAssessment, Patient, PatientStatus, Referral
from treatments.models import ACTIVE_STATUSES, Alert, AlertKind, ItemStatus, MonitoringItem
from treatments.quality.services import (
    JCV,
    MRI,
    PML_SCHEDULE_DRUGS,
    Period,
    Scope,
    edss_window_start,
)


@dataclass(frozen=True)
class Figure:
    key: str
    title: str
    what: str  # what each listed patient has, for the page


FIGURES = {
    f.key: f
    for f in (
        Figure(
            "monitoring",
            "Monitoring not done within its window",
            "items whose window closed in the period without a result in it",
        ),
        Figure("mri", "Brain MRI not done within its window", "brain MRIs missed or late"),
        Figure(
            "mri_pml",
            "Natalizumab PML-schedule MRI not done within its window",
            "safety MRIs of natalizumab plans missed or late",
        ),
        Figure("jcv", "JCV antibody test not done within its window", "JCV tests missed or late"),
        Figure(
            "edss",
            "No EDSS in the last 12 months",
            "active patients without an EDSS in the 12 months up to the period's end",
        ),
        Figure(
            "referrals",
            "Referrals not answered within their target",
            "referrals sent in the period answered late or still waiting past the deadline",
        ),
        Figure(
            "acknowledgement",
            "Abnormal results and their acknowledgement",
            "abnormal-result alerts raised in the period, slowest first",
        ),
    )
}


def _missed_items(*, period: Period, figure: str, drug: str, test: str) -> QuerySet:
    items = MonitoringItem.objects.filter(
        window_closes_on__gte=period.start, window_closes_on__lte=period.last_closed
    ).exclude(status__in=[ItemStatus.WAIVED, ItemStatus.CANCELLED, ItemStatus.DONE_IN_WINDOW])
    if figure in ("mri", "mri_pml"):
        test = MRI
    if figure == "jcv":
        test = JCV
    # An item's drug is its protocol version's, as on the dashboard ("general" for care plans).
    if figure == "mri_pml":
        items = items.filter(protocol_version__drug_key__in=PML_SCHEDULE_DRUGS)
    if test:
        items = items.filter(investigation=test)
    if drug:
        items = items.filter(protocol_version__drug_key=drug)
    return items


def _count(rows: QuerySet, field: str = "pk") -> Subquery:
    return Subquery(
        rows.filter(patient=OuterRef("pk"))
        .order_by()
        .values("patient")
        .annotate(n=Count(field))
        .values("n"),
        output_field=IntegerField(),
    )


def patients_behind(
    *, figure: str, scope: Scope, period: Period, user: User, drug: str = "", test: str = ""
) -> QuerySet[Patient]:
    """The patients behind ``figure``, each annotated with ``shortfall`` (how many items,
    referrals or alerts) and ``since`` (the oldest date concerned), worst first."""
    patients = scope.patients().filter(pk__in=Patient.objects.visible_ids(user))
    if figure in ("monitoring", "mri", "mri_pml", "jcv"):
        missed = _missed_items(period=period, figure=figure, drug=drug, test=test)
        oldest = Subquery(
            missed.filter(patient=OuterRef("pk"))
            .order_by()
            .values("patient")
            .annotate(d=Min("window_closes_on"))
            .values("d"),
            output_field=DateField(),
        )
        rows = patients.filter(pk__in=missed.values("patient")).annotate(
            shortfall=_count(missed), since=oldest
        )
    elif figure == "edss":
        recent = EdssAssessment.objects.standing().filter(
            assessed_on__gte=edss_window_start(period.as_of), assessed_on__lte=period.as_of
        )
        rows = (
            patients.filter(status=PatientStatus.ACTIVE)
            .exclude(pk__in=recent.values("patient"))
            .annotate(
                shortfall=Value(1),
                since=Subquery(
                    EdssAssessment.objects.standing()
                    .filter(patient=OuterRef("pk"), assessed_on__lte=period.as_of)
                    .order_by()
                    .values("patient")
                    .annotate(d=Max("assessed_on"))
                    .values("d"),
                    output_field=DateField(),
                ),
            )
        )
        return rows.order_by(F("since").asc(nulls_first=True), "family_name", "given_name", "id")
    elif figure == "referrals":
        start, end = period.bounds()
        short = Referral.objects.filter(sent_at__gte=start, sent_at__lt=end).filter(
            Q(responded_at__gt=F("due_at"))
            | Q(responded_at__isnull=True, due_at__lt=timezone.now())
        )
        short = short.exclude(state="cancelled", responded_at__isnull=True)
        rows = patients.filter(pk__in=short.values("patient")).annotate(
            shortfall=_count(short),
            since=Subquery(
                short.filter(patient=OuterRef("pk"))
                .order_by()
                .values("patient")
                .annotate(d=Min("sent_at"))
                .values("d"),
                output_field=DateTimeField(),
            ),
        )
    elif figure == "acknowledgement":
        start, end = period.bounds()
        raised = Alert.objects.filter(
            kind=AlertKind.ABNORMAL_RESULT, created_at__gte=start, created_at__lt=end
        )
        waiting = raised.filter(acknowledged_at__isnull=True, status__in=ACTIVE_STATUSES)
        # Longest wait: to acknowledgement, else to resolution, else until now.
        wait = Coalesce(F("acknowledged_at"), F("resolved_at"), Value(timezone.now())) - F(
            "created_at"
        )
        rows = patients.filter(pk__in=raised.values("patient")).annotate(
            shortfall=Coalesce(_count(waiting), 0),
            since=Subquery(
                raised.filter(patient=OuterRef("pk"))
                .order_by()
                .values("patient")
                .annotate(d=Max(wait))
                .values("d")
            ),
        )
        return rows.order_by(
            F("shortfall").desc(), F("since").desc(nulls_last=True), "family_name", "id"
        )
    else:
        raise KeyError(figure)
    return rows.order_by(F("shortfall").desc(), "since", "family_name", "given_name", "id")


def hours(value: timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds() / 3600, 1)
