"""The alert inbox: mine and my teams', filters, inline actions, and the nav-bar count."""

from __future__ import annotations

import pytest

from clinic.audit.models import AccessEvent, Action
from tests.alerts.test_alert_lifecycle import overdue_spec
from tests.factories import PatientFactory
from treatments.alerts import services as alerts
from treatments.models import Alert, AlertGrade, AlertStatus


@pytest.fixture
def raised(patient_a, patient_b):
    alerts.raise_alerts(
        [
            overdue_spec(patient_a, 1),
            overdue_spec(patient_a, 2, grade=AlertGrade.CRITICAL),
            overdue_spec(patient_b, 3),
        ]
    )


def test_the_nurse_sees_her_alerts_and_the_nav_count(signed_in, nurse, raised):
    response = signed_in(nurse).get("/alerts/")
    assert [a.condition_key for a in response.context["page"]] == ["overdue:item:1"]
    assert 'aria-label="1 alerts need attention"' in response.content.decode()


def test_the_team_view_shows_the_teams_alerts_but_never_another_teams(signed_in, nurse, raised):
    response = signed_in(nurse).get("/alerts/", {"scope": "team"})
    assert {a.condition_key for a in response.context["page"]} == {
        "overdue:item:1",
        "overdue:item:2",
    }
    assert "Baker" not in response.content.decode()


def test_filter_by_grade(signed_in, neurologist, raised):
    response = signed_in(neurologist).get("/alerts/", {"scope": "team", "grade": "critical"})
    assert [a.condition_key for a in response.context["page"]] == ["overdue:item:2"]


def test_acknowledge_inline_with_htmx_returns_the_refreshed_row(signed_in, nurse, raised):
    alert = Alert.objects.get(condition_key="overdue:item:1")
    response = signed_in(nurse).post(
        f"/alerts/{alert.pk}/acknowledge/", headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert f'id="alert-{alert.pk}"' in response.content.decode()
    assert "<html" not in response.content.decode()
    alert.refresh_from_db()
    assert alert.status == AlertStatus.ACKNOWLEDGED


def test_resolve_without_javascript_redirects_back(signed_in, nurse, raised):
    alert = Alert.objects.get(condition_key="overdue:item:1")
    response = signed_in(nurse).post(f"/alerts/{alert.pk}/resolve/", {"note": "Done at GP surgery"})
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED


def test_a_bad_snooze_shows_the_reason_in_the_row(signed_in, nurse, raised):
    alert = Alert.objects.get(condition_key="overdue:item:1")
    response = signed_in(nurse).post(
        f"/alerts/{alert.pk}/snooze/",
        {"until": "2001-01-01", "reason": "x"},
        headers={"HX-Request": "true"},
    )
    assert "Snooze until a time in the future." in response.content.decode()
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN


@pytest.mark.parametrize("action", ["acknowledge", "snooze", "resolve"])
def test_another_teams_alert_is_a_404(action, signed_in, other_neurologist, raised):
    alert = Alert.objects.get(condition_key="overdue:item:1")
    response = signed_in(other_neurologist).post(
        f"/alerts/{alert.pk}/{action}/", {"note": "x", "reason": "x", "until": "2099-01-01"}
    )
    assert response.status_code == 404
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN


def test_inbox_query_count_does_not_grow_with_alerts(
    signed_in, nurse, team_a, django_assert_max_num_queries
):
    client = signed_in(nurse)
    patients = [PatientFactory(care_team=team_a, nurse=nurse) for _ in range(25)]
    alerts.raise_alerts([overdue_spec(p, i) for i, p in enumerate(patients[:2])])
    with django_assert_max_num_queries(16) as few:
        client.get("/alerts/")
    alerts.raise_alerts([overdue_spec(p, 100 + i) for i, p in enumerate(patients)])
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/alerts/")


def test_snoozing_starts_from_a_form_fetched_into_the_row_or_shown_as_a_page(
    signed_in, nurse, raised
):
    alert = Alert.objects.get(condition_key="overdue:item:1")
    client = signed_in(nurse)
    inbox = client.get("/alerts/").content.decode()
    assert f'hx-get="/alerts/{alert.pk}/snooze/"' in inbox
    assert 'name="reason"' not in inbox  # the rows carry no forms until asked

    fragment = client.get(f"/alerts/{alert.pk}/snooze/", headers={"HX-Request": "true"})
    page = client.get(f"/alerts/{alert.pk}/resolve/")

    assert 'name="reason"' in fragment.content.decode()
    assert "<html" not in fragment.content.decode()
    assert 'name="note"' in page.content.decode()
    assert "Back to alerts" in page.content.decode()
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN  # looking at a form changes nothing
    assert (
        AccessEvent.objects.filter(  # but who looked is on record
            user=nurse, patient=alert.patient, action=Action.VIEW, object_id=str(alert.pk)
        ).count()
        == 2
    )


def test_resolved_and_escalated_alerts_cost_no_query_per_row(signed_in, nurse, neurologist):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = signed_in(nurse)

    def resolved_inbox_queries(count: int) -> int:
        patient = PatientFactory(care_team=nurse.care_teams.first(), nurse=nurse)
        for index in range(count):
            alerts.raise_alerts([overdue_spec(patient, 1000 * count + index)])
        for alert in Alert.objects.filter(status=AlertStatus.OPEN):
            alert.escalated_to = neurologist
            alert.save(update_fields=["escalated_to"])
            alerts.resolve(alert=alert, by=nurse, note="Seen in clinic")
        client.get("/alerts/", {"status": "resolved"})
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/alerts/", {"status": "resolved"})
        assert "escalated to" in response.content.decode()
        return len(queries.captured_queries)

    assert resolved_inbox_queries(1) == resolved_inbox_queries(4)


def test_a_row_says_what_when_and_how_urgent_in_clinic_time(signed_in, nurse, raised, settings):
    from datetime import UTC, datetime

    settings.TIME_ZONE = "Europe/Helsinki"  # UTC+2 in winter
    alert = Alert.objects.get(condition_key="overdue:item:1")
    Alert.objects.filter(pk=alert.pk).update(created_at=datetime(2026, 1, 5, 22, 30, tzinfo=UTC))

    body = signed_in(nurse).get("/alerts/").content.decode()

    assert "<strong>Overdue monitoring</strong>" in body
    assert ">Warning<" in body
    assert ">Open<" in body
    assert "06 Jan 2026 00:30" in body  # the next day, in the clinic's zone


def test_a_refused_snooze_keeps_what_was_typed_in_the_row(signed_in, nurse, raised):
    alert = Alert.objects.get(condition_key="overdue:item:1")
    response = signed_in(nurse).post(
        f"/alerts/{alert.pk}/snooze/",
        {"until": "2001-01-01", "reason": "Waiting for the GP's letter"},
        headers={"HX-Request": "true"},
    )
    # 422, swapped in place by htmx: the form is back with the date, the reason and the message.
    assert response.status_code == 422
    body = response.content.decode()
    assert 'value="Waiting for the GP&#x27;s letter"' in body
    assert 'value="2001-01-01"' in body
    assert "Snooze until a time in the future." in body
    assert f'hx-post="/alerts/{alert.pk}/snooze/"' in body


def test_a_resolve_without_a_note_says_so_and_keeps_the_form(signed_in, nurse, raised):
    alert = Alert.objects.get(condition_key="overdue:item:1")
    client = signed_in(nurse)
    response = client.post(
        f"/alerts/{alert.pk}/resolve/", {"note": "   "}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 422
    assert "Write a note saying how it was resolved." in response.content.decode()
    assert f'id="resolve-note-{alert.pk}"' in response.content.decode()
    # Without JavaScript, the action's own page comes back with the message (not a redirect
    # that loses the text).
    too_long = "x" * 301
    no_js = client.post(f"/alerts/{alert.pk}/snooze/", {"until": "2099-01-01", "reason": too_long})
    assert no_js.status_code == 422
    assert "at most 300 characters (it has 301)" in no_js.content.decode()
    assert f'value="{too_long}"' in no_js.content.decode()
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN


def test_the_filters_show_each_time_what_was_chosen_and_what_was_refused(signed_in, nurse):
    # The filter selects are rendered once per value and reused (treatments.alerts.views): the
    # next request with another value, or a refused one, must not get an earlier rendering.
    client = signed_in(nurse)

    def grade_select(query: str) -> str:
        body = client.get(f"/alerts/{query}").content.decode()
        start = body.index('<select name="grade"')
        return body[start : body.index("</select>", start)]

    critical = grade_select("?grade=critical")
    assert '<option value="critical" selected>' in critical
    assert 'aria-invalid="true"' not in critical
    assert '<option value="warning" selected>' in grade_select("?grade=warning")
    refused = grade_select("?grade=bogus")
    assert 'aria-invalid="true"' in refused
    assert " selected>" not in refused
    assert grade_select("?grade=critical") == critical
    unfiltered = grade_select("")
    assert '<option value="" selected>' in unfiltered
    assert '<option value="critical">' in unfiltered
