"""Properties every protocol in the catalogue must have, and the registry that serves them."""

from __future__ import annotations

import ast
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import treatments.protocols as protocols_package
from treatments.protocols import (
    INVESTIGATIONS,
    InvestigationKind,
    PlanEvents,
    Protocol,
    Region,
    all_protocols,
    analytes_of,
    drug_keys,
    get_investigation,
    get_protocol,
    protocol_from_dict,
    protocol_problems,
    protocol_to_dict,
    regions_for,
    schedule,
)

from .helpers import START, months

PROTOCOLS = all_protocols()
EXPECTED_DRUGS = {
    "general",
    "ahsct",
    "interferon_beta_1a_im",
    "interferon_beta_1a_sc",
    "peginterferon_beta_1a",
    "interferon_beta_1b",
    "glatiramer",
    "teriflunomide",
    "dimethyl_fumarate",
    "diroximel_fumarate",
    "monomethyl_fumarate",
    "fingolimod",
    "siponimod",
    "ozanimod",
    "ponesimod",
    "natalizumab_iv",
    "natalizumab_sc",
    "ocrelizumab_iv",
    "ocrelizumab_sc",
    "ofatumumab",
    "ublituximab",
    "rituximab",
    "alemtuzumab",
    "cladribine",
    "mitoxantrone",
}


def _ids(protocol: Protocol) -> str:
    return protocol.label


def test_catalogue_has_every_drug() -> None:
    assert set(drug_keys()) == EXPECTED_DRUGS


@pytest.mark.parametrize("drug", sorted(EXPECTED_DRUGS - {"natalizumab_sc"}))
def test_every_drug_has_us_and_eu_versions(drug: str) -> None:
    assert regions_for(drug) == [Region.EU, Region.US]


def test_natalizumab_sc_is_eu_only() -> None:
    assert regions_for("natalizumab_sc") == [Region.EU]
    with pytest.raises(LookupError, match="No US protocol for 'natalizumab_sc'"):
        get_protocol("natalizumab_sc", "US", on=START)


@pytest.mark.parametrize("protocol", PROTOCOLS, ids=_ids)
def test_protocol_passes_validation(protocol: Protocol) -> None:
    assert protocol_problems(protocol) == []


@pytest.mark.parametrize("protocol", PROTOCOLS, ids=_ids)
def test_every_rule_gate_and_alert_has_a_source(protocol: Protocol) -> None:
    assert all(rule.sources and all(rule.sources) for rule in protocol.monitoring_rules)
    assert all(check.source for check in protocol.baseline_checks)
    assert all(gate.source for gate in protocol.dose_gates)
    assert all(alert.source for alert in protocol.alert_rules)


@pytest.mark.parametrize("protocol", PROTOCOLS, ids=_ids)
def test_every_investigation_key_used_exists(protocol: Protocol) -> None:
    used = {rule.investigation for rule in protocol.monitoring_rules}
    used |= {check.investigation for check in protocol.baseline_checks}
    used |= {gate.investigation for gate in protocol.dose_gates}
    used |= {gate.analyte for gate in protocol.dose_gates if gate.analyte}
    used |= {alert.analyte for alert in protocol.alert_rules if alert.analyte}
    used |= {c.analyte for alert in protocol.alert_rules for c in alert.also}
    assert used <= set(INVESTIGATIONS)


@pytest.mark.parametrize("protocol", PROTOCOLS, ids=_ids)
def test_protocol_round_trips_through_json(protocol: Protocol) -> None:
    data = json.loads(json.dumps(protocol_to_dict(protocol)))
    assert protocol_from_dict(data) == protocol


def test_serialised_protocol_uses_plain_json_values() -> None:
    data = protocol_to_dict(get_protocol("alemtuzumab", "US", on=START))
    assert data["effective_from"] == "2026-01-01"
    assert data["label_region"] == "US"
    rule = next(r for r in data["monitoring_rules"] if r["key"] == "cbc_monthly")
    assert rule["until"] == {"anchor": "last_dose", "amount": 48, "unit": "months"}


def test_unknown_fields_are_rejected_on_load() -> None:
    data = protocol_to_dict(get_protocol("glatiramer", "EU", on=START))
    data["unexpected"] = 1
    with pytest.raises(ValueError, match="unexpected"):
        protocol_from_dict(data)


@pytest.mark.parametrize("protocol", PROTOCOLS, ids=_ids)
def test_every_verify_choice_is_recorded_in_prose(protocol: Protocol) -> None:
    """A rule whose text or sources say '(verify)' must say what we chose."""
    for rule in protocol.monitoring_rules:
        if "verify" in " ".join(rule.sources).lower():
            assert rule.verify_note, rule.key


def _label_gates(protocol: Protocol) -> list[Any]:
    """The rules that stop an action: dose gates and the label rules that are gates."""
    rules: list[Any] = [*protocol.dose_gates]
    rules += [
        rule
        for rule in (
            protocol.pregnancy,
            protocol.course_limit,
            protocol.course_delay,
            protocol.bsa_dosing,
        )
        if rule is not None
    ]
    return rules


@pytest.mark.parametrize("protocol", PROTOCOLS, ids=_ids)
def test_every_gate_carries_its_source_and_documents_its_verify_choice(
    protocol: Protocol,
) -> None:
    for rule in _label_gates(protocol):
        assert rule.source.strip(), rule
        words = " ".join(
            str(getattr(rule, name, "")) for name in ("text", "source", "contraception")
        )
        if "verify" in words.lower():
            assert rule.verify_note, rule
    if protocol.min_dose_interval_days is not None:
        assert protocol.min_dose_interval_source
        assert protocol.min_dose_interval_verify_note


@pytest.mark.parametrize("protocol", [p for p in PROTOCOLS if p.drug_key != "general"], ids=_ids)
def test_every_drug_says_what_it_means_in_pregnancy(protocol: Protocol) -> None:
    assert protocol.pregnancy is not None
    assert protocol.pregnancy.source


# §6: contraindicated in pregnancy; "avoid" or "not recommended unless needed"; may continue.
PREGNANCY = {
    "contraindicated": {"teriflunomide", "fingolimod", "siponimod", "cladribine", "mitoxantrone"},
    "allowed": {
        "interferon_beta_1a_im",
        "interferon_beta_1a_sc",
        "peginterferon_beta_1a",
        "interferon_beta_1b",
        "glatiramer",
        "natalizumab_iv",
        "natalizumab_sc",
    },
}


@pytest.mark.parametrize("protocol", [p for p in PROTOCOLS if p.drug_key != "general"], ids=_ids)
def test_pregnancy_use_follows_the_reference_table(protocol: Protocol) -> None:
    assert protocol.pregnancy is not None
    expected = next(
        (use for use, drugs in PREGNANCY.items() if protocol.drug_key in drugs), "avoid"
    )
    assert protocol.pregnancy.use == expected
    # Every drug not allowed in pregnancy asks for contraception, except the fumarates (§6:
    # stop at conception, no washout).
    needs = expected != "allowed" and "fumarate" not in protocol.drug_key
    assert bool(protocol.pregnancy.contraception) is needs


@pytest.mark.parametrize("protocol", PROTOCOLS, ids=_ids)
def test_every_verify_in_an_alert_gate_or_trigger_is_recorded_in_prose(protocol: Protocol) -> None:
    """Alert rules, dose gates and condition triggers too: a '(verify)' says what we chose."""
    for alert in protocol.alert_rules:
        if "verify" in f"{alert.source} {alert.action} {alert.event}".lower():
            assert alert.verify_note, alert.key
    for gate in protocol.dose_gates:
        if "verify" in f"{gate.source} {gate.text}".lower():
            assert gate.verify_note, gate.text
    for trigger in protocol.condition_triggers:
        assert trigger.source, trigger.condition
        if "verify" in trigger.source.lower():
            assert trigger.verify_note, trigger.condition


@pytest.mark.parametrize("protocol", PROTOCOLS, ids=_ids)
def test_schedule_runs_on_a_full_history(protocol: Protocol) -> None:
    stopped = months(20)
    events = PlanEvents(
        START,
        doses=(months(6), months(12)),
        courses=(START, months(12)),
        stopped_on=stopped,
        interruptions=((months(2), months(3)),),
    )
    items = schedule(protocol, events, horizon=months(72))
    assert items == sorted(items, key=lambda i: (i.due_on, i.rule_key, i.anchor_on))
    assert all(i.source and i.explanation.endswith(".") for i in items)
    # After the stop only duties that outlive it remain.
    assert all(i.survives_stop for i in items if i.due_on > stopped)


# --- registry ------------------------------------------------------------------------------------


def test_unknown_drug_is_a_lookup_error() -> None:
    with pytest.raises(LookupError, match="Unknown drug 'aspirin'"):
        get_protocol("aspirin", "US")


def test_unknown_region_is_a_lookup_error() -> None:
    with pytest.raises(LookupError, match="Unknown label region 'XX'"):
        get_protocol("fingolimod", "XX")


def test_date_before_the_first_version_is_a_lookup_error() -> None:
    with pytest.raises(LookupError, match="in effect on 2025-12-31"):
        get_protocol("fingolimod", "EU", on=date(2025, 12, 31))


def test_region_accepts_enum_and_string() -> None:
    assert get_protocol("fingolimod", Region.EU, on=START) == get_protocol(
        "fingolimod", "EU", on=START
    )


def test_latest_version_in_effect_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace

    from treatments.protocols import registry

    v1 = get_protocol("teriflunomide", "US", on=START)
    v2 = replace(v1, version="2027.1", effective_from=date(2027, 1, 1))
    monkeypatch.setattr(registry, "_PROTOCOLS", (*registry._PROTOCOLS, v2))
    assert get_protocol("teriflunomide", "US", on=date(2026, 12, 31)).version == "2026.2"
    assert get_protocol("teriflunomide", "US", on=date(2027, 1, 1)).version == "2027.1"


def test_regions_differ_where_the_labels_differ() -> None:
    us = get_protocol("teriflunomide", "US", on=START)
    eu = get_protocol("teriflunomide", "EU", on=START)
    assert {r.key for r in us.monitoring_rules} != {r.key for r in eu.monitoring_rules}
    assert us.label_region == Region.US
    assert eu.label_region == Region.EU


# --- investigations ------------------------------------------------------------------------------


REQUIRED_KEYS = {
    "numeric": "alt ast alp bilirubin ggt creatinine egfr wbc lymphocytes neutrophils platelets "
    "haemoglobin tsh free_t4 igg igm iga cd4 lvef qtc heart_rate systolic_bp diastolic_bp "
    "urine_protein_creatinine",
    "panel": "cbc lft renal immunoglobulins thyroid blood_pressure",
    "qualitative": "jcv_antibody vzv_igg hbsag anti_hbc hcv_ab hiv tb_igra pregnancy_test "
    "urinalysis cyp2c9",
    "procedure": "ecg first_dose_observation eye_exam skin_exam cervical_screening echo_lvef "
    "mri_brain neuro_review",
}


@pytest.mark.parametrize("kind", sorted(REQUIRED_KEYS))
def test_investigation_vocabulary_has_the_agreed_keys_and_kinds(kind: str) -> None:
    for key in REQUIRED_KEYS[kind].split():
        assert get_investigation(key).kind == InvestigationKind(kind), key


@pytest.mark.parametrize(
    ("panel", "components"),
    [
        ("cbc", ("wbc", "lymphocytes", "neutrophils", "platelets", "haemoglobin")),
        ("lft", ("alt", "ast", "alp", "bilirubin")),
        ("renal", ("creatinine", "egfr")),
        ("immunoglobulins", ("igg", "igm", "iga")),
        ("thyroid", ("tsh", "free_t4")),
        ("blood_pressure", ("systolic_bp", "diastolic_bp")),
        ("ecg", ("heart_rate", "qtc")),
        ("echo_lvef", ("lvef",)),
    ],
)
def test_panel_components(panel: str, components: tuple[str, ...]) -> None:
    assert analytes_of(panel) == components


def test_numeric_analytes_have_units_and_components_exist() -> None:
    for investigation in INVESTIGATIONS.values():
        if investigation.kind == InvestigationKind.NUMERIC:
            assert investigation.unit, investigation.key
        assert set(investigation.components) <= set(INVESTIGATIONS)
    assert get_investigation("lymphocytes").unit == "10*9/L"
    assert get_investigation("alt").unit == "U/L"
    assert get_investigation("bilirubin").unit_display == "µmol/L"


def test_loinc_verification_follows_the_reference() -> None:
    assert (get_investigation("alt").loinc, get_investigation("alt").loinc_verified) == (
        "1742-6",
        True,
    )
    assert get_investigation("ggt").loinc_verified is False
    assert get_investigation("igg").loinc_verified is False
    assert dict(get_investigation("jcv_antibody").result_fields) == {
        "status": "70173-0",
        "index": "100977-8",
    }


def test_unknown_investigation_is_a_lookup_error() -> None:
    with pytest.raises(LookupError, match="Unknown investigation key 'cd19'"):
        get_investigation("cd19")


def test_package_does_not_import_django() -> None:
    root = Path(protocols_package.__file__).parent
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            assert not any(name.split(".")[0] == "django" for name in names), path
