"""Label rules that used to be text and are now data the evaluation enforces (issue #14, part B):
the liver on every drug that monitors it, Hy's law on ALT or AST, mitoxantrone's LVEF, the
cladribine course an alert belongs to, and the fumarates' low count before starting."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from patients.models import Patient
from tests.evaluation.conftest import Record, keys
from tests.treatments.conftest import StartPlan
from treatments.models import Alert, AlertGrade, AlertKind
from treatments.protocols import Protocol, all_protocols
from treatments.safety.rules import History, Reading, rule_met, value_rules

DAY = date(2026, 6, 15)

LIVER_TESTS = {"lft", "alt", "ast"}
LIVER_PROTOCOLS = [
    p
    for p in all_protocols()
    if p.drug_key != "general" and any(r.investigation in LIVER_TESTS for r in p.monitoring_rules)
]


# --- the liver, on every drug that monitors it -------------------------------------------------


@pytest.mark.parametrize("protocol", LIVER_PROTOCOLS, ids=lambda p: p.label)
@pytest.mark.parametrize("analyte", ["alt", "ast"])
@pytest.mark.parametrize("times_uln", ["3.2", "6", "25"])
def test_alt_or_ast_above_3_uln_meets_a_rule_of_every_drug_that_monitors_the_liver(
    protocol: Protocol, analyte: str, times_uln: str
) -> None:
    # §0.4 as corrected: the liver rules read ALT or AST. Bilirubin is not on file, so only
    # rules on the enzyme alone can be met (Hy's law is tested on its own below).
    reading = Reading(
        analyte, DAY, 1, value=Decimal(times_uln) * 40, unit="U/L", lln=Decimal(0), uln=Decimal(40)
    )
    met = [
        rule.key
        for rule in value_rules(protocol)
        if rule.analyte == analyte
        and rule_met(rule, reading, history=History([reading]), first_dose_on=date(2025, 1, 6))
    ]

    assert met, f"{protocol.label}: no rule for {analyte} at {times_uln}×ULN"


def test_the_liver_protocols_include_every_drug_family_that_schedules_liver_tests() -> None:
    families = {p.drug_key for p in LIVER_PROTOCOLS}
    assert {
        "teriflunomide",
        "fingolimod",
        "siponimod",
        "ozanimod",
        "ponesimod",
        "natalizumab_iv",
        "alemtuzumab",
        "cladribine",
        "mitoxantrone",
        "interferon_beta_1b",
        "dimethyl_fumarate",
    } <= families


def test_ast_above_3_uln_on_fingolimod_raises_the_dhpc_warning(
    eu_clinic: Any, patient_a: Patient, start_plan: StartPlan, record: Record
) -> None:
    start_plan(patient_a, "fingolimod", date(2026, 1, 5))

    result = record(
        patient_a, "lft", DAY, ("ast", "150", "0", "40"), ("bilirubin", "12", "0", "21")
    )

    alert = Alert.objects.get(condition_key=f"abnormal:result:{result.pk}:rule:ast_3_5_uln")
    assert alert.grade == AlertGrade.WARNING
    assert alert.source == "DHPC-2020"
    assert "3.8×ULN" in alert.title


def test_ast_above_3_uln_with_a_bilirubin_rise_stops_fingolimod(
    eu_clinic: Any, patient_a: Patient, start_plan: StartPlan, record: Record
) -> None:
    start_plan(patient_a, "fingolimod", date(2026, 1, 5))

    result = record(
        patient_a, "lft", DAY, ("ast", "130", "0", "40"), ("bilirubin", "25", "0", "21")
    )

    alert = Alert.objects.get(
        condition_key=f"abnormal:result:{result.pk}:rule:ast_ge_3_uln_bilirubin_up"
    )
    assert alert.grade == AlertGrade.CRITICAL
    assert alert.action == "Stop fingolimod."


def test_alt_above_3_uln_on_natalizumab_is_reviewed(
    eu_clinic: Any, patient_a: Patient, start_plan: StartPlan, record: Record
) -> None:
    # Natalizumab had only a clinical 'liver injury' event; a value now raises an alert too.
    start_plan(patient_a, "natalizumab_iv", date(2026, 1, 5))

    result = record(patient_a, "lft", DAY, ("alt", "140", "0", "40"))

    alert = Alert.objects.get(condition_key=f"abnormal:result:{result.pk}:rule:alt_gt_3_uln")
    assert alert.grade == AlertGrade.WARNING
    assert alert.kind == AlertKind.ABNORMAL_RESULT


# --- Hy's law on ALT or AST ----------------------------------------------------------------------


def test_hys_law_fires_on_ast_with_a_normal_alt(
    eu_clinic: Any, patient_a: Patient, start_plan: StartPlan, record: Record
) -> None:
    start_plan(patient_a, "ocrelizumab_iv", date(2026, 1, 5))

    record(
        patient_a,
        "lft",
        DAY,
        ("alt", "35", "0", "40"),
        ("ast", "150", "0", "40"),
        ("bilirubin", "50", "0", "21"),
    )

    alert = Alert.objects.get(condition_key=f"hys_law:patient:{patient_a.pk}:on:2026-06-15")
    assert alert.grade == AlertGrade.CRITICAL
    assert alert.title.startswith("Hy's law pattern: AST 150 U/L")
    assert "AST > 3×ULN" in alert.detail
    assert "ALT" not in alert.title


def test_hys_law_on_both_enzymes_raises_one_alert_naming_both(
    patient_a: Patient, record: Record, today: date
) -> None:
    record(patient_a, "lft", DAY, ("alt", "200", "0", "40"), ("ast", "150", "0", "40"))
    record(patient_a, "bilirubin", DAY, ("bilirubin", "50", "0", "21"))

    [alert] = Alert.objects.filter(condition_key__startswith="hys_law:")
    assert "ALT and AST > 3×ULN" in alert.detail


def test_ast_high_with_normal_bilirubin_is_not_hys_law(
    patient_a: Patient, record: Record, today: date
) -> None:
    record(patient_a, "lft", DAY, ("ast", "150", "0", "40"), ("bilirubin", "30", "0", "21"))

    assert not any(key.startswith("hys_law:") for key in keys(patient_a))
