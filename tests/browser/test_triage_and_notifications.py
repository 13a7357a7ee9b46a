"""Nothing fails silently, alert triage on one screen, and notifications, in a real browser.

- A therapist's refused referral steps (a past appointment, a completion without a summary)
  show their message in place, keeping what was typed; a refused snooze keeps its reason; the
  worklist's tab counts follow a waived row.
- A neurologist with sixteen alerts sees them all at once on a 1366×768 laptop in the compact
  inbox, acknowledges a patient's group and two ticked alerts, and follows an email's link to
  one alert, highlighted.
- The notifications page shows the critical email sent to him and saves his digest settings.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from patients.models import ReferralDiscipline, Urgency
from patients.referrals import services as referral_services
from tests.alerts.test_alert_lifecycle import overdue_spec
from tests.factories import PatientFactory
from treatments.alerts import services as alerts
from treatments.models import Alert, AlertGrade, AlertStatus, NotificationPreference

pytestmark = pytest.mark.django_db(transaction=True)


def test_refused_steps_show_their_message_in_place_and_keep_what_was_typed(
    patient_a: Any,
    neurologist: Any,
    therapist: Any,
    nurse: Any,
    on_teriflunomide: Any,
    sign_in_as: Any,
    page: Any,
    live_server: Any,
) -> None:
    referral = referral_services.send_referral(
        patient=patient_a,
        discipline=ReferralDiscipline.PHYSIOTHERAPY,
        urgency=Urgency.ROUTINE,
        reason="Falls twice this month; please assess balance.",
        by=neurologist,
    )
    referral = referral_services.transition_referral(
        referral=referral, action="accept", by=therapist
    )
    sign_in_as(therapist)
    page.goto(f"{live_server.url}/referrals/{referral.external_id}/")

    # A past appointment: 422, swapped in by htmx, the message next to the date.
    page.get_by_label("Appointment date").fill("2020-01-02")
    page.get_by_role("button", name="Schedule").click()
    expect(page.get_by_text("The appointment cannot be in the past.")).to_be_visible()
    expect(page.get_by_label("Appointment date")).to_have_value("2020-01-02")

    # Started, then completed without a summary: the message, not silence.
    page.get_by_role("button", name="Start").click()
    expect(page.locator("#referral-state")).to_have_text("In progress")
    page.get_by_role("button", name="Complete").click()
    expect(page.get_by_text("Write a summary for the referrer.")).to_be_visible()

    # A nurse's refused snooze keeps the reason she typed.
    page.context.clear_cookies()
    alerts.raise_alerts([overdue_spec(patient_a, 1)])
    alert = Alert.objects.get()
    sign_in_as(nurse)
    page.goto(f"{live_server.url}/alerts/")
    card = page.locator(f"#alert-{alert.pk}")
    card.get_by_role("link", name="Snooze…").click()
    card.get_by_label("Snooze until").fill("2020-01-01")
    card.get_by_label("Why it can wait").fill("Waiting for the GP letter")
    card.get_by_role("button", name="Snooze").click()
    expect(page.locator(f"#alert-{alert.pk}")).to_contain_text("Snooze until a time in the future.")
    expect(page.locator(f"#alert-{alert.pk}").get_by_label("Why it can wait")).to_have_value(
        "Waiting for the GP letter"
    )

    # On the worklist, waiving a due item updates the tab count with the row.
    page.goto(f"{live_server.url}/treatments/worklist/")
    due_count = page.locator('[data-tab-count="due"]')
    before = int(due_count.inner_text())
    due = on_teriflunomide.items.get(rule_key="alt_monthly_6m", occurrence=3)
    row = page.locator(f"#item-{due.pk}")
    row.get_by_label("Reason to waive ALT").fill("Taken at the GP surgery")
    row.get_by_role("button", name="Waive").click()
    expect(page.locator(f"#item-{due.pk}")).to_contain_text("Waived")
    expect(page.locator('[data-tab-count="due"]')).to_have_text(str(before - 1))


def test_sixteen_alerts_fit_one_laptop_screen_and_are_triaged_in_bulk(
    team_a: Any, neurologist: Any, nurse: Any, sign_in_as: Any, page: Any, live_server: Any
) -> None:
    patients = [
        PatientFactory(care_team=team_a, neurologist=neurologist, nurse=nurse, family_name=name)
        for name in ("Adams", "Brown", "Chen", "Diaz")
    ]
    alerts.raise_alerts(
        [
            overdue_spec(p, i * 10 + n, grade=AlertGrade.CRITICAL if n == 0 else "warning")
            for i, p in enumerate(patients)
            for n in range(4)
        ]
    )
    Alert.objects.update(owner=neurologist)
    assert Alert.objects.count() == 16
    page.set_viewport_size({"width": 1366, "height": 768})
    sign_in_as(neurologist)
    page.goto(f"{live_server.url}/alerts/?layout=compact")
    rows = page.locator("tr.alert-line")
    expect(rows).to_have_count(16)
    # Every row is on the first screen, without scrolling.
    page.screenshot(path="var/alerts-compact.png")
    last = rows.nth(15).bounding_box()
    assert last is not None
    assert last["y"] + last["height"] <= 768, f"the 16th alert ends at {last}"

    # A patient's whole group at once, then two ticked alerts of another.
    adams = page.locator("tbody.alert-group", has_text="ADAMS")
    adams.get_by_role("button", name="Acknowledge all 4").click()
    expect(page.get_by_text("4 alerts acknowledged.")).to_be_visible()
    brown = Alert.objects.filter(patient=patients[1]).order_by("pk")
    for alert in brown[:2]:
        page.locator(f"#pick-{alert.pk}").check()
    page.get_by_role("button", name="Acknowledge selected").click()
    expect(page.get_by_text("2 alerts acknowledged.")).to_be_visible()
    assert Alert.objects.filter(status=AlertStatus.ACKNOWLEDGED).count() == 6

    # The link in an email opens the inbox with that alert highlighted at the top.
    target = Alert.objects.filter(patient=patients[3]).order_by("pk").last()
    page.goto(f"{live_server.url}/alerts/?alert={target.pk}")
    linked = page.locator(".linked-alert")
    expect(linked.get_by_role("heading", name="The alert from your link")).to_be_visible()
    expect(linked.locator(f"#alert-{target.pk}")).to_have_class(
        "card alert-card alert-warning alert-linked"
    )
    # Filtered by grade, the compact view shows only the critical ones left open.
    page.goto(f"{live_server.url}/alerts/?layout=compact&grade=critical")
    expect(page.locator("tr.alert-line")).to_have_count(4)


def test_the_notifications_page_shows_the_email_sent_and_saves_the_digest(
    patient_a: Any, neurologist: Any, sign_in_as: Any, page: Any, live_server: Any
) -> None:
    neurologist.email = "neuro@example.org"
    neurologist.save()
    alerts.raise_alerts([overdue_spec(patient_a, 1, grade=AlertGrade.CRITICAL)])
    alerts.send_critical_alert_emails(at=timezone.now())
    alert = Alert.objects.get()
    sign_in_as(neurologist)
    page.get_by_role("link", name="Notifications").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Notifications")
    emails = page.locator("#alert-emails")
    expect(emails).to_contain_text("Critical alert")
    emails.get_by_text("Myelin: critical alert").click()  # the message as sent, unfolded
    expect(emails.locator(".notification-body")).to_contain_text(f"?alert={alert.pk}")
    emails.get_by_role("link", name="Open the alert").click()
    expect(page.locator(f".linked-alert #alert-{alert.pk}")).to_be_visible()

    page.go_back()
    page.get_by_label("Send my daily digest at").select_option("18")
    page.get_by_label("Monitoring due soon").uncheck()
    page.get_by_role("button", name="Save digest settings").click()
    expect(page.get_by_text("Digest settings saved.")).to_be_visible()
    expect(page.get_by_label("Send my daily digest at")).to_have_value("18")
    expect(page.get_by_label("Monitoring due soon")).not_to_be_checked()
    preference = NotificationPreference.objects.get(user=neurologist)
    assert preference.digest_hour == 18
    assert preference.digest_excluded_kinds == ["due_soon"]
