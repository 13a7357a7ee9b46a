"""The quality dashboard's figures, for the clinic or some of its teams, over a period.

One function per figure, each one aggregate SQL statement over the period (GROUPING SETS give
the totals, the breakdowns and the month-by-month trend from one scan), never a loop over
patients. What each figure counts, deliberately:

* **Monitoring done within its window** — every monitoring item (drug protocols and the general
  care plan) whose window *closed* in the period, before today (an item whose window is still
  open cannot have missed it yet). Waived and cancelled items are left out. Done in its window
  counts as on time (an early result answers the question too, as ``MonitoringItem
  .completion_status`` says); done late or still open counts as **overdue**.
* **Overdue items and their median delay** — those overdue items; the delay is the days from
  the window's close to the result, or to today for those still open.
* **MRI adherence** — the same for brain MRI items: all of them (per protocol), and those of
  natalizumab plans (the anti-integrin class in the catalogue: its PML surveillance schedule).
* **JCV testing adherence** — the same for anti-JCV antibody items.
* **EDSS recorded in the last 12 months** — active patients with an EDSS dated within the
  ``NO_EDSS_MONTHS`` (12) months up to the period's end (and up to each month's end for the
  trend), the interval the missing-EDSS sweep alerts on.
* **Referrals answered within their target** — referrals sent in the period, answered (accepted
  or declined) by their deadline, out of those answered or past their deadline; referrals
  cancelled before an answer and those still within their deadline are not counted.
* **Time from abnormal result to acknowledgement** — abnormal-result alerts raised in the
  period: hours from the alert (raised when the result is recorded) to its acknowledgement, or to
  its resolution by a person if nobody acknowledged it first. Alerts that cleared by themselves
  and those still waiting are counted apart.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone
from redis.exceptions import RedisError

from clinic.accounts.models import CareTeam
from patients.models import EdssAssessment, Patient, PatientStatus, Referral
from treatments.models import Alert, AlertKind, MonitoringItem, ProtocolVersion
from treatments.monitoring.sweeps import NO_EDSS_MONTHS
from treatments.protocols import add_months, all_protocols, investigation_name
from treatments.protocols.schema import DrugClass

MRI = "mri_brain"
JCV = "jcv_antibody"
GENERAL = "general"
GENERAL_LABEL = "General care plan (every patient)"
# Natalizumab's PML surveillance MRIs belong to its plans (treatments/protocols/drugs).
PML_SCHEDULE_DRUGS = frozenset(
    p.drug_key for p in all_protocols() if p.drug_class == DrugClass.ANTI_INTEGRIN
)


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive
    today: date

    @property
    def last_closed(self) -> date:
        """The last window close that can be judged: the period's end, or yesterday."""
        return min(self.end, self.today - timedelta(days=1))

    @property
    def as_of(self) -> date:
        return min(self.end, self.today)

    def months(self) -> list[date]:
        """The first day of each month the period touches."""
        first, found = self.start.replace(day=1), []
        while first <= self.end:
            found.append(first)
            first = add_months(first, 1)
        return found

    def bounds(self) -> tuple[datetime, datetime]:
        """The period as aware datetimes in the clinic's time zone, [start, end + 1 day)."""
        tz = timezone.get_current_timezone()
        return (
            datetime.combine(self.start, time.min, tzinfo=tz),
            datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=tz),
        )


@dataclass(frozen=True)
class Scope:
    """Whose patients: some care teams, or the whole clinic (``team_ids`` None)."""

    team_ids: tuple[int, ...] | None
    label: str

    def patients(self) -> QuerySet[Patient]:
        patients = Patient.objects.all()
        return patients if self.team_ids is None else patients.filter(care_team__in=self.team_ids)

    def join(self, rows: str) -> str:
        """The patients' table joined to ``rows`` (an alias) when teams are chosen; the whole
        clinic needs no join."""
        if self.team_ids is None:
            return ""
        return f"JOIN {_db(Patient)} p ON p.id = {rows}.patient_id"

    def sql(self, alias: str = "p") -> tuple[str, list[Any]]:
        """A WHERE fragment on the patient table's alias, and its parameters."""
        if self.team_ids is None:
            return "TRUE", []
        return f"{alias}.care_team_id = ANY(%s)", [list(self.team_ids)]


def scope_for_teams(teams: Iterable[CareTeam] | None) -> Scope:
    if teams is None:
        return Scope(None, "The whole clinic")
    chosen = sorted(teams, key=lambda t: t.name)
    return Scope(tuple(t.pk for t in chosen), ", ".join(t.name for t in chosen) or "No team")


@dataclass
class Tally:
    """Done on time out of those that could be judged; ``late`` and ``open`` missed it."""

    key: str = ""
    label: str = ""
    due: int = 0
    on_time: int = 0
    late: int = 0
    open: int = 0
    median_delay: float | None = None

    @property
    def missed(self) -> int:
        return self.late + self.open

    @property
    def percent(self) -> float | None:
        return round(100 * self.on_time / self.due, 1) if self.due else None

    def add(self, other: Tally) -> None:
        self.due += other.due
        self.on_time += other.on_time
        self.late += other.late
        self.open += other.open


@dataclass(frozen=True)
class MonthPoint:
    month: date
    value: float | None
    count: int


@dataclass
class Monitoring:
    overall: Tally
    by_drug: list[Tally]
    by_test: list[Tally]
    mri: Tally
    mri_pml: Tally
    jcv: Tally
    trend: dict[str, list[MonthPoint]] = field(default_factory=dict)


def _db(model: Any) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _tally(
    row: dict[str, Any], key: str = "", label: str = "", median: float | None = None
) -> Tally:
    return Tally(
        key=key,
        label=label,
        due=row["due"],
        on_time=row["on_time"],
        late=row["late"],
        open=row["still_open"],
        median_delay=median,
    )


def _rows(sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [c.name for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _items_from(scope: Scope, *, join: str = "") -> tuple[str, list[Any]]:
    """FROM and WHERE for the period's judged items: the patients' table is joined only to
    choose teams (the whole clinic needs no join). Parameters: the window's two dates, then
    the returned ones."""
    where, params = scope.sql()
    join += f" {scope.join('mi')}"
    return (
        f"""
        FROM {_db(MonitoringItem)} mi {join}
        WHERE mi.window_closes_on BETWEEN %s AND %s
          AND mi.status NOT IN ('waived', 'cancelled') AND {where}
        """,
        params,
    )


def monitoring_adherence(*, scope: Scope, period: Period) -> Monitoring:
    """Monitoring done within its window, by drug, by test and by month; overdue items and
    their median delay; MRI (per protocol and natalizumab's PML schedule) and JCV adherence.

    Two statements. The counts per drug, test and month from one read of the window index
    (its columns are all the statement needs): an item's drug is its protocol version's, so
    items are grouped by version first (a handful of values, hashed) and the versions joined
    afterwards; every other breakdown is a sum of these rows. Then the median delays of the
    overdue items alone, per drug, per test and overall (a median does not add up)."""
    window = [period.start, period.last_closed]
    versions = _db(ProtocolVersion)
    items, params = _items_from(scope)
    counts = _rows(
        f"""
        WITH grouped AS (
            SELECT mi.protocol_version_id AS version_id, mi.investigation AS test,
                   date_trunc('month', mi.window_closes_on)::date AS month,
                   COUNT(*) AS due,
                   COUNT(*) FILTER (WHERE mi.status = 'done_in_window') AS on_time,
                   COUNT(*) FILTER (WHERE mi.status = 'done_late') AS late,
                   COUNT(*) FILTER (WHERE mi.status IN ('scheduled', 'booked')) AS still_open
            {items}
            GROUP BY 1, 2, 3
        )
        SELECT v.drug_key AS drug, MAX(v.drug_name) AS drug_name, g.test, g.month,
               SUM(g.due)::int AS due, SUM(g.on_time)::int AS on_time,
               SUM(g.late)::int AS late, SUM(g.still_open)::int AS still_open
        FROM grouped g JOIN {versions} v ON v.id = g.version_id
        GROUP BY v.drug_key, g.test, g.month
        """,  # noqa: S608 (only model table names and fixed fragments are formatted in)
        [*window, *params],
    )
    items, params = _items_from(scope, join=f"JOIN {versions} v ON v.id = mi.protocol_version_id")
    medians = _rows(
        f"""
        SELECT v.drug_key AS drug, mi.investigation AS test,
               GROUPING(v.drug_key, mi.investigation) AS grouping,
               percentile_cont(0.5) WITHIN GROUP (
                   ORDER BY COALESCE(mi.completed_on, %s::date) - mi.window_closes_on
               ) AS median_delay
        {items} AND mi.status <> 'done_in_window'
        GROUP BY GROUPING SETS ((v.drug_key), (mi.investigation), ())
        """,
        [period.today, *window, *params],
    )
    # GROUPING() sets a bit for each column *not* grouped: drug 2, test 1.
    median = {
        ("drug", r["drug"])
        if r["grouping"] == 1
        else ("test", r["test"])
        if r["grouping"] == 2
        else ("all", ""): float(r["median_delay"])
        for r in medians
        if r["median_delay"] is not None
    }

    def summed(key: str, label: str, rows: Iterable[dict[str, Any]], kind: str) -> Tally:
        tally = Tally(key, label, median_delay=median.get((kind, key if kind != "all" else "")))
        for r in rows:
            tally.add(_tally(r))
        return tally

    drugs = {r["drug"]: r["drug_name"] for r in counts}
    by_drug = sorted(
        (
            summed(
                drug,
                GENERAL_LABEL if drug == GENERAL else name,
                (r for r in counts if r["drug"] == drug),
                "drug",
            )
            for drug, name in drugs.items()
        ),
        key=lambda t: (t.key == GENERAL, t.label),
    )
    by_test = sorted(
        (
            summed(test, investigation_name(test), (r for r in counts if r["test"] == test), "test")
            for test in {r["test"] for r in counts}
        ),
        key=lambda t: t.label,
    )
    tests = {t.key: t for t in by_test}

    def pml(r: dict[str, Any]) -> bool:
        return bool(r["test"] == MRI and r["drug"] in PML_SCHEDULE_DRUGS)

    months = period.months()
    return Monitoring(
        overall=summed("all", "All monitoring", counts, "all"),
        by_drug=by_drug,
        by_test=by_test,
        mri=tests.get(MRI) or Tally(MRI, investigation_name(MRI)),
        mri_pml=summed(
            "mri_pml", "Brain MRI on natalizumab (PML schedule)", filter(pml, counts), "-"
        ),
        jcv=tests.get(JCV) or Tally(JCV, investigation_name(JCV)),
        trend={
            "all": _monthly(months, counts, lambda r: True),
            MRI: _monthly(months, counts, lambda r: r["test"] == MRI),
            "mri_pml": _monthly(months, counts, pml),
            JCV: _monthly(months, counts, lambda r: r["test"] == JCV),
        },
    )


def _monthly(months: list[date], rows: list[dict[str, Any]], keep: Any) -> list[MonthPoint]:
    per_month: dict[date, Tally] = defaultdict(Tally)
    for r in rows:
        if keep(r):
            per_month[r["month"]].add(_tally(r))
    return [MonthPoint(m, per_month[m].percent, per_month[m].due) for m in months if m in per_month]


@dataclass(frozen=True)
class EdssCoverage:
    patients: int
    recorded: int
    trend: list[MonthPoint]

    @property
    def missing(self) -> int:
        return self.patients - self.recorded

    @property
    def percent(self) -> float | None:
        return round(100 * self.recorded / self.patients, 1) if self.patients else None


def edss_window_start(on: date) -> date:
    """The first day counted as 'in the last 12 months' up to ``on``: the same day 12 months
    earlier still counts, as in the missing-EDSS sweep (treatments.monitoring.sweeps)."""
    return add_months(on, -NO_EDSS_MONTHS)


def edss_coverage(*, scope: Scope, period: Period) -> EdssCoverage:
    """Active patients with an EDSS in the 12 months up to the period's end, and up to the end
    of each month of the period (the trend)."""
    # Each month's last day (the last one cut at the period's end or today): the headline is
    # the last of them.
    days = sorted(
        {
            min(add_months(m, 1) - timedelta(days=1), period.as_of)
            for m in period.months()
            if m <= period.as_of
        }
    )
    where, params = scope.sql()
    # Each assessment answers for the days from it to the patient's next one (LEAD): the days
    # one patient's assessments answer for never overlap, so no DISTINCT is needed. It covers
    # those no more than 12 months on, as `day - 12 months <= assessed_on` reads: up to
    # e + 12 months, or to the day before (e + 1) + 12 months when that is later (28 Feb 2023
    # covers 29 Feb 2024). Which of the days asked about that is, width_bucket finds in their
    # sorted array: the first index covered (lo) and the last (hi). Counting +1 at lo and -1
    # after hi, and adding up along the days, gives the patients covered on each day without
    # comparing every pair.
    twelve_on = (
        "GREATEST((a.on_day + make_interval(months => %s))::date, "
        "(a.on_day + 1 + make_interval(months => %s))::date - 1)"
    )
    sql = f"""
        WITH patients AS (
            SELECT p.id FROM {_db(Patient)} p WHERE p.status = %s AND {where}
        ),
        assessed AS (
            SELECT e.assessed_on AS on_day,
                   LEAD(e.assessed_on) OVER (
                       PARTITION BY e.patient_id ORDER BY e.assessed_on
                   ) AS next_day
            FROM {_db(EdssAssessment)} e
            WHERE e.assessed_on >= %s AND e.assessed_on <= %s AND e.correction = ''
              AND e.patient_id IN (SELECT id FROM patients)
        ),
        covered AS (
            SELECT width_bucket(a.on_day - 1, %s::date[]) AS lo,
                   width_bucket(
                       LEAST(COALESCE(a.next_day - 1, 'infinity'::date), {twelve_on}),
                       %s::date[]
                   ) - 1 AS hi
            FROM assessed a
        )
        SELECT -1 AS k, COUNT(*) AS n FROM patients
        UNION ALL
        SELECT lo, COUNT(*) FROM covered WHERE lo <= hi GROUP BY lo
        UNION ALL
        SELECT hi + 1, -COUNT(*) FROM covered WHERE lo <= hi GROUP BY hi + 1
    """  # noqa: S608 (only model table names and fixed fragments are formatted in)
    rows = _rows(
        sql,
        [
            PatientStatus.ACTIVE,
            *params,
            edss_window_start(days[0]),
            days[-1],
            days,
            NO_EDSS_MONTHS,
            NO_EDSS_MONTHS,
            days,
        ],
    )
    patients = sum(r["n"] for r in rows if r["k"] == -1)
    change: defaultdict[int, int] = defaultdict(int)
    for r in rows:
        if r["k"] >= 0:
            change[r["k"]] += r["n"]
    recorded, running = [], 0
    for k in range(len(days)):
        running += change[k]
        recorded.append(running)
    trend = [
        MonthPoint(day.replace(day=1), round(100 * n / patients, 1) if patients else None, patients)
        for day, n in zip(days, recorded, strict=True)
    ]
    return EdssCoverage(patients, recorded[-1] if recorded else 0, trend)


@dataclass
class Referrals:
    overall: Tally
    by_discipline: list[Tally]
    waiting: int  # sent in the period, not yet answered, still within the deadline
    trend: list[MonthPoint]


def referral_response(*, scope: Scope, period: Period, now: datetime | None = None) -> Referrals:
    """Referrals sent in the period answered within their target (by discipline and month)."""
    from patients.models.referrals import ReferralDiscipline

    now = now or timezone.now()
    start, end = period.bounds()
    where, params = scope.sql()
    sql = f"""
        SELECT r.discipline,
               date_trunc('month', r.sent_at AT TIME ZONE %s)::date AS month,
               GROUPING(r.discipline, date_trunc('month', r.sent_at AT TIME ZONE %s))
                   AS grouping,
               COUNT(*) FILTER (WHERE r.responded_at IS NOT NULL OR r.due_at < %s) AS due,
               COUNT(*) FILTER (WHERE r.responded_at <= r.due_at) AS on_time,
               COUNT(*) FILTER (WHERE r.responded_at > r.due_at) AS late,
               COUNT(*) FILTER (WHERE r.responded_at IS NULL AND r.due_at < %s) AS still_open,
               COUNT(*) FILTER (WHERE r.responded_at IS NULL AND r.due_at >= %s) AS waiting
        FROM {_db(Referral)} r {scope.join("r")}
        WHERE r.sent_at >= %s AND r.sent_at < %s
          AND NOT (r.state = 'cancelled' AND r.responded_at IS NULL)
          AND {where}
        GROUP BY GROUPING SETS (
            (r.discipline), (date_trunc('month', r.sent_at AT TIME ZONE %s)), ()
        )
    """  # noqa: S608 (only model table names and fixed fragments are formatted in)
    tz = timezone.get_current_timezone_name()
    rows = _rows(sql, [tz, tz, now, now, now, start, end, *params, tz])
    labels = dict(ReferralDiscipline.choices)
    overall_row = next((r for r in rows if r["grouping"] == 3), None)
    overall = _tally(overall_row, "all", "All referrals") if overall_row else Tally()
    by_discipline = sorted(
        (
            _tally(r, r["discipline"], labels.get(r["discipline"], r["discipline"]))
            for r in rows
            if r["grouping"] == 1
        ),
        key=lambda t: t.label,
    )
    per_month = {r["month"]: _tally(r) for r in rows if r["grouping"] == 2}
    trend = [
        MonthPoint(m, per_month[m].percent, per_month[m].due)
        for m in period.months()
        if m in per_month and per_month[m].due
    ]
    return Referrals(
        overall=overall,
        by_discipline=by_discipline,
        waiting=overall_row["waiting"] if overall_row else 0,
        trend=trend,
    )


@dataclass(frozen=True)
class Acknowledgement:
    raised: int
    acknowledged: int
    cleared_unacknowledged: int
    waiting: int
    median_hours: float | None
    p90_hours: float | None
    trend: list[MonthPoint]


def acknowledgement_time(*, scope: Scope, period: Period) -> Acknowledgement:
    """Hours from an abnormal-result alert to its acknowledgement (or its resolution by a
    person when nobody acknowledged it first), for alerts raised in the period."""
    start, end = period.bounds()
    where, params = scope.sql()
    tz = timezone.get_current_timezone_name()
    seen = (
        "COALESCE(a.acknowledged_at, CASE WHEN NOT a.resolved_automatically THEN a.resolved_at END)"
    )
    hours = f"EXTRACT(EPOCH FROM ({seen} - a.created_at)) / 3600.0"
    sql = f"""
        SELECT date_trunc('month', a.created_at AT TIME ZONE %s)::date AS month,
               GROUPING(date_trunc('month', a.created_at AT TIME ZONE %s)) AS grouping,
               COUNT(*) AS raised,
               COUNT({seen}) AS acknowledged,
               COUNT(*) FILTER (WHERE {seen} IS NULL AND a.status = 'resolved') AS cleared,
               COUNT(*) FILTER (WHERE {seen} IS NULL AND a.status <> 'resolved') AS waiting,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY {hours}) AS median_hours,
               percentile_cont(0.9) WITHIN GROUP (ORDER BY {hours}) AS p90_hours
        FROM {_db(Alert)} a {scope.join("a")}
        WHERE a.kind = %s AND a.created_at >= %s AND a.created_at < %s AND {where}
        GROUP BY GROUPING SETS ((date_trunc('month', a.created_at AT TIME ZONE %s)), ())
    """  # noqa: S608 (only model table names and fixed fragments are formatted in)
    rows = _rows(sql, [tz, tz, AlertKind.ABNORMAL_RESULT, start, end, *params, tz])
    total = next((r for r in rows if r["grouping"] == 1), None)
    trend = [
        MonthPoint(r["month"], _hours(r["median_hours"]), r["acknowledged"])
        for r in sorted((r for r in rows if r["grouping"] == 0), key=lambda r: r["month"])
        if r["median_hours"] is not None
    ]
    if total is None:
        return Acknowledgement(0, 0, 0, 0, None, None, [])
    return Acknowledgement(
        raised=total["raised"],
        acknowledged=total["acknowledged"],
        cleared_unacknowledged=total["cleared"],
        waiting=total["waiting"],
        median_hours=_hours(total["median_hours"]),
        p90_hours=_hours(total["p90_hours"]),
        trend=trend,
    )


def _hours(value: Decimal | float | None) -> float | None:
    # + 0.0 turns a -0.0 (an acknowledgement stamped a moment before the alert) into 0.0.
    return None if value is None else round(float(value), 1) + 0.0


@dataclass(frozen=True)
class Dashboard:
    scope: Scope
    period: Period
    monitoring: Monitoring
    edss: EdssCoverage
    referrals: Referrals
    acknowledgement: Acknowledgement
    worked_out_at: datetime | None = None


def dashboard(*, scope: Scope, period: Period) -> Dashboard:
    """Every figure: four statements, whatever the size of the clinic."""
    return Dashboard(
        scope=scope,
        period=period,
        monitoring=monitoring_adherence(scope=scope, period=period),
        edss=edss_coverage(scope=scope, period=period),
        referrals=referral_response(scope=scope, period=period),
        acknowledgement=acknowledgement_time(scope=scope, period=period),
        worked_out_at=timezone.now(),
    )


def recent_dashboard(*, scope: Scope, period: Period) -> Dashboard:
    """The dashboard as worked out at most `settings.QUALITY_CACHE_SECONDS` ago (the page says
    when). Its statements read a year of the whole clinic's monitoring, about 1 s at 90,000
    patients: a team lead opening it again, or a colleague with the same teams and period, gets
    the same figures from the cache, and the whole clinic's default view is kept worked out by
    `refresh_whole_clinic`. Counts only, never a patient; with Redis down it is worked out
    every time."""
    if settings.QUALITY_CACHE_SECONDS <= 0:
        return dashboard(scope=scope, period=period)
    try:
        cached = cache.get(_cache_key(scope, period))
    except RedisError:
        return dashboard(scope=scope, period=period)
    if isinstance(cached, Dashboard):
        return cached
    return _keep(dashboard(scope=scope, period=period))


def refresh_whole_clinic(*, today: date) -> Dashboard | None:
    """Work out the whole clinic's dashboard over its default period and keep it, so the
    clinic admin opening the page (the one view that reads every team's year, about 1 s at
    90,000 patients) is served kept figures at once. Run by the beat more often than the
    figures expire; nothing when figures are not kept."""
    if settings.QUALITY_CACHE_SECONDS <= 0:
        return None
    start, end = default_period(today)
    return _keep(dashboard(scope=scope_for_teams(None), period=Period(start, end, today)))


def default_period(today: date) -> tuple[date, date]:
    """The dashboard's default period: the last 12 months, this one included."""
    return add_months(today.replace(day=1), -11), today


def _cache_key(scope: Scope, period: Period) -> str:
    teams = "all" if scope.team_ids is None else ",".join(map(str, scope.team_ids))
    return f"quality:v1:{teams}:{period.start}:{period.end}:{period.today}"


def _keep(board: Dashboard) -> Dashboard:
    with contextlib.suppress(RedisError):
        cache.set(
            _cache_key(board.scope, board.period), board, timeout=settings.QUALITY_CACHE_SECONDS
        )
    return board
