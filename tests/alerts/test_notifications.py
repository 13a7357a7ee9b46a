"""Notifications a user can see: the critical emails and escalations sent to them and their
daily digests, kept as sent and shown on their page; digest preferences (hour, kinds) that the
digest task honours; links built from MYELIN_SITE_URL."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from clinic.audit.models import AccessEvent, Action, Category
from tests.alerts.test_alert_lifecycle import overdue_spec
from treatments.alerts import services as alerts
from treatments.models import (
    Alert,
    AlertEmail,
    AlertGrade,
    AlertKind,
    DigestLog,
    EmailState,
    NotificationPreference,
)

pytestmark = pytest.mark.django_db


def at_hour(hour: int, minute: int = 5) -> datetime:
    return datetime.combine(
        timezone.localdate(), time(hour, minute), tzinfo=timezone.get_current_timezone()
    )


def side_effect_spec(patient, n: int, grade: str = AlertGrade.INFO) -> alerts.AlertSpec:
    return alerts.AlertSpec(
        patient_id=patient.pk,
        kind=AlertKind.SIDE_EFFECT,
        grade=grade,
        condition_key=f"side_effect:report:{n}",
        title="Side effect reported: hair thinning (grade 1)",
    )


@pytest.fixture
def nurse_with_email(nurse):
    nurse.email = "nurse@example.org"
    nurse.save()
    return nurse


@pytest.fixture
def neurologist_with_email(neurologist):
    neurologist.email = "neuro@example.org"
    neurologist.save()
    return neurologist


def test_the_digest_comes_at_the_hour_the_clinician_chose(nurse_with_email, patient_a):
    NotificationPreference.objects.create(user=nurse_with_email, digest_hour=16)
    alerts.raise_alerts([overdue_spec(patient_a, 1)])
    assert alerts.send_daily_digests(at=at_hour(9)) == 0  # after the clinic's hour, before hers
    assert alerts.send_daily_digests(at=at_hour(16)) == 1
    assert alerts.send_daily_digests(at=at_hour(17)) == 0  # once a day


def test_the_digest_leaves_out_the_kinds_chosen_but_never_a_critical_alert(
    nurse_with_email, neurologist_with_email, patient_a, settings
):
    # The neurologist owns side-effect alerts; he leaves non-critical ones out of his digest.
    NotificationPreference.objects.create(
        user=neurologist_with_email,
        digest_hour=settings.ALERT_DIGEST_HOUR,
        digest_excluded_kinds=[AlertKind.SIDE_EFFECT],
    )
    alerts.raise_alerts([side_effect_spec(patient_a, 1), side_effect_spec(patient_a, 2)])
    assert alerts.send_daily_digests(at=at_hour(settings.ALERT_DIGEST_HOUR)) == 0
    assert not DigestLog.objects.exists()  # nothing claimed: a later alert may still go today

    alerts.raise_alerts([side_effect_spec(patient_a, 3, grade=AlertGrade.CRITICAL)])
    mail.outbox.clear()  # the critical alert's own email went out at once
    assert alerts.send_daily_digests(at=at_hour(settings.ALERT_DIGEST_HOUR)) == 1
    [digest] = mail.outbox
    assert "You have 1 alert needing attention" in digest.body
    assert "Side-effect report: 1 (1 critical)" in digest.body


def test_a_sent_digest_is_kept_and_readable_on_the_notifications_page(
    nurse_with_email, patient_a, signed_in, settings
):
    alerts.raise_alerts([overdue_spec(patient_a, 1), overdue_spec(patient_a, 2)])
    assert alerts.send_daily_digests(at=at_hour(settings.ALERT_DIGEST_HOUR)) == 1
    kept = DigestLog.objects.get(user=nurse_with_email)
    assert kept.body == mail.outbox[0].body
    assert kept.subject == mail.outbox[0].subject == "Myelin: 2 alerts need your attention"
    assert kept.alert_count == 2
    body = signed_in(nurse_with_email).get("/notifications/").content.decode()
    assert "Myelin: 2 alerts need your attention" in body
    assert "Overdue monitoring: 2" in body


def test_links_in_emails_use_the_configured_site_url(neurologist_with_email, patient_a, settings):
    settings.MYELIN_SITE_URL = "https://myelin.hospital.example"
    alerts.raise_alerts([overdue_spec(patient_a, 7, grade=AlertGrade.CRITICAL)])
    alerts.send_critical_alert_emails()
    alert = Alert.objects.get()
    [email] = mail.outbox
    assert f"https://myelin.hospital.example/alerts/?alert={alert.pk}" in email.body
    assert "127.0.0.1" not in email.body
    mail.outbox.clear()
    alerts.send_daily_digests(at=at_hour(settings.ALERT_DIGEST_HOUR))
    assert "https://myelin.hospital.example/alerts/?layout=compact" in mail.outbox[0].body
    assert "https://myelin.hospital.example/notifications/" in mail.outbox[0].body


def test_a_critical_email_and_its_escalation_are_shown_to_their_recipients(
    neurologist_with_email, patient_a, team_a, signed_in, settings, client
):
    team_a.lead_neurologist = neurologist_with_email
    team_a.save()
    alerts.raise_alerts([overdue_spec(patient_a, 1, grade=AlertGrade.CRITICAL)])
    alerts.send_critical_alert_emails()
    alert = Alert.objects.get()
    later = timezone.now() + timedelta(minutes=settings.ALERT_ESCALATION_MINUTES + 1)
    alerts.escalate_unacknowledged(at=later)
    sent = AlertEmail.objects.filter(state=EmailState.SENT)
    assert sorted(sent.values_list("purpose", flat=True)) == ["critical", "escalation"]
    assert all(e.subject and e.body for e in sent)

    body = signed_in(neurologist_with_email).get("/notifications/").content.decode()
    assert "Escalated to you" in body
    assert "Critical alert" in body
    assert f"/alerts/?alert={alert.pk}" in body
    # His own alert went to the lead (himself, here): listed under escalations.
    assert "Your alerts that were escalated" in body
    assert "escalated " in body


def test_the_page_shows_only_what_was_sent_to_the_signed_in_user(
    neurologist_with_email, nurse_with_email, patient_a, signed_in, settings
):
    alerts.raise_alerts([overdue_spec(patient_a, 1, grade=AlertGrade.CRITICAL)])
    alerts.send_critical_alert_emails()
    assert AlertEmail.objects.filter(recipient=neurologist_with_email).exists()
    body = signed_in(nurse_with_email).get("/notifications/").content.decode()
    assert "No alert emails yet." in body


def test_saving_digest_settings_is_honoured_and_audited(nurse_with_email, signed_in, settings):
    client = signed_in(nurse_with_email)
    kept = [k for k, _ in AlertKind.choices if k not in {"due_soon", "phq9_self_harm"}]
    response = client.post("/notifications/", {"digest_hour": "6", "included_kinds": kept})
    assert response.status_code == 302
    preference = NotificationPreference.objects.get(user=nurse_with_email)
    assert preference.digest_hour == 6
    assert preference.digest_excluded_kinds == ["due_soon"]
    assert AccessEvent.objects.filter(
        user=nurse_with_email, action=Action.UPDATE, category=Category.ACCOUNT
    ).exists()
    page = client.get("/notifications/").content.decode()
    assert '<option value="6" selected>06:00</option>' in page
    assert 'value="due_soon"' in page
    assert "<legend>" in page


def test_a_bad_digest_hour_is_refused_next_to_the_field(nurse_with_email, signed_in):
    response = signed_in(nurse_with_email).post("/notifications/", {"digest_hour": "25"})
    assert response.status_code == 422
    assert "Select a valid choice" in response.content.decode()
    assert not NotificationPreference.objects.exists()
