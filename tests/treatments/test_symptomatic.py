"""Symptomatic and relapse treatments, with the catalogue's interaction notes."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from clinic.accounts.models import User
from patients.models import Patient
from patients.records import timeline
from tests.treatments.conftest import TODAY, StartPlan
from treatments import errors
from treatments.models import SymptomaticTreatment
from treatments.protocols import get_protocol
from treatments.symptomatic import services as symptomatic_services
from treatments.symptomatic.interactions import interaction_notes

pytestmark = pytest.mark.django_db


def test_anticonvulsants_with_interferons_ask_for_closer_liver_monitoring() -> None:
    notes = interaction_notes("Carbamazepine", get_protocol("interferon_beta_1b", "EU"))

    assert any("liver" in text.lower() for text, _ in notes)


def test_beta_blockers_with_fingolimod_bring_the_labels_interaction_text() -> None:
    notes = interaction_notes("bisoprolol 2.5 mg", get_protocol("fingolimod", "EU"))

    texts = " ".join(text for text, _ in notes)
    assert "bradycardia" in texts
    assert "antiarrhythmics" in texts


def test_warfarin_with_teriflunomide_asks_for_close_inr_checks() -> None:
    [(text, source)] = interaction_notes("Warfarin 3 mg", get_protocol("teriflunomide", "EU"))
    assert "INR" in text
    assert "teriflunomide" in source.lower()


def test_tizanidine_with_teriflunomide_warns_of_a_weaker_effect() -> None:
    notes = interaction_notes("tizanidine", get_protocol("teriflunomide", "US"))
    assert any("CYP1A2" in text for text, _ in notes)


@pytest.mark.parametrize("drug_key", ["fingolimod", "siponimod", "ponesimod", "ozanimod"])
def test_qt_prolonging_drugs_are_flagged_with_every_s1p_modulator_whose_label_says_so(drug_key):
    notes = interaction_notes("citalopram 20 mg", get_protocol(drug_key, "US"))
    assert any("QT-prolonging" in text for text, _ in notes)


def test_fluconazole_with_siponimod_is_not_recommended() -> None:
    notes = interaction_notes("Fluconazole", get_protocol("siponimod", "EU"))
    assert any("not recommended" in text for text, _ in notes)


def test_rifampicin_with_siponimod_names_the_genotypes_concerned() -> None:
    [(text, _)] = [n for n in interaction_notes("rifampicin", get_protocol("siponimod", "EU"))][:1]
    assert "*1/*3" in text


def test_fampridine_asks_for_renal_function_whatever_the_dmt_or_none() -> None:
    with_dmt = interaction_notes("Fampridine 10 mg", get_protocol("ocrelizumab_iv", "EU"))
    without = interaction_notes("fampridine", None)
    assert with_dmt == without
    assert any("creatinine clearance" in text for text, _ in without)


def test_fampridine_with_cimetidine_is_contraindicated_either_way_round() -> None:
    started_second = interaction_notes("Cimetidine 400 mg", None, others=["Fampridine 10 mg"])
    started_first = interaction_notes("fampridine", None, others=["cimetidine"])
    assert any("contraindicated" in text for text, _ in started_second)
    assert any("OCT2" in text for text, _ in started_first)


def test_every_interaction_note_names_its_source_without_internal_section_marks() -> None:
    from treatments.symptomatic.interactions import RULES

    for rule in RULES:
        assert rule.source
        assert "§" not in rule.source


def test_a_drug_without_a_known_interaction_gets_no_note() -> None:
    assert interaction_notes("Baclofen", get_protocol("fingolimod", "EU")) == []


def test_a_symptomatic_treatment_is_recorded_and_appears_on_the_timeline(
    patient_a: Patient, nurse: User, today: date
) -> None:
    symptomatic_services.record_symptomatic_treatment(
        patient=patient_a,
        kind="symptomatic",
        drug="Baclofen",
        indication="spasticity",
        dose="10 mg three times daily",
        started_on=TODAY - timedelta(days=30),
        stopped_on=None,
        note="",
        by=nurse,
    )

    titles = [event.title for event in timeline.timeline_for(patient_a)]
    assert "Baclofen (spasticity) started" in titles


def test_a_stop_before_the_start_is_refused(patient_a: Patient, nurse: User, today: date) -> None:
    with pytest.raises(errors.TreatmentError) as refused:
        symptomatic_services.record_symptomatic_treatment(
            patient=patient_a,
            kind="relapse",
            drug="Methylprednisolone",
            indication="relapse",
            dose="500 mg daily for 5 days",
            started_on=TODAY,
            stopped_on=TODAY - timedelta(days=1),
            note="",
            by=nurse,
        )
    assert refused.value.field == "stopped_on"


def test_recording_through_the_page_warns_about_interactions_with_the_current_dmt(
    eu_clinic: object, patient_a: Patient, start_plan: StartPlan, nurse: User, signed_in: Any
) -> None:
    start_plan(patient_a, "interferon_beta_1a_sc", date(2026, 1, 5))
    client = signed_in(nurse)

    response = client.post(
        f"/treatments/patients/{patient_a.external_id}/symptomatic/new/",
        {
            "kind": "symptomatic",
            "drug": "Lamotrigine",
            "indication": "pain",
            "dose": "25 mg",
            "started_on": "2026-06-15",
        },
        follow=True,
    )

    assert SymptomaticTreatment.objects.filter(patient=patient_a, drug="Lamotrigine").exists()
    assert b"antiepileptic" in response.content


def test_bad_dates_on_the_page_are_shown_at_the_field(
    patient_a: Patient, nurse: User, signed_in: Any, today: date
) -> None:
    response = signed_in(nurse).post(
        f"/treatments/patients/{patient_a.external_id}/symptomatic/new/",
        {
            "kind": "symptomatic",
            "drug": "Amantadine",
            "indication": "fatigue",
            "started_on": "2026-06-10",
            "stopped_on": "2026-06-01",
        },
    )

    assert response.status_code == 422
    assert b'id="id_stopped_on_error"' in response.content
    assert b'value="Amantadine"' in response.content
