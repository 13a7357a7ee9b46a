"""A neurologist prepares a clinic letter: opens the patient's summary from the patient page,
prints it (the navigation and buttons stay off the paper) and downloads the same summary as a
PDF."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_neurologist_prints_the_summary_for_a_letter_and_downloads_its_pdf(
    on_teriflunomide: Any, neurologist: Any, sign_in_as: Any, page: Any, live_server: Any
) -> None:
    patient = on_teriflunomide.patient
    sign_in_as(neurologist)
    page.goto(f"{live_server.url}{patient.get_absolute_url()}")
    page.get_by_role("link", name="Summary for a letter").click()

    document = page.locator(".summary-document")
    expect(page.locator("#summary-title")).to_have_text(patient.listing_name)
    expect(document).to_contain_text("Teriflunomide")
    expect(page.locator("#summary-monitoring")).to_be_visible()
    # Months 1 and 2 of the monthly ALT are overdue: the letter lists them as open monitoring.
    expect(document).to_contain_text("ALT")

    # On paper: the summary, without the navigation, the buttons or the page head.
    page.emulate_media(media="print")
    expect(page.locator("#summary-title")).to_be_visible()
    expect(page.locator("header.topbar")).to_be_hidden()
    expect(page.get_by_role("link", name="Download PDF")).to_be_hidden()
    page.emulate_media(media="screen")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download PDF").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".pdf")
    with open(download.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
