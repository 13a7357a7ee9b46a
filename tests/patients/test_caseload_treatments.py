"""The caseload's treatment columns and filters: current DMT, monitoring due and overdue, open alerts."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from tests.factories import PatientFactory
from treatments.alerts import services as alerts
from treatments.models import AlertGrade, AlertKind
from treatments.models.monitoring import ItemStatus, MonitoringItem
from treatments.models.plans import DmtPlan, PlanStatus
from treatments.plans.services import plan_dmt

CASELOAD = "/patients/caseload/"


@pytest.fixture
def on_drug(neurologist, team_a):
    def make(name: str, drug_key: str = "ocrelizumab_iv", overdue: int = 0, alert: bool = False):
        patient = PatientFactory(family_name=name, care_team=team_a, neurologist=neurologist)
        today = timezone.localdate()
        plan = plan_dmt(
            patient=patient,
            drug_key=drug_key,
            by=neurologist,
            planned_on=today - timedelta(days=200),
        )
        DmtPlan.objects.filter(pk=plan.pk).update(
            status=PlanStatus.ACTIVE, started_on=today - timedelta(days=180)
        )
        plan.refresh_from_db()
        for n in range(overdue):
            due = today - timedelta(days=40 + n)
            MonitoringItem.objects.create(
                patient=patient,
                plan=plan,
                protocol_version=plan.protocol_version,
                rule_key=f"test.rule.{n}",
                investigation="lft",
                due_on=due,
                window_opens_on=due - timedelta(days=7),
                window_closes_on=due + timedelta(days=7),
                anchor="first_dose",
                anchor_on=plan.started_on,
                occurrence=n,
                status=ItemStatus.SCHEDULED,
                explanation="test",
            )
        if alert:
            alerts.raise_alerts(
                [
                    alerts.AlertSpec(
                        patient_id=patient.pk,
                        kind=AlertKind.ABNORMAL_RESULT,
                        grade=AlertGrade.WARNING,
                        condition_key=f"test:{patient.pk}",
                        title="ALT high",
                    )
                ]
            )
        return patient

    return make


def listed(response) -> list[str]:
    return [p.family_name for p in response.context["page"]]


def test_rows_show_the_current_dmt_overdue_count_and_open_alerts(signed_in, neurologist, on_drug):
    on_drug("Ocrelizumab-patient", overdue=2, alert=True)
    page = signed_in(neurologist).get(CASELOAD)
    row = page.context["page"][0]
    assert row.current_dmt == "Ocrelizumab (IV)" or "Ocrelizumab" in row.current_dmt
    assert row.overdue_count == 2
    assert row.open_alert_count == 1
    assert "2 overdue" in page.content.decode()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"dmt": "natalizumab_iv"}, ["Natalizumab"]),
        ({"overdue": "on"}, ["Overdue"]),
        ({"open_alerts": "on"}, ["Alerting"]),
    ],
)
def test_caseload_filters_by_dmt_overdue_and_alerts(
    query, expected, signed_in, neurologist, on_drug
):
    on_drug("Natalizumab", drug_key="natalizumab_iv")
    on_drug("Overdue", overdue=1)
    on_drug("Alerting", alert=True)
    assert listed(signed_in(neurologist).get(CASELOAD, query)) == expected


def test_the_treatment_columns_cost_no_extra_query_per_row(
    signed_in, neurologist, on_drug, django_assert_max_num_queries
):
    client = signed_in(neurologist)
    on_drug("First", overdue=1, alert=True)
    with django_assert_max_num_queries(30) as few:
        client.get(CASELOAD)
    for n in range(15):
        on_drug(f"More{n:02d}", overdue=2, alert=True)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(CASELOAD)


def test_no_dmt_shows_none(signed_in, neurologist, patient_a):
    page = signed_in(neurologist).get(CASELOAD)
    assert page.context["page"][0].current_dmt is None
    assert date.today()  # the page renders without a plan
