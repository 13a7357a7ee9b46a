"""Small constructors that keep the catalogue modules readable.

Windows: unless a rule sets them, an item may be done a quarter of its spacing early or late
(monthly: ±7 days; 3-monthly: ±22 days; 6-monthly or longer: ±30 days). These are app defaults
(CK), not label text.
"""

from __future__ import annotations

import dataclasses
import itertools
from datetime import date

from ..schema import (
    AlertRule,
    Anchor,
    Applies,
    BaselineCheck,
    Comparator,
    Condition,
    Criterion,
    DoseGate,
    GateEvent,
    Grade,
    MonitoringRule,
    PeriodUnit,
    PregnancyRule,
    PregnancyUse,
    Region,
    RelativeTo,
    TreatmentGap,
    Until,
)

# 2026.2: the label rules of issue #14 (§0.4, §3.3, §3.6, §3.12 as corrected 2026-11). Its
# effective date stays that of 2026.1, so a plan dated in 2026 still finds its protocol; in a
# database that holds both, the later-loaded version serves new plans (ProtocolVersion.in_effect,
# migration 0013) and running plans keep the version they pinned.
VERSION = "2026.2"
EFFECTIVE_FROM = date(2026, 1, 1)
SIX_MONTHS_DAYS = 183
THREE_MONTHS_DAYS = 92

_UNIT_DAYS = {PeriodUnit.MONTHS: 30, PeriodUnit.WEEKS: 7, PeriodUnit.DAYS: 1}


def label(region: Region, us_section: str = "§5", eu_section: str = "§4.4") -> str:
    """The source tag of the region's label section, e.g. ``US-PI §5`` or ``EU-SmPC §4.4``."""
    return f"US-PI {us_section}" if region == Region.US else f"EU-SmPC {eu_section}"


def _default_window(unit: PeriodUnit, offsets: tuple[int, ...], every: int | None) -> int:
    points = sorted(set(offsets))
    gaps = [b - a for a, b in itertools.pairwise(points)]
    if every is not None:
        gaps.append(every)
    spacing = min(gaps) if gaps else max(points[0] if points else 1, 1)
    return max(0, min(30, spacing * _UNIT_DAYS[unit] // 4))


def rule(
    key: str,
    investigation: str,
    text: str,
    sources: str | tuple[str, ...],
    *,
    anchor: Anchor = Anchor.FIRST_DOSE,
    unit: PeriodUnit = PeriodUnit.MONTHS,
    offsets: tuple[int, ...] = (),
    every: int | None = None,
    start: int | None = None,
    interval_setting: str | None = None,
    until: Until | None = None,
    before: int | None = None,
    after: int | None = None,
    survives_stop: bool = False,
    when: tuple[Condition, ...] = (),
    anchor_limit: int | None = None,
    merge_days: int = 0,
    verify: str = "",
    restart_after: tuple[TreatmentGap, ...] = (),
) -> MonitoringRule:
    window = _default_window(unit, offsets, every)
    return MonitoringRule(
        key=key,
        investigation=investigation,
        anchor=anchor,
        text=text,
        sources=(sources,) if isinstance(sources, str) else sources,
        unit=unit,
        offsets=offsets,
        repeat_every=every,
        repeat_start=start,
        interval_setting=interval_setting,
        until=until,
        window_before_days=window if before is None else before,
        window_after_days=window if after is None else after,
        survives_stop=survives_stop or anchor == Anchor.STOP,
        when=when,
        anchor_limit=anchor_limit,
        anchor_merge_days=merge_days,
        verify_note=verify,
        restart_after=restart_after,
    )


def check(
    investigation: str,
    required: bool,
    source: str,
    *,
    within_days: int | None = None,
    note: str = "",
) -> BaselineCheck:
    return BaselineCheck(investigation, required, within_days, note, source)


def gate(
    investigation: str,
    comparator: Comparator,
    before: GateEvent,
    text: str,
    source: str,
    *,
    analyte: str | None = None,
    threshold: float | str | None = None,
    relative_to: RelativeTo = RelativeTo.ABSOLUTE,
    unit: str = "",
    within_days: int | None = None,
    from_occurrence: int = 1,
    to_occurrence: int | None = None,
    verify: str = "",
) -> DoseGate:
    return DoseGate(
        investigation=investigation,
        comparator=comparator,
        before=before,
        text=text,
        source=source,
        analyte=analyte,
        threshold=threshold,
        relative_to=relative_to,
        unit=unit,
        within_days=within_days,
        from_occurrence=from_occurrence,
        to_occurrence=to_occurrence,
        verify_note=verify,
    )


def alert(
    key: str,
    analyte: str,
    comparator: Comparator,
    threshold: float | str | None,
    relative_to: RelativeTo,
    grade: Grade,
    action: str,
    source: str,
    *,
    unit: str = "",
    persistence: str = "",
    persistence_days: int | None = None,
    also: tuple[Criterion, ...] = (),
    verify: str = "",
    applies: Applies = Applies.ALWAYS,
    at_rule: str = "",
    at_occurrence: int | None = None,
) -> AlertRule:
    return AlertRule(
        key=key,
        comparator=comparator,
        grade=grade,
        action=action,
        source=source,
        analyte=analyte,
        threshold=threshold,
        relative_to=relative_to,
        unit=unit,
        persistence=persistence,
        persistence_days=persistence_days,
        also=also,
        verify_note=verify,
        applies=applies,
        at_rule=at_rule,
        at_occurrence=at_occurrence,
    )


def event_alert(
    key: str, event: str, grade: Grade, action: str, source: str, *, verify: str = ""
) -> AlertRule:
    """An alert on a clinical event rather than a lab value."""
    return AlertRule(
        key=key,
        comparator=Comparator.PRESENT,
        grade=grade,
        action=action,
        source=source,
        event=event,
        verify_note=verify,
    )


CELLS = "10*9/L"
LT, LE, GT, GE = Comparator.LT, Comparator.LE, Comparator.GT, Comparator.GE
ULN, LLN, ABS, BASE = RelativeTo.ULN, RelativeTo.LLN, RelativeTo.ABSOLUTE, RelativeTo.BASELINE
INFO, WARNING, CRITICAL, GATE = Grade.INFO, Grade.WARNING, Grade.CRITICAL, Grade.GATE


def pml_symptoms_alert(source: str) -> AlertRule:
    return event_alert(
        "pml_symptoms",
        "New or worsening neurological symptoms suggesting PML",
        CRITICAL,
        "Withhold the next dose; urgent MRI with DWI ± CSF JCV DNA PCR.",
        source,
    )


def pregnancy_alert(source: str, action: str = "Stop the drug; urgent counselling.") -> AlertRule:
    return alert(
        "pregnancy_positive",
        "pregnancy_test",
        Comparator.POSITIVE,
        None,
        ABS,
        CRITICAL,
        action,
        source,
    )


def pregnancy_gate(before: GateEvent, source: str, *, within_days: int = 7) -> DoseGate:
    return gate(
        "pregnancy_test",
        Comparator.NEGATIVE,
        before,
        "Negative pregnancy test (women of childbearing potential)",
        source,
        within_days=within_days,
    )


LIVER_ENZYMES = ("alt", "ast")


def alt_and_ast(alt_rule: AlertRule, *, ast_verify: str | None = None) -> tuple[AlertRule, ...]:
    """An ALT rule and the same rule on AST (§0.4, corrected 2026-11: the liver rules read ALT
    *or* AST). The AST twin's key swaps the prefix (``alt_gt_3_uln`` -> ``ast_gt_3_uln``) and
    its criteria on ALT move to AST; other criteria (bilirubin) stay."""
    if alt_rule.analyte != "alt" or not alt_rule.key.startswith("alt_"):
        raise ValueError(f"{alt_rule.key}: alt_and_ast takes an ALT rule")
    also = tuple(
        dataclasses.replace(c, analyte="ast") if c.analyte == "alt" else c for c in alt_rule.also
    )
    twin = dataclasses.replace(
        alt_rule,
        key="ast_" + alt_rule.key.removeprefix("alt_"),
        analyte="ast",
        also=also,
        verify_note=alt_rule.verify_note if ast_verify is None else ast_verify,
    )
    return (alt_rule, twin)


CONTRAINDICATED, AVOID, ALLOWED = (
    PregnancyUse.CONTRAINDICATED,
    PregnancyUse.AVOID,
    PregnancyUse.ALLOWED,
)


def pregnancy(
    use: PregnancyUse,
    source: str,
    contraception: str = "",
    *,
    men: bool = False,
    verify: str = "",
) -> PregnancyRule:
    """The drug in pregnancy (§6): refused for a recorded pregnancy unless allowed; the
    contraception the label asks for is confirmed at the start."""
    return PregnancyRule(
        use=use,
        source=source,
        contraception=contraception,
        contraception_for_men=men,
        verify_note=verify,
    )
