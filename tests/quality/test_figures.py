"""Every dashboard figure against the hand-counted clinic of conftest.py (team A unless said)."""

from __future__ import annotations

from datetime import date

import pytest

from tests.quality.conftest import END, START, TODAY
from treatments.quality import drilldown, services
from treatments.quality.services import MonthPoint, Period

PERIOD = Period(START, END, TODAY)


@pytest.fixture
def team_a_scope(clinic, team_a):
    return services.scope_for_teams([team_a])


@pytest.fixture
def whole_clinic(clinic):
    return services.scope_for_teams(None)


def counts(t):
    return (t.due, t.on_time, t.late, t.open, t.percent, t.median_delay)


# --- monitoring ----------------------------------------------------------------------------


def test_monitoring_done_within_its_window(team_a_scope):
    m = services.monitoring_adherence(scope=team_a_scope, period=PERIOD)
    # Items 1, 2, 3, 4, 7, 9, 10, 11; on time 1, 3, 7, 9; late 2, 10; open 4, 11.
    # Delays 10, 26, 3 and 76 days: median 18.
    assert counts(m.overall) == (8, 4, 2, 2, 50.0, 18.0)


def test_overdue_items_and_their_median_delay(team_a_scope, whole_clinic):
    team = services.monitoring_adherence(scope=team_a_scope, period=PERIOD).overall
    assert (team.missed, team.median_delay) == (4, 18.0)
    # Bob's LFT, open 120 days, joins for the clinic: 3, 10, 26, 76, 120 -> 26.
    clinic = services.monitoring_adherence(scope=whole_clinic, period=PERIOD).overall
    assert counts(clinic) == (9, 4, 2, 3, 44.4, 26.0)


def test_monitoring_by_drug(team_a_scope):
    by_drug = {
        t.key: counts(t)
        for t in services.monitoring_adherence(scope=team_a_scope, period=PERIOD).by_drug
    }
    assert by_drug == {
        "natalizumab_iv": (4, 2, 1, 1, 50.0, 18.0),  # delays 10 and 26
        "teriflunomide": (3, 1, 1, 1, 33.3, 39.5),  # delays 3 and 76
        "general": (1, 1, 0, 0, 100.0, None),
    }


def test_monitoring_by_test(team_a_scope):
    by_test = {
        t.key: counts(t)
        for t in services.monitoring_adherence(scope=team_a_scope, period=PERIOD).by_test
    }
    assert by_test == {
        "mri_brain": (3, 2, 1, 0, 66.7, 10.0),
        "jcv_antibody": (2, 1, 0, 1, 50.0, 26.0),
        "lft": (3, 1, 1, 1, 33.3, 39.5),
    }


def test_mri_adherence_per_protocol_and_on_natalizumabs_pml_schedule(team_a_scope):
    m = services.monitoring_adherence(scope=team_a_scope, period=PERIOD)
    assert (m.mri.due, m.mri.on_time, m.mri.percent) == (3, 2, 66.7)  # items 1, 2, 7
    assert (m.mri_pml.due, m.mri_pml.on_time, m.mri_pml.percent) == (2, 1, 50.0)  # items 1, 2


def test_jcv_testing_adherence(team_a_scope):
    jcv = services.monitoring_adherence(scope=team_a_scope, period=PERIOD).jcv
    assert (jcv.due, jcv.on_time, jcv.open, jcv.percent) == (2, 1, 1, 50.0)  # items 3, 4


def test_monitoring_trend_by_month_of_the_window_closing(team_a_scope):
    trend = services.monitoring_adherence(scope=team_a_scope, period=PERIOD).trend
    assert trend["all"] == [
        MonthPoint(date(2026, 1, 1), 100.0, 2),  # 7, 9
        MonthPoint(date(2026, 2, 1), 50.0, 2),  # 1 on time, 10 late
        MonthPoint(date(2026, 3, 1), 50.0, 2),  # 3 on time, 11 open
        MonthPoint(date(2026, 4, 1), 0.0, 1),  # 2 late
        MonthPoint(date(2026, 5, 1), 0.0, 1),  # 4 open
    ]
    assert [p.value for p in trend["mri_pml"]] == [100.0, 0.0]
    assert [p.month.month for p in trend["jcv_antibody"]] == [3, 5]


def test_an_item_whose_window_closes_today_is_not_judged_yet(team_a_scope, clinic):
    from tests.quality.conftest import item
    from treatments.models import DmtPlan, ItemStatus

    plan = DmtPlan.objects.get(patient=clinic.carol)
    item(plan, "lft", TODAY, ItemStatus.SCHEDULED)
    to_today = Period(START, TODAY, TODAY)
    assert services.monitoring_adherence(scope=team_a_scope, period=to_today).overall.due == 8


# --- EDSS ------------------------------------------------------------------------------------


def test_edss_recorded_in_the_last_12_months(team_a_scope):
    edss = services.edss_coverage(scope=team_a_scope, period=PERIOD)
    # Active: Alice, Carol, Dave, Gina. On 31 May 2026: Alice and Dave (exactly 12 months).
    assert (edss.patients, edss.recorded, edss.missing, edss.percent) == (4, 2, 2, 50.0)


def test_edss_trend_at_each_months_end(team_a_scope):
    trend = services.edss_coverage(scope=team_a_scope, period=PERIOD).trend
    # Until April, Carol's EDSS of 30 May 2025 still counts (Alice once, though she has two).
    assert [(p.month.month, p.value, p.count) for p in trend] == [
        (1, 75.0, 4),
        (2, 75.0, 4),
        (3, 75.0, 4),
        (4, 75.0, 4),
        (5, 50.0, 4),
    ]


def test_an_edss_on_the_last_day_of_a_month_counts_to_the_last_day_12_months_on(team_a, nurse):
    # As the missing-EDSS sweep reads it (day - 12 months <= assessed_on): on 29 February 2024
    # an EDSS of 28 February 2023 is within 12 months, one of 27 February is not.
    from tests.factories import PatientFactory
    from tests.quality.conftest import edss

    edss(PatientFactory(care_team=team_a), date(2023, 2, 28))
    edss(PatientFactory(care_team=team_a), date(2023, 2, 27))
    february = Period(date(2024, 2, 1), date(2024, 2, 29), TODAY)
    coverage = services.edss_coverage(scope=services.scope_for_teams([team_a]), period=february)
    assert (coverage.patients, coverage.recorded) == (2, 1)


# --- referrals -------------------------------------------------------------------------------


def test_referrals_answered_within_their_target(team_a_scope):
    r = services.referral_response(scope=team_a_scope, period=PERIOD)
    # R1 in target, R2 late, R3 past its deadline; R4 not yet due.
    assert counts(r.overall) == (3, 1, 1, 1, 33.3, None)
    assert r.waiting == 1
    assert {t.key: counts(t) for t in r.by_discipline} == {
        "occupational_therapy": (1, 0, 1, 0, 0.0, None),
        "physiotherapy": (2, 1, 0, 1, 50.0, None),
    }
    assert [(p.month.month, p.value) for p in r.trend] == [(1, 100.0), (2, 0.0), (3, 0.0)]


def test_team_b_sees_only_its_own_referral(clinic, team_b):
    r = services.referral_response(scope=services.scope_for_teams([team_b]), period=PERIOD)
    assert counts(r.overall) == (1, 0, 1, 0, 0.0, None)


# --- acknowledgement -------------------------------------------------------------------------


def test_time_from_abnormal_result_to_acknowledgement(team_a_scope):
    a = services.acknowledgement_time(scope=team_a_scope, period=PERIOD)
    # Acknowledged after 2 h (A1), 24 h (A2, resolved by a person), 4 h (A3): median 4 h;
    # the 90th percentile lies 80% of the way from 4 to 24 h.
    assert (a.raised, a.acknowledged, a.cleared_unacknowledged, a.waiting) == (5, 3, 1, 1)
    assert (a.median_hours, a.p90_hours) == (4.0, 20.0)
    assert [(p.month.month, p.value) for p in a.trend] == [(2, 2.0), (3, 14.0)]


def test_an_empty_team_has_no_figures_rather_than_errors(clinic):
    empty = services.dashboard(scope=services.scope_for_teams([]), period=PERIOD)
    assert empty.monitoring.overall.percent is None
    assert empty.edss.percent is None
    assert empty.referrals.overall.due == 0
    assert empty.acknowledgement.median_hours is None


# --- the patients behind each figure -----------------------------------------------------------


def behind(figure, user, scope, **extra):
    rows = drilldown.patients_behind(figure=figure, scope=scope, period=PERIOD, user=user, **extra)
    return [(p.given_name, p.shortfall, p.since) for p in rows]


def test_patients_behind_monitoring_outside_its_window(clinic, nurse, team_a_scope):
    carol, alice = clinic.carol.given_name, clinic.alice.given_name
    assert behind("monitoring", nurse, team_a_scope) == [
        (carol, 2, date(2026, 2, 28)),  # items 10, 11
        (alice, 2, date(2026, 4, 10)),  # items 2, 4
    ]
    assert behind("monitoring", nurse, team_a_scope, drug="teriflunomide") == [
        (carol, 2, date(2026, 2, 28))
    ]
    assert behind("monitoring", nurse, team_a_scope, drug="general") == []
    assert behind("monitoring", nurse, team_a_scope, test="jcv_antibody") == [
        (alice, 1, date(2026, 5, 20))
    ]
    assert behind("mri", nurse, team_a_scope) == [(alice, 1, date(2026, 4, 10))]
    assert behind("mri_pml", nurse, team_a_scope) == [(alice, 1, date(2026, 4, 10))]
    assert behind("jcv", nurse, team_a_scope) == [(alice, 1, date(2026, 5, 20))]


def test_patients_behind_the_edss_figure(clinic, nurse, team_a_scope):
    assert behind("edss", nurse, team_a_scope) == [
        (clinic.gina.given_name, 1, None),  # never
        (clinic.carol.given_name, 1, date(2025, 5, 30)),
    ]


def test_patients_behind_the_referral_figure(clinic, nurse, team_a_scope):
    assert [name for name, *_ in behind("referrals", nurse, team_a_scope)] == [
        clinic.alice.given_name,  # R2, sent 10 Feb
        clinic.carol.given_name,  # R3, sent 10 Mar
    ]


def test_patients_behind_the_acknowledgement_figure(clinic, nurse, team_a_scope):
    rows = behind("acknowledgement", nurse, team_a_scope)
    # Dave's alert is still waiting; then the longest waits: Carol 48 h (A4), Alice 24 h (A2).
    assert [(name, n, drilldown.hours(wait)) for name, n, wait in rows] == [
        (clinic.dave.given_name, 1, 868.0),  # 10 May 08:00 to now, 15 June 12:00 (36 d 4 h)
        (clinic.carol.given_name, 0, 48.0),
        (clinic.alice.given_name, 0, 24.0),
    ]


def test_a_drill_down_never_lists_a_patient_the_user_cannot_see(clinic, other_neurologist):
    # Asked for team A's scope, team B's neurologist still gets nobody from team A.
    scope = services.scope_for_teams([clinic.alice.care_team])
    for figure in drilldown.FIGURES:
        assert behind(figure, other_neurologist, scope) == [], figure


def test_the_admin_sees_no_patient_in_any_drill_down(clinic, admin_user, whole_clinic):
    for figure in drilldown.FIGURES:
        assert behind(figure, admin_user, whole_clinic) == [], figure
