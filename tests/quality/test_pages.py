"""The quality dashboard's pages: who sees what, the charts, the CSV and the drill-downs."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinic.audit.models import AccessEvent, Action
from tests.conftest import sign_in
from tests.factories import CareTeamFactory
from tests.quality.conftest import PERIOD, item
from treatments.models import DmtPlan, ItemStatus

DASHBOARD = reverse("quality:dashboard")
EXPORT = reverse("quality:export")


def drill(figure: str) -> str:
    return reverse("quality:drill", kwargs={"figure": figure})


def test_a_nurse_sees_her_teams_figures_with_trends_and_drill_downs(signed_in, nurse, clinic):
    response = signed_in(nurse).get(DASHBOARD, PERIOD)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Team A · 01 Jan 2026 to 31 May 2026" in body
    assert "4 of 8 items whose window closed in the period" in body
    assert "Median delay <strong>18 days</strong>" in body
    assert "2 of 4 active patients" in body  # EDSS
    assert "1 of 3 referrals sent in the period" in body
    assert "Median over 3 of 5 abnormal-result alerts; 90% within 20 h" in body
    assert body.count('<svg class="chart"') == 3  # server-rendered, no script
    assert f'href="{drill("monitoring")}?start=2026-01-01&amp;end=2026-05-31"' in body
    assert "no-store" in response["Cache-Control"]
    assert clinic.bob.mrn not in body


def test_the_dashboard_shows_no_patient_names(signed_in, neurologist, clinic):
    body = signed_in(neurologist).get(DASHBOARD, PERIOD).content.decode()
    for patient in (clinic.alice, clinic.carol, clinic.dave, clinic.gina):
        # (MRNs and "FAMILY, Given": a generated family name can be an ordinary word.)
        assert patient.mrn not in body
        assert patient.listing_name not in body


def test_the_admin_sees_the_whole_clinic_in_aggregate_only(signed_in, admin_user, clinic):
    body = signed_in(admin_user).get(DASHBOARD, PERIOD).content.decode()
    assert "The whole clinic" in body
    assert "4 of 9 items whose window closed in the period" in body  # with Bob's
    assert "/quality/patients/" not in body  # no drill-down for admins
    assert signed_in(admin_user).get(drill("monitoring"), PERIOD).status_code == 403


def test_the_admin_may_look_at_one_team(signed_in, admin_user, clinic, team_b):
    body = signed_in(admin_user).get(DASHBOARD, {**PERIOD, "team": team_b.pk}).content.decode()
    assert "Team B ·" in body
    assert "0 of 1 items whose window closed in the period" in body


def test_a_clinician_cannot_ask_for_another_teams_figures(signed_in, nurse, clinic, team_b):
    response = signed_in(nurse).get(DASHBOARD, {**PERIOD, "team": team_b.pk})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert (
        signed_in(nurse).get(drill("monitoring"), {**PERIOD, "team": team_b.pk}).status_code == 400
    )


def test_therapists_do_not_have_the_dashboard(signed_in, therapist, clinic):
    assert signed_in(therapist).get(DASHBOARD).status_code == 403


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"start": "2026-06-01", "end": "2026-05-01"}, "end", "on or after its start"),
        ({"start": "2026-01-01", "end": "2026-07-01"}, "end", "cannot end after today"),
        ({"start": "2020-01-01", "end": "2026-05-01"}, "end", "at most 36 months"),
        ({"start": "not a date", "end": "2026-05-01"}, "start", "Enter a valid date"),
    ],
)
def test_bad_periods_are_explained_next_to_the_field(
    signed_in, nurse, clinic, params, field, message
):
    response = signed_in(nurse).get(DASHBOARD, params)
    assert response.status_code == 400
    assert f'id="id_{field}_error">' in response.content.decode()
    assert message in response.content.decode()


def test_bad_filters_from_htmx_send_the_browser_to_the_whole_page(signed_in, nurse, clinic):
    params = {"start": "2026-06-01", "end": "2026-05-01"}
    response = signed_in(nurse).get(DASHBOARD, params, headers={"HX-Request": "true"})
    assert response["HX-Redirect"] == f"{DASHBOARD}?start=2026-06-01&end=2026-05-01"


def test_without_filters_the_last_twelve_months_are_shown(signed_in, nurse, clinic):
    body = signed_in(nurse).get(DASHBOARD).content.decode()
    assert "01 Jul 2025 to 15 Jun 2026" in body


def test_an_htmx_request_gets_the_figures_partial(signed_in, nurse, clinic):
    response = signed_in(nurse).get(DASHBOARD, PERIOD, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="quality-figures">')
    assert "<html" not in body


def test_the_csv_has_every_figure_and_is_audited(signed_in, nurse, clinic):
    response = signed_in(nurse).get(EXPORT, PERIOD)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "myelin-quality-20260101-20260531.csv" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    table = {(r[0], r[1], r[2]): r for r in rows[3:]}
    assert table[("monitoring", "all", "all")][4:10] == ["8", "4", "2", "2", "50.0", "18.0"]
    assert table[("monitoring", "drug", "teriflunomide")][4:10] == [
        "3",
        "1",
        "1",
        "1",
        "33.3",
        "39.5",
    ]
    assert table[("mri", "natalizumab PML schedule", "mri_pml")][4:9] == [
        "2",
        "1",
        "1",
        "0",
        "50.0",
    ]
    assert table[("jcv", "all", "jcv_antibody")][8] == "50.0"
    assert table[("edss", "active patients", "edss_12_months")][4:9] == ["4", "2", "", "2", "50.0"]
    assert table[("referrals", "all", "all")][4:9] == ["3", "1", "1", "1", "33.3"]
    assert table[("acknowledgement", "abnormal-result alerts", "median_hours")][9] == "4.0"
    assert ["trend", "monitoring", "", "", "2", "", "", "", "100.0", "", "2026-01"] in rows
    body = response.content.decode()
    assert clinic.alice.mrn not in body  # counts only
    assert AccessEvent.objects.filter(action=Action.EXPORT, detail="quality dashboard CSV").exists()


def test_the_admin_may_export_the_clinic(signed_in, admin_user, clinic):
    assert signed_in(admin_user).get(EXPORT, PERIOD).status_code == 200


def test_a_drill_down_lists_the_patients_behind_a_figure_and_is_audited(signed_in, nurse, clinic):
    response = signed_in(nurse).get(drill("monitoring"), {**PERIOD, "drug": "teriflunomide"})
    body = response.content.decode()
    assert response.status_code == 200
    assert clinic.carol.listing_name in body
    assert clinic.alice.listing_name not in body
    assert clinic.carol.get_absolute_url() in body
    assert AccessEvent.objects.filter(
        user=nurse, patient=clinic.carol, action=Action.LIST, detail="quality dashboard: monitoring"
    ).exists()


def test_every_drill_down_opens(signed_in, neurologist, clinic):
    client = signed_in(neurologist)
    for figure in ("monitoring", "mri", "mri_pml", "jcv", "edss", "referrals", "acknowledgement"):
        assert client.get(drill(figure), PERIOD).status_code == 200, figure
    assert client.get(drill("nonsense"), PERIOD).status_code == 404


def test_the_nav_offers_the_dashboard_to_neurologists_nurses_and_admins(
    neurologist, nurse, therapist, admin_user
):
    def nav(user) -> str:
        return sign_in(Client(), user).get(reverse("accounts:profile")).content.decode()

    for user in (neurologist, nurse, admin_user):
        assert 'href="/quality/">Quality</a>' in nav(user), user.role
    assert 'href="/quality/"' not in nav(therapist)


def _count(client, url, params) -> int:
    client.get(url, params)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, params).status_code == 200
    return len(queries.captured_queries)


# The user, the nav's alert count, the team choices (the form's list and the scope), and the
# figures: monitoring counts, monitoring medians, EDSS, referrals, acknowledgement.
DASHBOARD_BUDGET = 9


def test_the_dashboard_query_count_does_not_grow_with_the_clinic(signed_in, nurse, clinic):
    client = signed_in(nurse)
    few = _count(client, DASHBOARD, PERIOD)
    plan = DmtPlan.objects.get(patient=clinic.carol)
    for n in range(40):
        item(plan, "cbc", PERIOD_DAY(n), ItemStatus.DONE_LATE, PERIOD_DAY(n + 5))
    CareTeamFactory(name="Team C")
    assert _count(client, DASHBOARD, PERIOD) == few == DASHBOARD_BUDGET


def PERIOD_DAY(n: int):
    from datetime import date, timedelta

    return date(2026, 1, 5) + timedelta(days=n * 3)


def test_the_figures_are_kept_a_few_minutes_and_say_when_they_were_worked_out(
    signed_in, nurse, clinic, settings
):
    from django.core.cache import cache

    cache.clear()
    settings.QUALITY_CACHE_SECONDS = 600
    client = signed_in(nurse)
    first = client.get(DASHBOARD, PERIOD).content.decode()
    assert "4 of 8 items whose window closed in the period" in first
    assert "figures as of 12:00" in first  # the clinic day's frozen clock

    # An item closing later changes the figures only once the kept ones expire.
    plan = DmtPlan.objects.filter(patient=clinic.alice).first()
    day = date(2026, 3, 15)
    item(plan, "fbc", day, ItemStatus.DONE_IN_WINDOW, done=day)
    with CaptureQueriesContext(connection) as queries:
        again = client.get(DASHBOARD, PERIOD).content.decode()
    assert "4 of 8 items whose window closed in the period" in again
    assert not any("treatments_monitoringitem" in q["sql"] for q in queries.captured_queries)

    cache.clear()
    fresh = client.get(DASHBOARD, PERIOD).content.decode()
    assert "5 of 9 items whose window closed in the period" in fresh


def test_the_whole_clinics_figures_are_kept_worked_out_by_the_beat(
    signed_in, admin_user, clinic, settings
):
    """The clinic admin's view reads every team's year (about a second at 90,000 patients): a
    beat task keeps it worked out, so opening the page never waits for it."""
    import re

    from django.core.cache import cache

    from treatments.quality.tasks import refresh_quality_dashboard

    def items_line(body: str) -> str:
        found = re.search(r"\d+ of \d+ items whose window closed in the period", body)
        assert found is not None
        return found.group(0)

    assert refresh_quality_dashboard.apply().get() is False  # figures not kept: nothing to do
    worked_out = items_line(signed_in(admin_user).get(DASHBOARD).content.decode())

    cache.clear()
    settings.QUALITY_CACHE_SECONDS = 600
    assert refresh_quality_dashboard.apply().get() is True
    client = signed_in(admin_user)
    with CaptureQueriesContext(connection) as queries:
        kept = client.get(DASHBOARD).content.decode()
    assert items_line(kept) == worked_out
    assert "figures as of 12:00" in kept
    assert not any("treatments_monitoringitem" in q["sql"] for q in queries.captured_queries)

    # An item closing later is counted once the beat has worked the figures out again.
    plan = DmtPlan.objects.filter(patient=clinic.alice).first()
    day = date(2026, 3, 15)
    item(plan, "fbc", day, ItemStatus.DONE_IN_WINDOW, done=day)
    assert items_line(client.get(DASHBOARD).content.decode()) == worked_out
    refresh_quality_dashboard.apply()
    on_time, due = map(int, re.findall(r"\d+", worked_out)[:2])
    assert items_line(client.get(DASHBOARD).content.decode()) == (
        f"{on_time + 1} of {due + 1} items whose window closed in the period"
    )
