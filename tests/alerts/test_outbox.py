"""A critical email is never lost (issue #13, finding 12).

Every alert email is a row in the outbox with its state. Dr Ada Reyes owns Alice Archer's
critical alert; the sender records her email with the alert, claims it, sends it and confirms
it. A sender killed between claiming and confirming leaves a claim that the next sender takes
again after a few minutes: the email goes out (at least once), where it used to be lost.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from treatments.alerts import outbox
from treatments.alerts import services as alerts
from treatments.alerts.services import AlertSpec
from treatments.models import (
    Alert,
    AlertEmail,
    AlertGrade,
    AlertKind,
    EmailPurpose,
    EmailState,
)


def critical(patient: Any, n: int = 1) -> AlertSpec:
    return AlertSpec(
        patient_id=patient.pk,
        kind=AlertKind.ABNORMAL_RESULT,
        grade=AlertGrade.CRITICAL,
        condition_key=f"abnormal:result:{n}",
        title="ALT above 5× ULN",
    )


@pytest.fixture
def reachable(neurologist: Any) -> Any:
    neurologist.email = "dr.reyes@example.org"
    neurologist.save(update_fields=["email"])
    return neurologist


@pytest.fixture
def lead(reachable: Any, team_a: Any) -> Any:
    team_a.lead_neurologist = reachable
    team_a.save(update_fields=["lead_neurologist"])
    return reachable


def test_a_sender_killed_after_claiming_is_followed_by_one_that_sends(
    patient_a, reachable, settings
):
    alerts.raise_alerts([critical(patient_a)])
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        alerts.queue_critical_emails(at=start)
        outbox.claim(at=start)  # ... and the worker is killed here, before sending
    assert mail.outbox == []

    with time_machine.travel(start + timedelta(minutes=1), tick=False):
        # Another run a minute later leaves the claim alone: its sender may still be at it.
        assert alerts.send_critical_alert_emails() == 0
    retry = start + timedelta(minutes=settings.ALERT_EMAIL_RETRY_MINUTES, seconds=1)
    with time_machine.travel(retry, tick=False):
        assert alerts.send_critical_alert_emails() == 1

    assert [m.to for m in mail.outbox] == [["dr.reyes@example.org"]]
    email = AlertEmail.objects.get()
    assert (email.state, email.attempts) == (EmailState.SENT, 2)


def test_the_normal_path_sends_exactly_once_when_the_sender_runs_twice(patient_a, reachable):
    alerts.raise_alerts([critical(patient_a)])

    assert alerts.send_critical_alert_emails() == 1
    assert alerts.send_critical_alert_emails() == 0

    assert len(mail.outbox) == 1
    assert AlertEmail.objects.get().state == EmailState.SENT
    assert "Archer" not in mail.outbox[0].body


@pytest.mark.django_db(transaction=True)
def test_concurrent_senders_send_each_email_once(patient_a, reachable):
    # Written directly: raise_alerts would run the sender itself on commit here.
    Alert.objects.bulk_create(
        Alert(
            patient=patient_a,
            kind=AlertKind.ABNORMAL_RESULT,
            grade=AlertGrade.CRITICAL,
            condition_key=f"abnormal:result:{n}",
            title="ALT above 5× ULN",
            owner=reachable,
        )
        for n in range(5)
    )
    barrier = threading.Barrier(3)
    counts: list[int] = []

    def sender() -> None:
        barrier.wait()
        try:
            counts.append(alerts.send_critical_alert_emails())
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=sender) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(counts) == 5
    assert len(mail.outbox) == 5  # one per alert, whichever sender took it


def test_the_alert_is_marked_told_only_with_its_email_recorded(patient_a, reachable):
    alerts.raise_alerts([critical(patient_a)])
    alerts.queue_critical_emails(at=timezone.now())
    alert = Alert.objects.get()
    assert alert.notified_at is not None
    assert AlertEmail.objects.filter(
        alert=alert, recipient=reachable, purpose=EmailPurpose.CRITICAL
    ).exists()


def test_one_alert_recipient_and_purpose_have_one_email(patient_a, reachable):
    alerts.raise_alerts([critical(patient_a)])
    alert = Alert.objects.get()
    for _ in range(2):
        outbox.queue(
            alert_id=alert.pk,
            recipient_id=reachable.pk,
            purpose=EmailPurpose.CRITICAL,
            at=timezone.now(),
        )
    assert AlertEmail.objects.count() == 1
    with pytest.raises(IntegrityError), transaction.atomic():
        AlertEmail.objects.create(alert=alert, recipient=reachable, purpose=EmailPurpose.CRITICAL)


def test_a_failing_mail_server_is_retried_with_pauses_then_given_up(
    patient_a, reachable, monkeypatch, caplog
):
    def broken(*args: Any, **kwargs: Any) -> None:
        raise OSError("mail server down")

    monkeypatch.setattr(outbox, "send_mail", broken)
    alerts.raise_alerts([critical(patient_a)])
    at = timezone.now()
    alerts.queue_critical_emails(at=at)
    with caplog.at_level(logging.WARNING, logger="myelin.alerts"):
        for _ in range(outbox.MAX_ATTEMPTS):
            assert outbox.deliver(at=at) == 0
            email = AlertEmail.objects.get()
            at = email.next_attempt_at  # the next attempt waits for its pause

    assert (email.state, email.attempts) == (EmailState.FAILED, outbox.MAX_ATTEMPTS)
    assert email.last_error == "OSError"
    assert "given up" in caplog.text
    assert outbox.deliver(at=at + timedelta(days=1)) == 0  # given up stays given up


def test_an_email_for_an_alert_acknowledged_meanwhile_is_not_sent(
    patient_a, reachable, neurologist
):
    alerts.raise_alerts([critical(patient_a)])
    alerts.queue_critical_emails(at=timezone.now())
    alerts.acknowledge(alert=Alert.objects.get(), by=neurologist)

    assert outbox.deliver() == 0
    assert mail.outbox == []
    assert AlertEmail.objects.get().state == EmailState.CANCELLED


def test_an_escalation_email_goes_through_the_outbox_too(patient_a, lead, settings):
    alerts.raise_alerts([critical(patient_a)])
    later = timezone.now() + timedelta(minutes=settings.ALERT_ESCALATION_MINUTES + 1)
    with time_machine.travel(later, tick=False):
        AlertEmail.objects.all().delete()  # only the escalation matters here
        Alert.objects.update(notified_at=later)
        # The worker is killed after recording the escalation and claiming its email.
        with transaction.atomic():
            claimed = Alert.objects.filter(escalated_at__isnull=True).update(
                escalated_at=later, escalated_to=lead
            )
            assert claimed == 1
            outbox.queue(
                alert_id=Alert.objects.get().pk,
                recipient_id=lead.pk,
                purpose=EmailPurpose.ESCALATION,
                at=later,
            )
        outbox.claim(at=later)
    retry = later + timedelta(minutes=settings.ALERT_EMAIL_RETRY_MINUTES, seconds=1)
    with time_machine.travel(retry, tick=False):
        assert alerts.escalate_unacknowledged() == 0  # escalated already, but its email ...
    assert len(mail.outbox) == 1  # ... is sent on the retry
    assert "escalated to you" in mail.outbox[0].subject


def test_escalating_sends_the_leads_email_once(patient_a, lead, settings):
    alerts.raise_alerts([critical(patient_a)])
    Alert.objects.update(notified_at=timezone.now())  # the owner's email is not the subject
    later = timezone.now() + timedelta(minutes=settings.ALERT_ESCALATION_MINUTES + 1)
    assert alerts.escalate_unacknowledged(at=later) == 1
    assert alerts.escalate_unacknowledged(at=later) == 0
    assert len(mail.outbox) == 1
    assert AlertEmail.objects.get().purpose == EmailPurpose.ESCALATION
