"""Washout guidance for the switching warning (§5)."""

from __future__ import annotations

import pytest

from treatments.protocols import drug_keys, washout_guidance
from treatments.protocols.engine import washout_guidance as engine_washout_guidance


@pytest.mark.parametrize(
    ("from_drug", "to_drug", "min_days", "max_days"),
    [
        ("interferon_beta_1a_im", "natalizumab_iv", 0, None),
        ("glatiramer", "cladribine", 0, None),
        ("teriflunomide", "ocrelizumab_iv", 11, None),
        ("dimethyl_fumarate", "alemtuzumab", 0, None),
        ("fingolimod", "ocrelizumab_iv", 28, 56),
        ("fingolimod", "cladribine", 28, 56),
        ("fingolimod", "glatiramer", 0, None),
        ("siponimod", "ofatumumab", 10, None),
        ("ponesimod", "ocrelizumab_sc", 7, None),
        ("ozanimod", "ublituximab", 30, None),
        ("natalizumab_iv", "ocrelizumab_iv", 0, 56),
        ("natalizumab_sc", "fingolimod", 0, 28),
        ("ocrelizumab_iv", "cladribine", 90, None),
        ("rituximab", "dimethyl_fumarate", 90, None),
        ("mitoxantrone", "natalizumab_iv", 182, None),
        ("mitoxantrone", "teriflunomide", 90, None),
        ("cladribine", "ocrelizumab_iv", 0, None),
    ],
)
def test_washout_intervals(
    from_drug: str, to_drug: str, min_days: int, max_days: int | None
) -> None:
    guidance = washout_guidance(from_drug, to_drug)
    assert (guidance.min_days, guidance.max_days) == (min_days, max_days)
    assert guidance.text
    assert guidance.source


def test_teriflunomide_switch_names_accelerated_elimination() -> None:
    assert "Accelerated elimination" in washout_guidance("teriflunomide", "fingolimod").text


def test_natalizumab_switch_warns_about_rebound_and_pml() -> None:
    guidance = washout_guidance("natalizumab_iv", "ocrelizumab_iv")
    assert "rebound" in guidance.text
    assert "mri_brain" in guidance.checks


def test_alemtuzumab_to_siponimod_is_not_recommended() -> None:
    assert washout_guidance("alemtuzumab", "siponimod").not_recommended
    assert not washout_guidance("alemtuzumab", "ocrelizumab_iv").not_recommended


def test_every_pair_of_catalogue_drugs_has_guidance() -> None:
    drugs = [d for d in drug_keys() if d != "general"]
    for from_drug in drugs:
        for to_drug in drugs:
            guidance = washout_guidance(from_drug, to_drug)
            assert guidance.min_days >= 0
            assert guidance.max_days is None or guidance.max_days >= guidance.min_days


def test_unknown_drug_is_a_lookup_error() -> None:
    with pytest.raises(LookupError, match="unknown drug 'general'"):
        washout_guidance("general", "fingolimod")


def test_engine_exposes_washout_guidance() -> None:
    assert engine_washout_guidance is washout_guidance
