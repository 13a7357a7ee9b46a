"""The patient summary for a clinic letter: a printable page and a PDF, scoped and audited."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.urls import reverse

from clinic.audit.models import AccessEvent, Action

TODAY = date(2026, 6, 1)


def summary_url(patient, name="treatments:summary"):
    return reverse(name, kwargs={"external_id": patient.external_id})


@pytest.fixture
def a_history(patient_a, record_edss, record_relapse, record_mri):
    record_edss(patient_a, date(2023, 2, 1), "2.0")
    record_relapse(patient_a, date(2023, 3, 1))  # over two years ago: not in the summary
    record_relapse(patient_a, date(2025, 9, 1))
    record_mri(patient_a, date(2025, 10, 1), t2=1, gad=0)
    record_edss(patient_a, date(2026, 3, 1), "3.5")
    return patient_a


@time_machine.travel(TODAY, tick=False)
def test_the_summary_page_shows_what_a_letter_needs(signed_in, neurologist, a_history):
    response = signed_in(neurologist).get(summary_url(a_history))
    body = response.content.decode()
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert a_history.listing_name in body
    assert "3.5 on 01 Mar 2026" in body  # the last EDSS
    assert "01 Sep 2025" in body  # a relapse of the last two years
    assert "01 Mar 2023" not in body.split("Relapses since")[1].split("MRI since")[0]
    assert "01 Oct 2025" in body  # the MRI
    assert "Download PDF" in body


@time_machine.travel(TODAY, tick=False)
def test_the_pdf_is_a_real_pdf_named_without_the_patient(signed_in, nurse, a_history):
    response = signed_in(nurse).get(summary_url(a_history, "treatments:summary_pdf"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    disposition = response["Content-Disposition"]
    assert "patient-summary-2026-06-01.pdf" in disposition
    assert a_history.mrn not in disposition
    assert a_history.family_name not in disposition


@time_machine.travel(TODAY, tick=False)
def test_printing_is_recorded_as_an_export(signed_in, nurse, a_history):
    signed_in(nurse).get(summary_url(a_history, "treatments:summary_pdf"))
    assert AccessEvent.objects.filter(user=nurse, patient=a_history, action=Action.EXPORT).exists()


def test_another_teams_patient_has_no_summary(signed_in, neurologist, patient_b):
    assert signed_in(neurologist).get(summary_url(patient_b)).status_code == 404
    assert (
        signed_in(neurologist).get(summary_url(patient_b, "treatments:summary_pdf")).status_code
        == 404
    )
