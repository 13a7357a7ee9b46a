"""An abnormal ALT raises a graded alert, in a real browser: the nurse records an ALT of 4×ULN
for a patient on teriflunomide, the evaluation runs after the result commits, the alert lands in
the nurse's inbox (an unconfirmed ALT > 3×ULN asks her to book the repeat), she acknowledges it,
and the neurologist sees it, acknowledged, in his team view."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from treatments.models import Alert, AlertGrade, AlertKind, AlertStatus

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_abnormal_alt_raises_a_graded_alert_the_nurse_acknowledges_and_the_neurologist_sees(
    on_teriflunomide: Any,
    patient_a: Any,
    nurse: Any,
    neurologist: Any,
    sign_in_as: Any,
    page: Any,
    live_server: Any,
) -> None:
    today = timezone.localdate()
    due = on_teriflunomide.items.get(rule_key="alt_monthly_6m", occurrence=3)

    # The nurse records an ALT of 160 U/L against the lab's upper limit of 40: 4×ULN.
    sign_in_as(nurse)
    page.goto(
        f"{live_server.url}/treatments/patients/{patient_a.external_id}/results/new/?item={due.pk}"
    )
    expect(page.get_by_role("heading", level=1)).to_have_text("Record ALT")
    page.get_by_label("Taken / done on").fill(today.isoformat())
    page.get_by_label("ALT", exact=True).fill("160")
    page.get_by_label("ALT lower limit").fill("0")
    page.get_by_label("ALT upper limit").fill("40")
    page.get_by_role("button", name="Save result").click()
    expect(page.get_by_text("ALT result recorded.")).to_be_visible()

    # The evaluation ran after commit: a graded alert in the nurse's own inbox.
    alert = Alert.objects.get(patient=patient_a, kind=AlertKind.ABNORMAL_RESULT)
    assert alert.grade == AlertGrade.WARNING
    assert alert.ctcae_grade == 2  # ALT > 3 – 5×ULN
    assert alert.owner == nurse
    page.goto(f"{live_server.url}/alerts/")
    card = page.locator(f"#alert-{alert.pk}")
    expect(card).to_contain_text("Warning · CTCAE 2")
    expect(card).to_contain_text("ALT 160 U/L (4×ULN): ALT > 3×ULN — repeat to confirm")
    expect(card).to_contain_text("Repeat the test to confirm")
    expect(card).to_contain_text("Open")

    # She acknowledges it; the card is swapped in place.
    card.get_by_role("button", name="Acknowledge").click()
    expect(page.locator(f"#alert-{alert.pk}")).to_contain_text("Acknowledged")
    expect(
        page.locator(f"#alert-{alert.pk}").get_by_role("button", name="Acknowledge")
    ).to_have_count(0)

    # The neurologist sees it, acknowledged, in his team's alerts.
    page.context.clear_cookies()
    sign_in_as(neurologist)
    page.goto(f"{live_server.url}/alerts/?scope=team")
    team_card = page.locator(f"#alert-{alert.pk}")
    expect(team_card).to_contain_text("Acknowledged")
    expect(team_card).to_contain_text("ALT 160 U/L (4×ULN)")
    expect(team_card).to_contain_text(patient_a.listing_name)

    alert.refresh_from_db()
    assert alert.status == AlertStatus.ACKNOWLEDGED
    assert alert.acknowledged_by == nurse
