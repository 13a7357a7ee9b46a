"""Patient questionnaires in Chromium: the neurologist sends Alice a link, Alice answers MSIS-29
and MFIS on a phone-sized screen with JavaScript switched off, and the neurologist sees her
scores, marked patient-reported, beside the chart. The link does not open a second time."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from treatments import questionnaires
from treatments.models import OutcomeMeasurement, OutcomeSource

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> Any:
    keys = [f"pro-rate:{bucket}:127.0.0.1" for bucket in ("requests", "dob")]
    cache.delete_many(keys)
    yield
    cache.delete_many(keys)


def test_a_patient_answers_on_a_phone_and_the_neurologist_sees_the_scores(
    cast, patient_a, sign_in_as, page, browser, live_server
):
    neurologist = cast["neurologist"]

    # The neurologist creates the link from Alice's outcome measures page.
    sign_in_as(neurologist)
    page.goto(f"{live_server.url}/rehab/patient/{patient_a.external_id}/")
    page.get_by_role("link", name="Send questionnaires").first.click()
    expect(page.get_by_label("Multiple Sclerosis Impact Scale (MSIS-29)")).to_be_checked()
    expect(page.get_by_label("Modified Fatigue Impact Scale (MFIS)")).to_be_checked()
    page.get_by_role("button", name="Create link").click()
    expect(page.get_by_text("Link created.")).to_be_visible()
    expect(page.locator(".qr svg")).to_be_visible()
    url = page.get_by_test_id("pro-url").input_value()
    assert url.startswith(f"{live_server.url}/q/")

    # Alice opens it on her phone, with no JavaScript at all.
    phone = browser.new_context(viewport=PHONE, is_mobile=True, java_script_enabled=False)
    alice = phone.new_page()
    alice.goto(url)
    expect(alice.get_by_role("heading", name="Before you start")).to_be_visible()
    expect(alice.get_by_text("Archer")).to_have_count(0)
    born = patient_a.date_of_birth
    alice.get_by_label("Day").fill(str(born.day))
    alice.get_by_label("Month").fill(str(born.month))
    alice.get_by_label("Year").fill(str(born.year))
    alice.get_by_role("button", name="Continue").click()

    expect(
        alice.get_by_role("heading", name="Multiple Sclerosis Impact Scale (MSIS-29)")
    ).to_be_visible()
    # Sending with one answer missing points her at it.
    for item in questionnaires.MSIS29.items:
        alice.locator(f"#id_msis29-{item.number}_1").check()  # "A little"
    for item in questionnaires.MFIS.items[:-1]:
        alice.locator(f"#id_mfis-{item.number}_2").check()  # "Sometimes"
    alice.get_by_role("button", name="Send my answers").click()
    expect(alice.get_by_text("Some questions still need an answer")).to_be_visible()
    summary_link = alice.get_by_role("link", name="21. I have needed to rest more often")
    expect(summary_link).to_be_visible()
    # Her earlier answers were kept; she answers the last one, on a screen she need not pan.
    expect(alice.locator("#id_msis29-29_1")).to_be_checked()
    alice.get_by_role("radio", name="Sometimes").last.check()
    button = alice.get_by_role("button", name="Send my answers")
    box = button.bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= PHONE["width"]
    button.click()
    expect(alice.get_by_role("heading", name="Thank you")).to_be_visible()

    # The neurologist sees the scores, marked patient-reported, on Alice's page.
    page.goto(f"{live_server.url}/rehab/patient/{patient_a.external_id}/")
    table = page.get_by_test_id("patient-reported")
    expect(table).to_contain_text("MSIS-29 (v2)")
    expect(table).to_contain_text("33.3 points (0-100)")  # 20 physical items at 2
    expect(table).to_contain_text("42 points")  # 21 MFIS items at 2
    expect(table).to_contain_text("Patient-reported")
    expect(
        page.get_by_role("img", name="Modified Fatigue Impact Scale (points; higher is worse)")
    ).to_be_visible()
    assert set(
        OutcomeMeasurement.objects.filter(patient=patient_a).values_list("measure", "source")
    ) == {("msis29", OutcomeSource.PATIENT_REPORTED), ("mfis", OutcomeSource.PATIENT_REPORTED)}

    # The same link does not open again.
    alice.goto(url)
    expect(alice.get_by_role("heading", name="This link cannot be used")).to_be_visible()
    expect(alice.get_by_text("already been answered")).to_be_visible()
    phone.close()
