"""In a real browser: a nurse downloads a patient's record as FHIR from the patient page, then
creates an API token on her account page, a program reads the record with it, and she revokes
it."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.treatments.fhir.conftest import assert_valid

pytestmark = pytest.mark.django_db(transaction=True)


def _read(url: str, secret: str) -> tuple[int, dict]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {secret}"})  # noqa: S310
    try:
        with urllib.request.urlopen(request) as response:  # noqa: S310  (the live test server)
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_a_nurse_downloads_fhir_and_lends_a_program_a_token(
    cast, patient_a, sign_in_as, page, live_server, tmp_path: Path
):
    nurse = cast["nurse"]
    sign_in_as(nurse)
    page.goto(f"{live_server.url}{patient_a.get_absolute_url()}")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download FHIR").click()
    saved = tmp_path / "record.json"
    download.value.save_as(saved)
    bundle = json.loads(saved.read_text())
    assert_valid(bundle)
    assert bundle["entry"][0]["resource"]["id"] == str(patient_a.external_id)
    assert "Archer" not in download.value.suggested_filename

    page.goto(f"{live_server.url}/accounts/profile/")
    page.get_by_role("link", name="Create an API token").click()
    page.get_by_label("What is it for?").fill("Registry upload")
    page.get_by_role("button", name="Create token").click()
    secret = page.get_by_test_id("api-token").inner_text()
    url = f"{live_server.url}/fhir/Patient/{patient_a.external_id}"

    status, patient = _read(url, secret)
    assert status == 200
    assert patient["name"][0]["family"] == "Archer"

    page.get_by_role("link", name="Back to your account").click()
    page.get_by_role("button", name="Revoke").click()
    expect(page.get_by_text("is revoked")).to_be_visible()
    status, outcome = _read(url, secret)
    assert status == 401
    assert outcome["resourceType"] == "OperationOutcome"
