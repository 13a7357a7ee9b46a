"""A nurse works through the monitoring worklist in a real browser: books a test, records the
result that closes it, and waives an overdue one with a reason."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from treatments.models import ItemStatus, MonitoringItem

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_nurse_books_records_and_waives_from_the_worklist(
    on_teriflunomide: Any, nurse: Any, sign_in_as: Any, page: Any, live_server: Any
) -> None:
    today = timezone.localdate()
    due = on_teriflunomide.items.get(rule_key="alt_monthly_6m", occurrence=3)
    overdue = on_teriflunomide.items.get(rule_key="alt_monthly_6m", occurrence=1)
    sign_in_as(nurse)
    expect(page.get_by_role("heading", level=1)).to_have_text("Monitoring worklist")

    # Book this week's ALT: the row is swapped in place by htmx.
    row = page.locator(f"#item-{due.pk}")
    row.get_by_label("Book date for ALT").fill((today + timedelta(days=2)).isoformat())
    row.get_by_role("button", name="Book").click()
    expect(page.locator(f"#item-{due.pk}")).to_contain_text("Booked")

    # Record its result: the item closes, in its window.
    page.locator(f"#item-{due.pk}").get_by_role("link", name="Record result").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Record ALT")
    page.get_by_label("Taken / done on").fill(today.isoformat())
    page.get_by_label("ALT", exact=True).fill("31")
    page.get_by_label("ALT lower limit").fill("0")
    page.get_by_label("ALT upper limit").fill("40")
    page.get_by_role("button", name="Save result").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Monitoring worklist")
    expect(page.get_by_text("ALT result recorded.")).to_be_visible()
    expect(page.locator(f"#item-{due.pk}")).to_have_count(0)

    # Waive the oldest overdue ALT with a reason.
    page.get_by_role("link", name="Overdue").click()
    expect(page).to_have_url(f"{live_server.url}/treatments/worklist/?tab=overdue")
    overdue_row = page.locator(f"#item-{overdue.pk}")
    overdue_row.get_by_label("Reason to waive ALT").fill("Taken at the GP surgery; report faxed")
    overdue_row.get_by_role("button", name="Waive").click()
    expect(page.locator(f"#item-{overdue.pk}")).to_contain_text("Waived")

    due.refresh_from_db()
    overdue.refresh_from_db()
    assert due.status == ItemStatus.DONE_IN_WINDOW
    assert due.result is not None
    assert overdue.status == ItemStatus.WAIVED
    assert overdue.waived_reason == "Taken at the GP surgery; report faxed"
    assert MonitoringItem.objects.filter(pk=due.pk, booked_on=today + timedelta(days=2)).exists()
