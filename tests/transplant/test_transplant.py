"""aHSCT: the catalogue entry and its eligibility rules, the referral to a transplant centre,
the transplant as a dated event, and the post-transplant monitoring it materialises through the
same engine as any DMT."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from django.urls import reverse

from clinic.accounts.models import User
from clinic.audit.models import AccessEvent, Category
from patients.models import Patient, Referral
from patients.records.timeline import timeline_for
from tests.treatments.conftest import StartPlan
from treatments.errors import TreatmentError
from treatments.models import MonitoringItem, ProtocolVersion, Transplant
from treatments.plans import services as plan_services
from treatments.plans.forms import drug_choices
from treatments.protocols import get_protocol
from treatments.protocols.transplant import eligibility_findings
from treatments.transplant import services

DAY_0 = date(2026, 1, 12)


def test_within_the_usual_criteria_there_is_nothing_to_say():
    assert eligibility_findings(age_years=32, edss=3.5, disease_years=5, course="rrms") == []


def test_each_usual_limit_is_its_own_finding_with_its_source():
    findings = eligibility_findings(age_years=56, edss=6.5, disease_years=14.2, course="spms")
    texts = [f.text for f in findings]
    assert texts == [
        "Age 56: above the usual limit of about 50.",
        "EDSS 6.5: above the usual limit of about 6.",
        "Disease duration 14 years: above the usual 10.",
        "Progressive MS: a candidate only with clear inflammatory activity.",
    ]
    assert all(f.source.startswith("EBMT-2019") for f in findings)


def test_the_catalogue_entry_has_sources_for_every_rule_and_eligibility_notes():
    protocol = get_protocol("ahsct", "EU")
    assert all(rule.sources for rule in protocol.monitoring_rules)
    assert all(rule.survives_stop for rule in protocol.monitoring_rules)
    assert any(note.startswith("Eligibility:") for note in protocol.notes)
    assert {r.investigation for r in protocol.monitoring_rules} >= {
        "cbc",
        "cmv_ebv_pcr",
        "tsh",
        "revaccination",
        "neuro_review",
        "mri_brain",
    }


@pytest.mark.django_db
def test_ahsct_is_in_the_catalogue_but_never_offered_as_a_dmt(
    eu_clinic: object, neurologist: User, signed_in: Any
):
    assert ProtocolVersion.objects.filter(drug_key="ahsct", region="EU").exists()
    assert "ahsct" not in dict(drug_choices())
    page = signed_in(neurologist).get("/treatments/catalogue/ahsct/?region=EU").content.decode()
    assert "EBMT-2019" in page


@pytest.mark.django_db
def test_the_transplant_starts_its_monitoring_from_day_0(
    alice: Patient, neurologist: User, transplant_referral: Callable[..., Referral]
):
    referral = transplant_referral("scheduled")
    transplant = services.record_transplant(
        patient=alice,
        referral=referral,
        centre="Northern Transplant Centre",
        conditioning="beam_atg",
        mobilised_on=DAY_0 - timedelta(days=30),
        transplanted_on=DAY_0,
        contraception_confirmed=True,
        by=neurologist,
    )
    plan = transplant.plan
    assert (plan.drug_key, plan.started_on, plan.status) == ("ahsct", DAY_0, "active")
    items = MonitoringItem.objects.filter(plan=plan)
    first_count = items.filter(rule_key="cbc_early").order_by("due_on").first()
    assert first_count is not None
    assert first_count.due_on == DAY_0 + timedelta(weeks=2)
    assert items.filter(rule_key="tsh", due_on=date(2026, 4, 12)).exists()  # month 3
    assert items.filter(rule_key="revaccination", due_on=date(2026, 7, 12)).exists()  # month 6
    assert items.filter(rule_key="mri", due_on=date(2026, 7, 12)).exists()
    assert AccessEvent.objects.filter(category=Category.TRANSPLANT, action="create").exists()
    titles = [event.title for event in timeline_for(alice)]
    assert "Autologous stem-cell transplant (day 0)" in titles
    assert "aHSCT: stem-cell mobilisation" in titles


@pytest.mark.django_db
def test_post_transplant_duties_survive_a_dmt_restarted_later(
    alice: Patient, neurologist: User, transplant_referral: Callable[..., Referral]
):
    transplant = services.record_transplant(
        patient=alice,
        referral=transplant_referral(),
        centre="Northern Transplant Centre",
        conditioning="cy200_atg",
        transplanted_on=DAY_0,
        contraception_confirmed=True,
        by=neurologist,
    )
    plan_services.stop_dmt_plan(
        plan=transplant.plan,
        stopped_on=date(2026, 6, 1),
        reason="lack_of_efficacy",
        by=neurologist,
    )
    later = MonitoringItem.objects.filter(plan=transplant.plan, due_on__gt=date(2026, 6, 1))
    assert later.filter(rule_key="tsh").open().exists()


@pytest.mark.django_db
def test_a_transplant_needs_a_referral_the_centre_accepted(
    alice: Patient, neurologist: User, transplant_referral: Callable[..., Referral]
):
    with pytest.raises(TreatmentError) as refused:
        services.record_transplant(
            patient=alice,
            referral=transplant_referral("sent"),
            centre="Northern",
            conditioning="beam_atg",
            transplanted_on=DAY_0,
            contraception_confirmed=True,
            by=neurologist,
        )
    assert refused.value.field == "referral"
    assert not Transplant.objects.exists()


@pytest.mark.django_db
def test_a_current_dmt_must_be_stopped_first(
    alice: Patient,
    neurologist: User,
    start_plan: StartPlan,
    transplant_referral: Callable[..., Referral],
):
    start_plan(alice, "natalizumab_iv", date(2025, 1, 6))
    with pytest.raises(TreatmentError, match="is still current") as refused:
        services.record_transplant(
            patient=alice,
            referral=transplant_referral(),
            centre="Northern",
            conditioning="beam_atg",
            transplanted_on=DAY_0,
            contraception_confirmed=True,
            by=neurologist,
        )
    assert refused.value.field == "transplanted_on"


def _post(client: Any, patient: Patient, **data: Any) -> Any:
    return client.post(
        reverse("transplant:record", kwargs={"external_id": patient.external_id}), data
    )


@pytest.mark.django_db
def test_mobilisation_after_day_0_is_refused_at_its_field(
    alice: Patient,
    neurologist: User,
    signed_in: Any,
    transplant_referral: Callable[..., Referral],
):
    referral = transplant_referral()
    response = _post(
        signed_in(neurologist),
        alice,
        referral=referral.pk,
        centre="Northern",
        conditioning="beam_atg",
        mobilised_on="2026-02-01",
        transplanted_on="2026-01-12",
        contraception_confirmed="on",
    )
    assert response.status_code == 422
    assert "Mobilisation comes before the reinfusion" in response.content.decode()


@pytest.mark.django_db
def test_a_woman_without_confirmed_contraception_is_refused_at_the_field(
    alice: Patient,
    neurologist: User,
    signed_in: Any,
    transplant_referral: Callable[..., Referral],
):
    response = _post(
        signed_in(neurologist),
        alice,
        referral=transplant_referral().pk,
        centre="Northern",
        conditioning="beam_atg",
        transplanted_on="2026-01-12",
    )
    assert response.status_code == 422
    assert "Confirm the contraception" in response.content.decode()


@pytest.mark.django_db
def test_only_a_neurologist_records_a_transplant(
    alice: Patient, nurse: User, signed_in: Any, transplant_referral: Callable[..., Referral]
):
    client = signed_in(nurse)
    page = client.get(reverse("transplant:patient", kwargs={"external_id": alice.external_id}))
    assert page.status_code == 200
    # No EDSS on record yet: the page says the limit cannot be checked.
    assert "No EDSS recorded" in page.content.decode()
    assert _post(client, alice, referral=transplant_referral().pk).status_code == 403


@pytest.mark.django_db
def test_another_teams_patient_is_not_found(patient_b: Patient, neurologist: User, signed_in: Any):
    url = reverse("transplant:patient", kwargs={"external_id": patient_b.external_id})
    assert signed_in(neurologist).get(url).status_code == 404
