"""Confirmed disability progression (CDP), the caseload EDSS trend, and NEDA-3 per year.

Pure and free of Django (standard library only). Section numbers ("§9.2") point to the shared
reference ``dmt-monitoring.md``. Where the reference leaves a choice open, the choice is made
here, named in a docstring, and exposed as a keyword argument so a clinic can change it.

Choices made (all §9.2 unless said otherwise):

* Required increase: +1.5 from a baseline of 0, +1.0 from 1.0 to 5.5, +0.5 from 6.0 up.
  ``half_point_from`` moves the last cut-off (some trials use 5.5, i.e. "above 5.0").
* Confirmation: the first usable assessment at least ``confirmation_days`` after the worsening
  (default 84 days = 12 weeks, "3-month CDP"; pass 168 for 24 weeks) must still be at or above
  the required level, and so must every usable assessment in between ("the increase must
  persist"). A dip below the level in between means the worsening was not sustained.
* Relapse window: an assessment on or after a relapse onset and up to ``relapse_window_days``
  (default 30) after the relapse ends is not used as baseline, worsening or confirmation. A
  relapse without an end date is taken to end on its onset day, so the window runs 30 days from
  onset (the MSoutcomes/CORe default) instead of excluding every later visit.
* Baseline: fixed. It is the first usable assessment passed in, so pass the assessments from
  the chosen start (e.g. the start of the current DMT). After a confirmed event the confirming
  assessment becomes the baseline for the next one.

PIRA or RAW (``label_progressions``; Kappos 2020, Lublin 2022; the reference says "verify chosen
window", so the window is a keyword argument and its values are shown with every label):

* **RAW** (relapse-associated worsening): a relapse began within ``window_before_days``
  (default 90) before to ``window_after_days`` (default 30) after the onset of the worsening.
* **PIRA** (progression independent of relapse activity): no relapse in that window, *and* the
  worsening still meets the required increase when measured from a **roving baseline re-set
  after each relapse**: the first usable assessment after the last relapse that began between
  the event's baseline and its onset. If that re-baseline rise falls short (the step up was
  left by the relapse), or no usable assessment separates the relapse from the worsening, the
  event is RAW.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Literal

CONFIRMATION_12_WEEKS = 84
# PIRA window around the onset of worsening (Kappos 2020 JAMA Neurol; Lublin 2022 Brain).
PIRA_WINDOW_BEFORE_DAYS = 90
PIRA_WINDOW_AFTER_DAYS = 30
CONFIRMATION_24_WEEKS = 168
RELAPSE_WINDOW_DAYS = 30
HALF_POINT_FROM = Decimal("6.0")

# The EDSS has no step 0.5: after 0 it runs from 1.0 to 10.0 in half steps (§7.3, §7.4).
_VALID_STEPS = frozenset([Decimal(0), *(Decimal(half) / 2 for half in range(2, 21))])

Trend = Literal["up", "down", "stable"]


@dataclass(frozen=True)
class EdssPoint:
    """One EDSS assessment: the day it was scored and the step."""

    on: date
    step: Decimal

    def __post_init__(self) -> None:
        if not isinstance(self.step, Decimal) or self.step not in _VALID_STEPS:
            raise ValueError(
                f"EDSS step must be 0 or 1.0 to 10.0 in steps of 0.5 (got {self.step!r})."
            )


@dataclass(frozen=True)
class RelapsePeriod:
    """A relapse from its onset to its end (``None`` when no end was recorded)."""

    onset_on: date
    end_on: date | None = None

    def __post_init__(self) -> None:
        if self.end_on is not None and self.end_on < self.onset_on:
            raise ValueError(
                f"Relapse end ({self.end_on}) cannot be before its onset ({self.onset_on})."
            )

    def excludes(self, day: date, *, window_days: int = RELAPSE_WINDOW_DAYS) -> bool:
        """Whether an EDSS scored on ``day`` is too close to this relapse to be used (§9.2)."""
        last_day = (self.end_on or self.onset_on) + timedelta(days=window_days)
        return self.onset_on <= day <= last_day


@dataclass(frozen=True)
class MriPoint:
    """One MRI study, with lesion counts read against the previous (or re-baseline) scan.

    ``is_baseline`` marks a (re-)baseline scan: the reference for later scans (§9.3, §10).
    """

    on: date
    new_or_enlarging_t2: int
    gad_enhancing: int
    is_baseline: bool = False

    def __post_init__(self) -> None:
        for name in ("new_or_enlarging_t2", "gad_enhancing"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a whole number of 0 or more (got {value!r}).")

    @property
    def is_active(self) -> bool:
        return self.new_or_enlarging_t2 > 0 or self.gad_enhancing > 0


@dataclass(frozen=True)
class ProgressionFinding:
    """A confirmed disability progression event and the rule version that found it (§9.2)."""

    baseline: EdssPoint
    worsening: EdssPoint
    confirmation: EdssPoint
    required_increase: Decimal
    confirmation_days: int
    relapse_window_days: int
    half_point_from: Decimal
    explanation: str

    @property
    def worsened_on(self) -> date:
        return self.worsening.on

    @property
    def confirmed_on(self) -> date:
        return self.confirmation.on


def required_increase(baseline: Decimal, *, half_point_from: Decimal = HALF_POINT_FROM) -> Decimal:
    """The EDSS increase that counts as worsening from ``baseline`` (§9.2 table)."""
    if baseline == 0:
        return Decimal("1.5")
    if baseline >= half_point_from:
        return Decimal("0.5")
    return Decimal("1.0")


def find_confirmed_progressions(
    assessments: Sequence[EdssPoint],
    relapses: Sequence[RelapsePeriod] = (),
    *,
    confirmation_days: int = CONFIRMATION_12_WEEKS,
    relapse_window_days: int = RELAPSE_WINDOW_DAYS,
    half_point_from: Decimal = HALF_POINT_FROM,
) -> list[ProgressionFinding]:
    """Every confirmed progression event, oldest first (rules in the module docstring)."""
    scan = _Scan(confirmation_days, relapse_window_days, half_point_from)
    return scan.run(_usable(assessments, relapses, relapse_window_days)).events


def find_confirmed_progression(
    assessments: Sequence[EdssPoint],
    relapses: Sequence[RelapsePeriod] = (),
    *,
    confirmation_days: int = CONFIRMATION_12_WEEKS,
    relapse_window_days: int = RELAPSE_WINDOW_DAYS,
    half_point_from: Decimal = HALF_POINT_FROM,
) -> ProgressionFinding | None:
    """The first confirmed progression event from the baseline, or ``None``."""
    events = find_confirmed_progressions(
        assessments,
        relapses,
        confirmation_days=confirmation_days,
        relapse_window_days=relapse_window_days,
        half_point_from=half_point_from,
    )
    return events[0] if events else None


class ProgressionKind(StrEnum):
    PIRA = "pira"
    RAW = "raw"

    @property
    def label(self) -> str:
        return {
            ProgressionKind.PIRA: "Progression independent of relapse activity (PIRA)",
            ProgressionKind.RAW: "Relapse-associated worsening (RAW)",
        }[self]


@dataclass(frozen=True)
class LabelledProgression:
    """A confirmed progression event labelled PIRA or RAW, with the rule that decided it."""

    finding: ProgressionFinding
    kind: ProgressionKind
    reference: EdssPoint  # the baseline the label was measured from (re-set after a relapse)
    window_before_days: int
    window_after_days: int
    reason: str

    @property
    def rule(self) -> str:
        return (
            f"No relapse from {self.window_before_days} days before to "
            f"{self.window_after_days} days after the onset of worsening, measured from a "
            "baseline re-set after each relapse"
        )


def label_progressions(
    assessments: Sequence[EdssPoint],
    relapses: Sequence[RelapsePeriod] = (),
    *,
    window_before_days: int = PIRA_WINDOW_BEFORE_DAYS,
    window_after_days: int = PIRA_WINDOW_AFTER_DAYS,
    confirmation_days: int = CONFIRMATION_12_WEEKS,
    relapse_window_days: int = RELAPSE_WINDOW_DAYS,
    half_point_from: Decimal = HALF_POINT_FROM,
) -> list[LabelledProgression]:
    """Every confirmed progression event, oldest first, labelled PIRA or RAW (rules in the
    module docstring)."""
    findings = find_confirmed_progressions(
        assessments,
        relapses,
        confirmation_days=confirmation_days,
        relapse_window_days=relapse_window_days,
        half_point_from=half_point_from,
    )
    usable = _usable(assessments, relapses, relapse_window_days)
    labelled = []
    for finding in findings:
        kind, reference, reason = _label(
            finding,
            relapses,
            usable,
            before=window_before_days,
            after=window_after_days,
            relapse_window_days=relapse_window_days,
            half_point_from=half_point_from,
        )
        labelled.append(
            LabelledProgression(
                finding=finding,
                kind=kind,
                reference=reference,
                window_before_days=window_before_days,
                window_after_days=window_after_days,
                reason=reason,
            )
        )
    return labelled


def _label(
    finding: ProgressionFinding,
    relapses: Sequence[RelapsePeriod],
    usable: Sequence[EdssPoint],
    *,
    before: int,
    after: int,
    relapse_window_days: int,
    half_point_from: Decimal,
) -> tuple[ProgressionKind, EdssPoint, str]:
    onset = finding.worsened_on
    first_day, last_day = onset - timedelta(days=before), onset + timedelta(days=after)
    in_window = sorted(r.onset_on for r in relapses if first_day <= r.onset_on <= last_day)
    if in_window:
        return (
            ProgressionKind.RAW,
            finding.baseline,
            f"A relapse began on {_dates(in_window)}, within {before} days before to {after} "
            f"days after the onset of worsening on {onset}.",
        )
    between = [r for r in relapses if finding.baseline.on < r.onset_on < onset]
    if not between:
        return (
            ProgressionKind.PIRA,
            finding.baseline,
            f"No relapse between the baseline on {finding.baseline.on} and {after} days after "
            f"the onset of worsening on {onset}.",
        )
    last = max(between, key=lambda r: r.onset_on)
    window_end = (last.end_on or last.onset_on) + timedelta(days=relapse_window_days)
    reference = next((p for p in usable if window_end < p.on < onset), None)
    if reference is None:
        return (
            ProgressionKind.RAW,
            finding.baseline,
            f"No usable EDSS between the relapse of {last.onset_on} and the onset of worsening "
            f"on {onset}: the rise cannot be told apart from the relapse.",
        )
    level = reference.step + required_increase(reference.step, half_point_from=half_point_from)
    if finding.worsening.step >= level and finding.confirmation.step >= level:
        return (
            ProgressionKind.PIRA,
            reference,
            f"Measured from the baseline re-set after the relapse of {last.onset_on} "
            f"({reference.step} on {reference.on}), EDSS still rose to {finding.worsening.step} "
            f"and was confirmed at {finding.confirmation.step}.",
        )
    return (
        ProgressionKind.RAW,
        reference,
        f"Measured from the baseline re-set after the relapse of {last.onset_on} "
        f"({reference.step} on {reference.on}), the rise to {finding.worsening.step} is less "
        f"than the {level} needed: the step up was left by the relapse.",
    )


def edss_trend(
    points: Iterable[EdssPoint], *, half_point_from: Decimal = HALF_POINT_FROM
) -> Trend | None:
    """The caseload arrow: the latest EDSS against the one before it.

    A change counts only if it is as large as a §9.2 worsening measured from the lower of the
    two scores (so 0 to 1.5 is "up", 6.0 to 6.5 is "up", 2.0 to 2.5 is "stable"); the same
    rule read downwards gives "down". It is a single unconfirmed comparison, not a CDP.
    ``None`` with fewer than two assessments.
    """
    ordered = sorted(points, key=lambda point: point.on)
    if len(ordered) < 2:
        return None
    previous, latest = ordered[-2].step, ordered[-1].step
    lower, higher = min(previous, latest), max(previous, latest)
    if higher - lower < required_increase(lower, half_point_from=half_point_from):
        return "stable"
    return "up" if latest > previous else "down"


class NedaComponent(StrEnum):
    """The three parts of NEDA-3 (§9.3)."""

    RELAPSE = "relapse"
    MRI_ACTIVITY = "mri_activity"
    PROGRESSION = "confirmed_progression"

    @property
    def label(self) -> str:
        return {
            NedaComponent.RELAPSE: "relapse",
            NedaComponent.MRI_ACTIVITY: "MRI activity",
            NedaComponent.PROGRESSION: "confirmed disability progression",
        }[self]


@dataclass(frozen=True)
class NedaStatus:
    """NEDA-3 for one calendar year.

    ``achieved`` is ``True`` (no evidence of disease activity), ``False`` (at least one
    component in ``failed``) or ``None`` (not evaluable: see ``not_evaluable``). Evidence of
    activity wins over missing data. ``explanations`` has one sentence per component.
    """

    year: int
    achieved: bool | None
    failed: tuple[NedaComponent, ...]
    not_evaluable: tuple[NedaComponent, ...]
    explanations: tuple[str, ...]

    @property
    def summary(self) -> str:
        if self.achieved:
            return f"NEDA-3 achieved in {self.year}."
        if self.achieved is False:
            return f"NEDA-3 not achieved in {self.year}: {_labels(self.failed)}."
        return (
            f"NEDA-3 not evaluable for {self.year}: {_labels(self.not_evaluable)} cannot be judged."
        )


def neda3_for_year(
    year: int,
    relapses: Sequence[RelapsePeriod],
    mri_studies: Sequence[MriPoint],
    assessments: Sequence[EdssPoint],
    *,
    confirmation_days: int = CONFIRMATION_12_WEEKS,
    relapse_window_days: int = RELAPSE_WINDOW_DAYS,
    half_point_from: Decimal = HALF_POINT_FROM,
) -> NedaStatus:
    """NEDA-3 over the calendar ``year`` (§9.3): no relapse, no MRI activity, no CDP.

    * Relapse: a relapse counts for the year of its onset.
    * MRI activity: any new or enlarging T2 or gadolinium-enhancing lesion on a scan in the
      year. A re-baseline scan (``is_baseline``) is the reference, not a finding: its lesions
      are read against the pre-treatment scan, before the DMT had time to work (§9.3, §10), so
      it is not counted, and a year whose only scans are re-baseline scans is not evaluable.
    * Progression: a confirmed event (rules of ``find_confirmed_progressions``, over all the
      assessments passed) whose worsening falls in the year; its confirmation may fall later.
      Not evaluable without a usable EDSS in the year, or while a worsening in the year still
      awaits its confirmation visit.
    """
    first_day, last_day = date(year, 1, 1), date(year, 12, 31)

    def in_year(day: date) -> bool:
        return first_day <= day <= last_day

    failed: list[NedaComponent] = []
    not_evaluable: list[NedaComponent] = []
    explanations: list[str] = []

    onsets = sorted(relapse.onset_on for relapse in relapses if in_year(relapse.onset_on))
    if onsets:
        failed.append(NedaComponent.RELAPSE)
        explanations.append(f"Relapse with onset on {_dates(onsets)}.")
    else:
        explanations.append(f"No relapse with onset in {year}.")

    scans = sorted((scan for scan in mri_studies if in_year(scan.on)), key=lambda s: s.on)
    rebaselines = [scan for scan in scans if scan.is_baseline]
    followups = [scan for scan in scans if not scan.is_baseline]
    active = [scan for scan in followups if scan.is_active]
    rebaseline_note = (
        f" The re-baseline scan of {_dates([s.on for s in rebaselines])} is the reference and "
        "is not counted."
        if rebaselines
        else ""
    )
    if active:
        failed.append(NedaComponent.MRI_ACTIVITY)
        findings = "; ".join(
            f"{scan.on}: {scan.new_or_enlarging_t2} new or enlarging T2, "
            f"{scan.gad_enhancing} gadolinium-enhancing"
            for scan in active
        )
        explanations.append(f"MRI activity ({findings}).{rebaseline_note}")
    elif followups:
        explanations.append(
            f"No new or enlarging T2 and no gadolinium-enhancing lesions on the MRI of "
            f"{_dates([s.on for s in followups])}.{rebaseline_note}"
        )
    else:
        not_evaluable.append(NedaComponent.MRI_ACTIVITY)
        if rebaselines:
            explanations.append(
                f"Only a re-baseline MRI in {year} ({_dates([s.on for s in rebaselines])}): "
                "no scan was read against it, so MRI activity cannot be judged."
            )
        else:
            explanations.append(f"No MRI in {year}, so MRI activity cannot be judged.")

    usable = _usable(assessments, relapses, relapse_window_days)
    scan_result = _Scan(confirmation_days, relapse_window_days, half_point_from).run(usable)
    events = [event for event in scan_result.events if in_year(event.worsened_on)]
    pending = scan_result.pending
    if events:
        failed.append(NedaComponent.PROGRESSION)
        explanations.append(" ".join(event.explanation for event in events))
    elif pending is not None and in_year(pending.on):
        not_evaluable.append(NedaComponent.PROGRESSION)
        explanations.append(
            f"EDSS worsened to {pending.step} on {pending.on} and awaits a confirmation visit "
            f"at least {confirmation_days} days later."
        )
    elif not any(in_year(point.on) for point in usable):
        not_evaluable.append(NedaComponent.PROGRESSION)
        excluded = any(in_year(point.on) for point in assessments)
        explanations.append(
            f"No EDSS in {year} outside the {relapse_window_days}-day relapse window, "
            "so progression cannot be judged."
            if excluded
            else f"No EDSS in {year}, so progression cannot be judged."
        )
    else:
        explanations.append(f"No confirmed disability progression starting in {year}.")

    achieved = False if failed else (None if not_evaluable else True)
    return NedaStatus(
        year=year,
        achieved=achieved,
        failed=tuple(failed),
        not_evaluable=tuple(not_evaluable),
        explanations=tuple(explanations),
    )


def _usable(
    assessments: Iterable[EdssPoint], relapses: Sequence[RelapsePeriod], window_days: int
) -> list[EdssPoint]:
    """Assessments outside every relapse window, oldest first (§9.2)."""
    return sorted(
        (
            point
            for point in assessments
            if not any(relapse.excludes(point.on, window_days=window_days) for relapse in relapses)
        ),
        key=lambda point: point.on,
    )


@dataclass(frozen=True)
class _ScanResult:
    events: list[ProgressionFinding]
    pending: EdssPoint | None  # a worsening with no confirmation visit yet


@dataclass(frozen=True)
class _Scan:
    confirmation_days: int
    relapse_window_days: int
    half_point_from: Decimal

    def run(self, usable: list[EdssPoint]) -> _ScanResult:
        events: list[ProgressionFinding] = []
        if not usable:
            return _ScanResult(events, None)
        baseline, index = usable[0], 1
        while index < len(usable):
            increase = required_increase(baseline.step, half_point_from=self.half_point_from)
            level = baseline.step + increase
            candidate = usable[index]
            if candidate.step < level:
                index += 1
                continue
            decider = self._deciding_visit(usable, index, level)
            if decider is None:
                return _ScanResult(events, candidate)
            confirmation = usable[decider]
            if confirmation.step < level:
                index += 1
                continue
            events.append(self._finding(baseline, candidate, confirmation, increase, level))
            baseline, index = confirmation, decider + 1
        return _ScanResult(events, None)

    def _deciding_visit(self, usable: list[EdssPoint], index: int, level: Decimal) -> int | None:
        """Index of the visit that decides the worsening at ``index``: the first one below
        ``level`` (not sustained) or far enough on (confirmation); ``None`` while pending."""
        worsening = usable[index]
        for later_index in range(index + 1, len(usable)):
            later = usable[later_index]
            if later.step < level or (later.on - worsening.on).days >= self.confirmation_days:
                return later_index
        return None

    def _finding(
        self,
        baseline: EdssPoint,
        worsening: EdssPoint,
        confirmation: EdssPoint,
        increase: Decimal,
        level: Decimal,
    ) -> ProgressionFinding:
        days = (confirmation.on - worsening.on).days
        explanation = (
            f"EDSS rose from {baseline.step} (baseline, {baseline.on}) to {worsening.step} on "
            f"{worsening.on}, at least the +{increase} needed from {baseline.step} (§9.2), and "
            f"stayed at {level} or more until the confirmation visit on {confirmation.on} "
            f"({confirmation.step}, {days} days later; at least {self.confirmation_days} "
            "needed)."
        )
        return ProgressionFinding(
            baseline=baseline,
            worsening=worsening,
            confirmation=confirmation,
            required_increase=increase,
            confirmation_days=self.confirmation_days,
            relapse_window_days=self.relapse_window_days,
            half_point_from=self.half_point_from,
            explanation=explanation,
        )


def _dates(days: Sequence[date]) -> str:
    texts = [day.isoformat() for day in days]
    if len(texts) == 1:
        return texts[0]
    return ", ".join(texts[:-1]) + " and " + texts[-1]


def _labels(components: Sequence[NedaComponent]) -> str:
    return ", ".join(component.label for component in components)
