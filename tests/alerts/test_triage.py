"""Alert triage in one screen: the compact inbox grouped by patient and kind, bulk
acknowledgement (scoped, by family, audited per alert), and the deep link `?alert=N` an email
carries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinic.audit.models import AccessEvent, Action
from tests.alerts.test_alert_lifecycle import overdue_spec
from tests.factories import PatientFactory
from treatments.alerts import services as alerts
from treatments.models import Alert, AlertGrade, AlertKind, AlertStatus

pytestmark = pytest.mark.django_db


def referral_spec(patient, n: int, owner) -> alerts.AlertSpec:
    return alerts.AlertSpec(
        patient_id=patient.pk,
        kind=AlertKind.REFERRAL_OVERDUE,
        grade=AlertGrade.WARNING,
        condition_key=f"referral_overdue:referral:{n}",
        title="Referral not answered by its deadline",
        owner_id=owner.pk,
    )


@pytest.fixture
def second_patient(team_a, neurologist, nurse):
    return PatientFactory(
        mrn="AAA00002",
        given_name="Anna",
        family_name="Zeller",
        care_team=team_a,
        neurologist=neurologist,
        nurse=nurse,
    )


def test_the_compact_inbox_groups_alerts_by_patient_then_kind(
    signed_in, nurse, patient_a, second_patient
):
    alerts.raise_alerts(
        [
            overdue_spec(second_patient, 1),
            overdue_spec(patient_a, 2),
            referral_spec(patient_a, 3, nurse),
            overdue_spec(patient_a, 4),
        ]
    )
    response = signed_in(nurse).get("/alerts/", {"layout": "compact"})
    assert response.status_code == 200
    groups = response.context["groups"]
    # Archer before Zeller; within Archer, her two overdue alerts together, then the referral.
    assert [g["patient"].family_name for g in groups] == ["Archer", "Zeller"]
    assert [(k["kind"], len(k["rows"])) for k in groups[0]["kinds"]] == [
        (AlertKind.OVERDUE_MONITORING, 2),
        (AlertKind.REFERRAL_OVERDUE, 1),
    ]
    body = response.content.decode()
    assert 'form="bulk-ack"' in body
    assert "Acknowledge all 3" in body


def test_bulk_acknowledge_acknowledges_each_ticked_alert_and_audits_each_one(
    signed_in, nurse, patient_a
):
    alerts.raise_alerts([overdue_spec(patient_a, n) for n in (1, 2, 3)])
    picked = list(Alert.objects.order_by("pk").values_list("pk", flat=True)[:2])
    response = signed_in(nurse).post(
        "/alerts/acknowledge/", {"alert": picked, "next": "/alerts/?layout=compact"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/alerts/?layout=compact"
    acknowledged = Alert.objects.filter(status=AlertStatus.ACKNOWLEDGED)
    assert sorted(acknowledged.values_list("pk", flat=True)) == picked
    assert Alert.objects.filter(status=AlertStatus.OPEN).count() == 1
    audited = AccessEvent.objects.filter(action=Action.UPDATE, detail="acknowledged")
    assert sorted(int(e.object_id) for e in audited) == picked


def test_bulk_acknowledge_skips_what_the_user_may_not_touch(
    signed_in, therapist, neurologist, patient_a, patient_b
):
    """A therapist may acknowledge referral alerts, never safety ones; another team's alert is
    out of scope. Both are skipped and counted, and nothing else changes."""
    alerts.raise_alerts(
        [
            referral_spec(patient_a, 1, therapist),
            overdue_spec(patient_a, 2),
            overdue_spec(patient_b, 3),
        ]
    )
    ids = list(Alert.objects.values_list("pk", flat=True))
    client = signed_in(therapist)
    response = client.post("/alerts/acknowledge/", {"alert": ids}, follow=True)
    assert "1 alert acknowledged. 2 could not be" in response.content.decode()
    assert list(
        Alert.objects.filter(status=AlertStatus.ACKNOWLEDGED).values_list("kind", flat=True)
    ) == [AlertKind.REFERRAL_OVERDUE]
    assert "Baker" not in response.content.decode()


def test_bulk_acknowledge_with_nothing_ticked_says_so(signed_in, nurse):
    response = signed_in(nurse).post("/alerts/acknowledge/", {"alert": ["x"]}, follow=True)
    assert "Tick the alerts to acknowledge first." in response.content.decode()


def test_the_admin_may_not_bulk_acknowledge(signed_in, admin_user):
    assert signed_in(admin_user).post("/alerts/acknowledge/", {"alert": [1]}).status_code == 403


def test_a_deep_link_pins_and_highlights_its_alert_even_outside_the_filter(
    signed_in, neurologist, nurse, patient_a
):
    alerts.raise_alerts([overdue_spec(patient_a, 1), overdue_spec(patient_a, 2)])
    linked = Alert.objects.get(condition_key="overdue:item:1")
    alerts.resolve(alert=linked, by=nurse, note="Done at the GP")
    # A resolved alert owned by the nurse: not in the neurologist's own open list, but his team's.
    response = signed_in(neurologist).get("/alerts/", {"alert": linked.pk})
    assert response.context["linked"] == linked
    body = response.content.decode()
    assert "The alert from your link" in body
    assert 'class="card alert-card alert-warning alert-linked"' in body
    assert body.count(f'id="alert-{linked.pk}"') == 1


def test_a_deep_link_to_another_teams_alert_shows_nothing_of_it(signed_in, neurologist, patient_b):
    alerts.raise_alerts([overdue_spec(patient_b, 9)])
    theirs = Alert.objects.get()
    for value in (str(theirs.pk), "999999", "abc", "1" * 40):
        response = signed_in(neurologist).get("/alerts/", {"alert": value})
        assert response.status_code == 200
        body = response.content.decode()
        # One message for "not yours" and "does not exist": the link reveals nothing.
        assert "The alert in your link is not one you can open here" in body
        assert "Baker" not in body
        assert "BBB00001" not in body


def _inbox_queries(client, params) -> int:
    client.get("/alerts/", params)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/alerts/", params).status_code == 200
    return len(queries.captured_queries)


def test_the_compact_inbox_and_the_deep_link_cost_the_same_queries_for_3_or_30_alerts(
    signed_in, nurse, patient_a, team_a, neurologist
):
    client = signed_in(nurse)
    alerts.raise_alerts([overdue_spec(patient_a, n) for n in range(1, 4)])
    first = Alert.objects.order_by("pk").first().pk
    few = [
        _inbox_queries(client, {"layout": "compact"}),
        _inbox_queries(client, {"layout": "compact", "alert": first}),
        _inbox_queries(client, {"alert": first}),
    ]
    others = [
        PatientFactory(care_team=team_a, neurologist=neurologist, nurse=nurse) for _ in range(9)
    ]
    alerts.raise_alerts(
        [overdue_spec(p, 100 + i * 10 + n) for i, p in enumerate(others) for n in range(3)]
    )
    many = [
        _inbox_queries(client, {"layout": "compact"}),
        _inbox_queries(client, {"layout": "compact", "alert": first}),
        _inbox_queries(client, {"alert": first}),
    ]
    assert few == many
    # The plain inbox's budget (tests/performance) is untouched; a deep link adds its one row.
    assert few[0] == _inbox_queries(client, {})
    assert few[2] == few[0] + 1
