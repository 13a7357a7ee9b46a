"""A nurse uploads a lab message whose MRN the laboratory mistyped, finds it in the review queue,
matches it to her patient by hand, and the liver test it answers closes."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.labimport.messages import lft_panel, oru
from treatments.models import ItemStatus

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_nurse_resolves_an_unknown_mrn_from_the_review_queue(
    on_teriflunomide: Any, patient_a: Any, nurse: Any, sign_in_as: Any, page: Any
) -> None:
    today = timezone.localdate()
    due = on_teriflunomide.items.get(rule_key="alt_monthly_6m", occurrence=3)
    taken = f"{today:%Y%m%d}0001"
    message = oru(
        *(
            s.replace("20260610074500", taken).replace("20260610081500", taken)
            for s in lft_panel("31")
        ),
        mrn="AAA0001X",  # one character wrong at the laboratory
        born=patient_a.date_of_birth,
        control_id="NL-BROWSER-1",
    )
    sign_in_as(nurse)

    page.get_by_role("link", name="Lab results").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Lab results to review")
    page.get_by_role("link", name="Upload lab results").click()
    page.get_by_label("Files").set_input_files(
        files=[{"name": "northlab.hl7", "mimeType": "text/plain", "buffer": message.encode()}]
    )
    page.get_by_role("button", name="Import").click()
    summary = page.locator("#upload-summary")
    expect(summary).to_contain_text("1 held for review")
    expect(summary).to_contain_text("No patient in Myelin has the MRN this message gives.")

    summary.get_by_role("link", name="Review").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Review a lab message")
    expect(page.locator("dl.facts")).to_contain_text("identifiers AAA0001X")
    page.get_by_label("Patient's MRN").fill("AAA00001")
    page.get_by_role("button", name="Import to this patient").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Lab results to review")
    expect(page.get_by_text("Imported 4 result(s).")).to_be_visible()
    expect(page.get_by_text("No lab messages waiting for review.")).to_be_visible()
    due.refresh_from_db()
    assert due.status == ItemStatus.DONE_IN_WINDOW
    assert due.result is not None
    assert due.result.values.get(analyte="alt").value == 31
