"""Consistency checks on protocol data, run when the registry loads (fail loudly)."""

from __future__ import annotations

from .investigations import INVESTIGATIONS
from .schema import Anchor, Protocol


def protocol_problems(protocol: Protocol) -> list[str]:
    """Human-readable problems with one protocol; empty if it is sound."""
    problems: list[str] = []
    where = protocol.label

    def known(key: str | None, what: str) -> None:
        if key is not None and key not in INVESTIGATIONS:
            problems.append(f"{where}: {what} uses unknown investigation {key!r}")

    keys = [r.key for r in protocol.monitoring_rules]
    for key in {k for k in keys if keys.count(k) > 1}:
        problems.append(f"{where}: duplicate rule key {key!r}")
    for r in protocol.monitoring_rules:
        known(r.investigation, f"rule {r.key}")
        if not r.sources or not all(s.strip() for s in r.sources):
            problems.append(f"{where}: rule {r.key} has no source")
        if not r.offsets and not r.is_recurring:
            problems.append(f"{where}: rule {r.key} has neither offsets nor a repeat")
        if any(o < 0 for o in r.offsets) or (r.repeat_every is not None and r.repeat_every < 1):
            problems.append(f"{where}: rule {r.key} has a negative offset or bad interval")
        if r.anchor == Anchor.STOP and not r.survives_stop:
            problems.append(f"{where}: stop-anchored rule {r.key} must survive the stop")
        series_anchors = (Anchor.EACH_DOSE, Anchor.EACH_COURSE)
        if r.until is not None and r.until.anchor in series_anchors and r.until.anchor != r.anchor:
            problems.append(f"{where}: rule {r.key} ends relative to another series")
        if r.window_before_days < 0 or r.window_after_days < 0:
            problems.append(f"{where}: rule {r.key} has a negative window")
        if not r.text.strip():
            problems.append(f"{where}: rule {r.key} has no text")
        if (r.anchor == Anchor.RESTART) != bool(r.restart_after):
            problems.append(f"{where}: rule {r.key}: a restart anchor and its gaps go together")
    for check in protocol.baseline_checks:
        known(check.investigation, "baseline check")
        if not check.source:
            problems.append(f"{where}: baseline {check.investigation} has no source")
    for gate in protocol.dose_gates:
        known(gate.investigation, "dose gate")
        known(gate.analyte, "dose gate analyte")
        if not gate.source:
            problems.append(f"{where}: gate {gate.text!r} has no source")
    for trigger in protocol.condition_triggers:
        known(trigger.analyte, f"condition trigger {trigger.condition}")
        if not trigger.source:
            problems.append(f"{where}: condition trigger {trigger.condition} has no source")
    if protocol.min_dose_interval_days is not None and not protocol.min_dose_interval_source:
        problems.append(f"{where}: the minimum dose interval has no source")
    label_gates = {
        "pregnancy rule": protocol.pregnancy,
        "course limit": protocol.course_limit,
        "course delay limit": protocol.course_delay,
        "BSA dosing": protocol.bsa_dosing,
    }
    for what, label_gate in label_gates.items():
        if label_gate is not None and not label_gate.source.strip():
            problems.append(f"{where}: the {what} has no source")
    if protocol.course_delay is not None:
        known(protocol.course_delay.analyte, "course delay limit")
    if protocol.genotype_dosing:
        known(protocol.genotype_investigation, "genotype dosing")
        allowed = INVESTIGATIONS.get(protocol.genotype_investigation)
        covered = sorted(g for dosing in protocol.genotype_dosing for g in dosing.genotypes)
        if allowed is None or covered != sorted(allowed.allowed_values):
            problems.append(f"{where}: genotype dosing must cover each listed genotype once")
        for dosing in protocol.genotype_dosing:
            if not dosing.source:
                problems.append(f"{where}: genotype dosing {dosing.genotypes} has no source")
    alert_keys = [a.key for a in protocol.alert_rules]
    for key in {k for k in alert_keys if alert_keys.count(k) > 1}:
        problems.append(f"{where}: duplicate alert key {key!r}")
    for alert in protocol.alert_rules:
        known(alert.analyte, f"alert {alert.key}")
        for criterion in alert.also:
            known(criterion.analyte, f"alert {alert.key}")
        if alert.analyte is None and not alert.event:
            problems.append(f"{where}: alert {alert.key} has neither analyte nor event")
        if not alert.source:
            problems.append(f"{where}: alert {alert.key} has no source")
        if alert.at_rule and alert.at_rule not in keys:
            problems.append(f"{where}: alert {alert.key} is tied to unknown rule {alert.at_rule!r}")
        if alert.at_occurrence is not None and not alert.at_rule:
            problems.append(f"{where}: alert {alert.key} names an occurrence without a rule")
    return problems
