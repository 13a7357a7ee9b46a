"""Alerts are never doubled, routed to the right person, and worked through their lifecycle."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.utils import timezone

from treatments.alerts import outbox
from treatments.alerts import services as alerts
from treatments.alerts.services import AlertSpec
from treatments.models import Alert, AlertEmail, AlertGrade, AlertKind, AlertStatus, EmailState


def overdue_spec(patient, n: int = 1, grade: str = AlertGrade.WARNING) -> AlertSpec:
    return AlertSpec(
        patient_id=patient.pk,
        kind=AlertKind.OVERDUE_MONITORING,
        grade=grade,
        condition_key=f"overdue:item:{n}",
        title="ALT overdue (due 3 months after first dose)",
        raised_by_type="treatments.monitoringitem",
        raised_by_id=str(n),
    )


def test_raising_the_same_condition_twice_creates_one_alert(patient_a):
    assert alerts.raise_alerts([overdue_spec(patient_a)]) == 1
    assert alerts.raise_alerts([overdue_spec(patient_a)]) == 0
    assert Alert.objects.count() == 1


def test_the_database_refuses_a_duplicate_condition_even_without_the_service(patient_a):
    from django.db import IntegrityError, transaction

    alerts.raise_alerts([overdue_spec(patient_a)])
    with pytest.raises(IntegrityError), transaction.atomic():
        Alert.objects.create(
            patient=patient_a,
            kind="overdue_monitoring",
            grade="warning",
            condition_key="overdue:item:1",
            title="x",
        )


@pytest.mark.django_db(transaction=True)
def test_concurrent_raisers_create_exactly_one_alert_per_condition(patient_a):
    specs = [overdue_spec(patient_a, n) for n in range(50)]
    barrier = threading.Barrier(4)

    def raiser() -> None:
        barrier.wait()
        try:
            alerts.raise_alerts(specs)
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=raiser) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Alert.objects.count() == 50


def test_monitoring_alerts_go_to_the_nurse_and_criticals_to_the_neurologist(
    patient_a, nurse, neurologist
):
    alerts.raise_alerts(
        [overdue_spec(patient_a, 1), overdue_spec(patient_a, 2, grade=AlertGrade.CRITICAL)]
    )
    assert Alert.objects.get(condition_key="overdue:item:1").owner == nurse
    assert Alert.objects.get(condition_key="overdue:item:2").owner == neurologist


def test_routing_falls_back_when_the_patient_has_no_nurse(patient_a, neurologist):
    patient_a.nurse = None
    patient_a.save()
    alerts.raise_alerts([overdue_spec(patient_a)])
    assert Alert.objects.get().owner == neurologist


def test_acknowledge_snooze_resolve(patient_a, nurse):
    alerts.raise_alerts([overdue_spec(patient_a)])
    alert = Alert.objects.get()
    alerts.acknowledge(alert=alert, by=nurse)
    assert alert.status == AlertStatus.ACKNOWLEDGED
    alerts.snooze(
        alert=alert, by=nurse, until=timezone.now() + timedelta(days=3), reason="Patient on holiday"
    )
    assert alert.status == AlertStatus.SNOOZED
    alerts.resolve(alert=alert, by=nurse, note="Bloods taken at GP")
    assert (alert.status, alert.resolved_by, alert.resolved_automatically) == (
        AlertStatus.RESOLVED,
        nurse,
        False,
    )


@pytest.mark.parametrize(
    ("days", "reason", "message"),
    [
        (3, "", "Say why"),
        (-1, "later", "in the future"),
        (45, "later", "at most 30 days"),
    ],
)
def test_a_snooze_needs_a_reason_and_a_limited_future_end(days, reason, message, patient_a, nurse):
    alerts.raise_alerts([overdue_spec(patient_a)])
    alert = Alert.objects.get()
    with pytest.raises(alerts.AlertError, match=message):
        alerts.snooze(
            alert=alert, by=nurse, until=timezone.now() + timedelta(days=days), reason=reason
        )
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN


def test_a_critical_alert_snoozes_for_a_day_at_most(patient_a, neurologist):
    alerts.raise_alerts([overdue_spec(patient_a, grade=AlertGrade.CRITICAL)])
    with pytest.raises(alerts.AlertError, match="at most one day"):
        alerts.snooze(
            alert=Alert.objects.get(),
            by=neurologist,
            until=timezone.now() + timedelta(days=2),
            reason="x",
        )


def test_a_resolution_needs_a_note(patient_a, nurse):
    alerts.raise_alerts([overdue_spec(patient_a)])
    with pytest.raises(alerts.AlertError, match="note"):
        alerts.resolve(alert=Alert.objects.get(), by=nurse, note="  ")


def test_an_expired_snooze_needs_attention_again(patient_a, nurse):
    alerts.raise_alerts([overdue_spec(patient_a)])
    alert = Alert.objects.get()
    alerts.snooze(
        alert=alert, by=nurse, until=timezone.now() + timedelta(days=1), reason="waiting for GP"
    )
    assert not Alert.objects.needing_attention().exists()
    later = timezone.now() + timedelta(days=1, minutes=1)
    assert Alert.objects.needing_attention(at=later).count() == 1
    assert alerts.wake_snoozed(at=later) == 1
    assert alerts.wake_snoozed(at=later) == 0


def test_auto_resolution_is_idempotent(patient_a):
    alerts.raise_alerts([overdue_spec(patient_a)])
    note = "Result recorded"
    assert (
        alerts.resolve_raised_by(
            raised_by_type="treatments.monitoringitem", raised_by_ids=[1], note=note
        )
        == 1
    )
    assert (
        alerts.resolve_raised_by(
            raised_by_type="treatments.monitoringitem", raised_by_ids=[1], note=note
        )
        == 0
    )
    alert = Alert.objects.get()
    assert alert.resolved_automatically
    # The condition key is spent: the same episode cannot come back as a second alert.
    assert alerts.raise_alerts([overdue_spec(patient_a)]) == 0


def test_a_critical_alert_is_emailed_once_even_when_the_sender_runs_twice(
    patient_a, neurologist, django_capture_on_commit_callbacks
):
    neurologist.email = "dr@example.org"
    neurologist.save()
    with django_capture_on_commit_callbacks(execute=True):
        alerts.raise_alerts([overdue_spec(patient_a, grade=AlertGrade.CRITICAL)])
    assert len(mail.outbox) == 1
    assert alerts.send_critical_alert_emails() == 0
    assert len(mail.outbox) == 1
    assert "Archer" not in mail.outbox[0].body


def test_a_failed_critical_email_is_retried_on_the_next_run(patient_a, neurologist, monkeypatch):
    neurologist.email = "dr@example.org"
    neurologist.save()
    alerts.raise_alerts([overdue_spec(patient_a, grade=AlertGrade.CRITICAL)])

    def broken(*args, **kwargs):
        raise OSError("mail server down")

    monkeypatch.setattr(outbox, "send_mail", broken)
    now = timezone.now()
    assert alerts.send_critical_alert_emails(at=now) == 0
    assert AlertEmail.objects.get().state == EmailState.PENDING  # waiting again: not lost
    monkeypatch.undo()
    # After a short pause (a minute after the first failure) the next run sends it.
    assert alerts.send_critical_alert_emails(at=now) == 0
    assert alerts.send_critical_alert_emails(at=now + timedelta(minutes=1)) == 1


def test_an_unacknowledged_critical_escalates_to_the_lead_once(
    patient_a, neurologist, team_a, settings
):
    lead = neurologist
    lead.email = "lead@example.org"
    lead.save()
    team_a.lead_neurologist = lead
    team_a.save()
    alerts.raise_alerts([overdue_spec(patient_a, grade=AlertGrade.CRITICAL)])
    assert alerts.escalate_unacknowledged() == 0  # too early
    later = timezone.now() + timedelta(minutes=settings.ALERT_ESCALATION_MINUTES + 1)
    assert alerts.escalate_unacknowledged(at=later) == 1
    assert alerts.escalate_unacknowledged(at=later) == 0
    assert Alert.objects.get().escalated_to == lead


def test_an_acknowledged_critical_does_not_escalate(patient_a, neurologist, settings):
    alerts.raise_alerts([overdue_spec(patient_a, grade=AlertGrade.CRITICAL)])
    alerts.acknowledge(alert=Alert.objects.get(), by=neurologist)
    later = timezone.now() + timedelta(minutes=settings.ALERT_ESCALATION_MINUTES + 1)
    assert alerts.escalate_unacknowledged(at=later) == 0


def test_the_daily_digest_is_sent_once_per_day_after_the_digest_hour(patient_a, nurse, settings):
    nurse.email = "nurse@example.org"
    nurse.save()
    alerts.raise_alerts([overdue_spec(patient_a, 1), overdue_spec(patient_a, 2)])
    local_day = timezone.localdate()
    zone = timezone.get_current_timezone()
    from datetime import datetime, time

    early = datetime.combine(local_day, time(settings.ALERT_DIGEST_HOUR - 1, 30), tzinfo=zone)
    after = datetime.combine(local_day, time(settings.ALERT_DIGEST_HOUR, 5), tzinfo=zone)
    assert alerts.send_daily_digests(at=early) == 0
    assert alerts.send_daily_digests(at=after) == 1
    assert alerts.send_daily_digests(at=after + timedelta(hours=1)) == 0
    assert "You have 2 alerts needing attention" in mail.outbox[0].body
    with time_machine.travel(after + timedelta(days=1), tick=False):
        assert alerts.send_daily_digests(at=after + timedelta(days=1)) == 1
