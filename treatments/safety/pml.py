"""Natalizumab PML risk stratification (§4 of ``/work/shared/reference/dmt-monitoring.md``).

Pure functions; no Django. Inputs are the anti-JCV antibody history (§4.1.1), natalizumab
exposure (§4.1.2) and prior immunosuppressant use (§4.1.3); the output is a frozen
:class:`PmlRisk` with a stable category key, the §4.3 estimate and the §4.4 MRI interval.

Deliberate choices where §4 leaves room (each is also stated where it is applied):

* **Once positive, stays positive.** A negative result after a positive one does not lower the
  category: the assay has ~3 % false negatives and the index drifts around the cut-off (§4.1).
* **Highest index on record** is the index used for the bands, for the same reason; the
  explanation names both it and the latest index.
* **Infusions count as months** when months are not given (§4.1: "24 months (~24 infusions)").
  Under extended-interval dosing this understates time on drug, so the explanation asks for months.
* **MRI intervals** (§4.4, partly "(verify)"): JCV negative 12 months; JCV+ with index ≤ 1.5 and
  no prior immunosuppressant 6 months from 18 months of exposure (UK-PML-2016; the EU label's
  "more frequent" is not a number); high-risk features 3 months from 18 months of exposure (the
  frequent end of "3-4 months"; EU allows up to 6); 12 months before 18 months of exposure.
  Where the index or the immunosuppressant history is missing, the more frequent interval is used.
* **Risk numbers** are the Berger-Fox-2016 table of §4.3, marked "(verify numbers)" there: they
  are quoted as approximate and the source says to check the current EU-SmPC table. When prior
  immunosuppressant use is not recorded the prior-IS row (the higher estimate) is quoted.
* **Extended-interval dosing** changes neither the category nor the surveillance (§4.5: "keep
  PML surveillance unchanged"); it is mentioned in the explanation only.
* **Missing data** gives the ``unknown`` category (WARNING, no MRI interval) whenever the answer
  depends on what is missing; when it does not (e.g. JCV negative with unknown exposure) the
  category is still given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import Final

__all__ = [
    "CATEGORIES",
    "RISK_PER_1000",
    "JcvReading",
    "JcvResult",
    "PmlRisk",
    "assess_pml_risk",
    "category_changed",
    "first_seroconversion",
    "read_index",
    "schedule_condition",
]

INDEX_NEGATIVE_BELOW: Final = Decimal("0.20")  # §4.1: < 0.20 negative
INDEX_POSITIVE_ABOVE: Final = Decimal("0.40")  # §4.1: > 0.40 positive; 0.20-0.40 indeterminate
LOW_INDEX_MAX: Final = Decimal("0.9")  # §4.2: low risk if index ≤ 0.9
HIGH_INDEX_ABOVE: Final = Decimal("1.5")  # §4.2: high risk if index > 1.5 (after 24 months)
EXPOSURE_STEP_MONTHS: Final = 24  # §4.2: the step-up is *after* 24 months
MRI_STEP_MONTHS: Final = 18  # §4.4: "from ~18-24 months"; the earlier end is used
JCV_RETEST_MONTHS: Final = 6  # §4.1: every 6 months while negative or index ≤ 1.5

INFO: Final = "INFO"
WARNING: Final = "WARNING"
CRITICAL: Final = "CRITICAL"


class JcvReading(StrEnum):
    POSITIVE = "positive"
    NEGATIVE = "negative"
    INDETERMINATE = "indeterminate"


def read_index(index: Decimal) -> JcvReading:
    """The lab reading of an anti-JCV index (§4.1): < 0.20 negative, 0.20-0.40 indeterminate
    (needs the reflex confirmation assay), > 0.40 positive."""
    if index < INDEX_NEGATIVE_BELOW:
        return JcvReading.NEGATIVE
    if index > INDEX_POSITIVE_ABOVE:
        return JcvReading.POSITIVE
    return JcvReading.INDETERMINATE


@dataclass(frozen=True)
class JcvResult:
    """One dated anti-JCV antibody result.

    ``status`` is the lab's reported status after any confirmation assay ("positive" or
    "negative"); ``index`` is the STRATIFY JCV index. At least one is required; a status that
    contradicts the index outside the 0.20-0.40 band is a data error.
    """

    tested_on: date
    index: Decimal | None = None
    status: JcvReading | None = None

    def __post_init__(self) -> None:
        if self.index is None and self.status is None:
            raise ValueError("A JCV result needs an index or a status.")
        if self.status is not None:
            object.__setattr__(self, "status", JcvReading(self.status))
            if self.status is JcvReading.INDETERMINATE:
                raise ValueError("A reported status is positive or negative, not indeterminate.")
        if self.index is not None:
            if self.index < 0:
                raise ValueError(f"A JCV index cannot be negative ({self.index}).")
            from_index = read_index(self.index)
            if self.status is not None and from_index not in (
                JcvReading.INDETERMINATE,
                self.status,
            ):
                raise ValueError(
                    f"Status {self.status} contradicts index {self.index} (reads {from_index})."
                )

    @property
    def reading(self) -> JcvReading:
        if self.status is not None:
            return self.status
        assert self.index is not None  # __post_init__ guarantees one of the two
        return read_index(self.index)


@dataclass(frozen=True)
class PmlRisk:
    """The PML risk category for a patient on natalizumab (§4.2-§4.4).

    ``category`` is a stable key (see :data:`CATEGORIES`); ``grade`` is the §4.2 suggested app
    grade; ``mri_interval_months`` is ``None`` only for ``unknown``; ``jcv_retest_months`` is the
    interval after the latest test, 0 meaning "test now" and ``None`` "no routine retest".
    """

    category: str
    label: str
    grade: str
    estimated_risk_per_1000: str
    risk_basis: str
    mri_interval_months: int | None
    jcv_retest_months: int | None
    explanation: str
    source: str
    seroconverted: bool = False
    index_used: Decimal | None = None
    exposure_months: int | None = None
    schedule_condition: str = ""
    """The catalogue condition that sets the surveillance MRI the worklist schedules:
    :data:`SCHEDULE_JCV_POSITIVE` (every 6 months from month 18), :data:`SCHEDULE_HIGH_RISK`
    (every 3 months from month 18), or "" (JCV negative or not known positive: the yearly MRI
    of the general duties). See :func:`schedule_condition`."""


# The natalizumab protocol's conditions (treatments.protocols.Condition values), kept as plain
# strings so this module stays free of the catalogue.
SCHEDULE_JCV_POSITIVE: Final = "jcv_positive"
SCHEDULE_HIGH_RISK: Final = "pml_high_risk"

UNKNOWN: Final = "unknown"
LOWEST: Final = "lowest"
LOW: Final = "low"
FIRST_24_MONTHS: Final = "first_24_months"
INTERMEDIATE: Final = "intermediate"
HIGH: Final = "high"

CATEGORIES: Final[Mapping[str, str]] = MappingProxyType(
    {
        UNKNOWN: "PML risk not stratified (data missing)",
        LOWEST: "Lowest risk: anti-JCV antibody negative",
        LOW: "Low risk: JCV positive, index ≤ 0.9, no prior immunosuppressant",
        FIRST_24_MONTHS: "JCV positive, within the first 24 months of treatment",
        INTERMEDIATE: "Intermediate risk: JCV positive, index > 0.9 to 1.5, over 24 months",
        HIGH: "High risk: JCV positive, over 24 months, index > 1.5 or prior immunosuppressant",
    }
)

_SOURCES: Final[Mapping[str, str]] = MappingProxyType(
    {
        UNKNOWN: "§4.1 (inputs)",
        LOWEST: "EU-SmPC §4.4; PRAC 2016; UK-PML-2016; MRI: MAGNIMS-2016, UK-PML-2016",
        LOW: "EU-SmPC §4.4; PRAC 2016; UK-PML-2016; MRI: UK-PML-2016, EU-SmPC §4.4 (verify)",
        FIRST_24_MONTHS: "EU-SmPC §4.4; UK-PML-2016; MRI: UK-PML-2016, MAGNIMS-2016",
        INTERMEDIATE: "EU-SmPC §4.4; UK-PML-2016; MRI: UK-PML-2016, EU-SmPC §4.4 (verify)",
        HIGH: "EU-SmPC §4.4; PRAC 2016; UK-PML-2016; MRI: MAGNIMS-2016/2021, UK-PML-2016",
    }
)

# §4.3 (Berger-Fox-2016; "verify numbers" against the current EU-SmPC table), per 1000
# patients, for exposure of 1-24, 25-48 and 49-72 months.
RISK_PER_1000: Final[Mapping[str, tuple[str, str, str]]] = MappingProxyType(
    {
        "JCV negative, no prior IS": ("~0.02", "~0.2", "~0.2"),
        "JCV negative, prior IS": ("~0.06", "~0.9", "~0.9"),
        "JCV positive, no prior IS, index not known": ("~1", "~3", "~6"),
        "JCV positive, no prior IS, index ≤ 1.5": ("~0.2", "~1.1", "~1.4"),
        "JCV positive, no prior IS, index > 1.5": ("~1.2", "~8.8", "~10.1"),
        "JCV positive, prior IS": ("~6", "~12", "~13"),
    }
)
_BANDS: Final = ("1-24 months", "25-48 months", "49-72 months")
_RISK_SOURCE: Final = "Berger-Fox-2016 (§4.3; check the current EU-SmPC table)"


@dataclass(frozen=True)
class _History:
    results: tuple[JcvResult, ...]
    ever_positive: bool
    seroconverted: bool
    index_used: Decimal | None
    latest: JcvResult | None
    index_rising: bool


def _history(jcv_results: Sequence[JcvResult]) -> _History:
    results = tuple(sorted(jcv_results, key=lambda r: r.tested_on))
    readings = [r.reading for r in results]
    ever_positive = JcvReading.POSITIVE in readings
    seroconverted = (
        ever_positive and JcvReading.NEGATIVE in readings[: readings.index(JcvReading.POSITIVE)]
    )
    indexed = [r.index for r in results if r.index is not None]
    return _History(
        results=results,
        ever_positive=ever_positive,
        seroconverted=seroconverted,
        index_used=max(indexed) if indexed else None,
        latest=results[-1] if results else None,
        index_rising=len(indexed) >= 2 and indexed[-1] > indexed[-2],
    )


def first_seroconversion(jcv_results: Sequence[JcvResult]) -> JcvResult | None:
    """The first positive result that follows a negative one (§3.10: WARNING, re-stratify)."""
    seen_negative = False
    for result in sorted(jcv_results, key=lambda r: r.tested_on):
        if result.reading is JcvReading.NEGATIVE:
            seen_negative = True
        elif result.reading is JcvReading.POSITIVE and seen_negative:
            return result
    return None


def _risk_group(*, positive: bool, prior_is: bool | None, index: Decimal | None) -> str:
    # Unrecorded prior IS quotes the prior-IS row: the higher, safer estimate.
    if not positive:
        return "JCV negative, no prior IS" if prior_is is False else "JCV negative, prior IS"
    if prior_is is not False:
        return "JCV positive, prior IS"
    if index is None:
        return "JCV positive, no prior IS, index not known"
    if index > HIGH_INDEX_ABOVE:
        return "JCV positive, no prior IS, index > 1.5"
    return "JCV positive, no prior IS, index ≤ 1.5"


def _risk(
    *, positive: bool, prior_is: bool | None, index: Decimal | None, exposure: int | None
) -> tuple[str, str]:
    group = _risk_group(positive=positive, prior_is=prior_is, index=index)
    row = RISK_PER_1000[group]
    if prior_is is None:
        group += " (prior IS not recorded: the higher row is quoted)"
    if exposure is None:
        return f"{row[0]} to {row[2]}", f"{group}; exposure not known, all bands shown"
    band = 0 if exposure <= 24 else 1 if exposure <= 48 else 2
    basis = f"{group}; {_BANDS[band]}"
    if exposure > 72:
        basis += " (no estimate beyond 72 months; the 49-72 month value is shown)"
    return row[band], basis


def _sentence_index(history: _History) -> str:
    latest_indexed = [r for r in history.results if r.index is not None]
    if not latest_indexed:
        return "No index on record."
    latest = latest_indexed[-1]
    text = f"Latest index {latest.index} on {latest.tested_on.isoformat()}"
    if history.index_used is not None and history.index_used != latest.index:
        text += f"; highest on record {history.index_used} is used for the bands"
    return text + "."


def schedule_condition(
    *, ever_positive: bool, prior_immunosuppressant: bool | None, index: Decimal | None
) -> str:
    """Which surveillance MRI schedule the risk features call for (§4.2, §4.4).

    JCV positive with prior immunosuppressant use is high risk at any index; so is an index
    above 1.5. Where the immunosuppressant history or the index is not recorded the more
    frequent schedule is used (as for the MRI interval, module docstring), so a missing answer
    never lengthens surveillance. Exposure is not an input: both schedules start at month 18.
    """
    if not ever_positive:
        return ""
    if prior_immunosuppressant is not False or index is None or index > HIGH_INDEX_ABOVE:
        return SCHEDULE_HIGH_RISK
    return SCHEDULE_JCV_POSITIVE


def assess_pml_risk(
    *,
    jcv_results: Sequence[JcvResult],
    prior_immunosuppressant: bool | None,
    exposure_months: int | None = None,
    infusions: int | None = None,
    extended_interval_dosing: bool = False,
) -> PmlRisk:
    """Stratify PML risk on natalizumab (§4.2), with §4.3 estimate and §4.4 MRI interval.

    ``prior_immunosuppressant`` is use *before* natalizumab of e.g. mitoxantrone, azathioprine,
    methotrexate, cyclophosphamide or mycophenolate, not interferon, glatiramer or steroids
    (§4.1.3); ``None`` means not recorded. ``exposure_months`` wins over ``infusions``.
    """
    for name, number in (("exposure_months", exposure_months), ("infusions", infusions)):
        if number is not None and number < 0:
            raise ValueError(f"{name} cannot be negative ({number}).")
    exposure = exposure_months if exposure_months is not None else infusions
    history = _history(jcv_results)
    notes: list[str] = []
    if exposure_months is None and infusions is not None:
        notes.append(f"Exposure taken as {infusions} months from {infusions} infusions.")
        if extended_interval_dosing:
            notes.append(
                "On extended-interval dosing infusions understate months on drug: "
                "record exposure in months."
            )
    if extended_interval_dosing:
        notes.append(
            "Extended-interval dosing is off-label; TOUCH data suggest a lower PML risk, but "
            "the category and surveillance are unchanged (§4.5) and the estimate is for "
            "4-weekly dosing."
        )
    if history.seroconverted:
        notes.append("Seroconverted from negative to positive: re-stratify and counsel (§3.10).")

    def build(
        category: str,
        grade: str,
        reason: str,
        *,
        mri: int | None,
        retest: int | None,
        risk: tuple[str, str] | None = None,
    ) -> PmlRisk:
        estimate, basis = risk or ("not estimable", "risk group not known")
        return PmlRisk(
            category=category,
            label=CATEGORIES[category],
            grade=grade,
            estimated_risk_per_1000=estimate,
            risk_basis=basis,
            mri_interval_months=mri,
            jcv_retest_months=retest,
            explanation=" ".join([reason, *notes]),
            source=_SOURCES[category],
            seroconverted=history.seroconverted,
            index_used=history.index_used,
            exposure_months=exposure,
            schedule_condition=schedule_condition(
                ever_positive=history.ever_positive,
                prior_immunosuppressant=prior_immunosuppressant,
                index=history.index_used,
            ),
        )

    prior_is = prior_immunosuppressant
    index = history.index_used

    if history.latest is None:
        return build(
            UNKNOWN, WARNING, "No anti-JCV antibody result on record: test now.", mri=None, retest=0
        )

    if not history.ever_positive:
        if history.latest.reading is JcvReading.INDETERMINATE:
            return build(
                UNKNOWN,
                WARNING,
                f"Latest index {history.latest.index} is indeterminate (0.20-0.40): the "
                "reflex confirmation assay result is needed.",
                mri=None,
                retest=0,
            )
        return build(
            LOWEST,
            INFO,
            "Anti-JCV antibody negative: retest every 6 months; yearly MRI.",
            mri=12,
            retest=JCV_RETEST_MONTHS,
            risk=_risk(positive=False, prior_is=prior_is, index=None, exposure=exposure),
        )

    positive_risk = _risk(positive=True, prior_is=prior_is, index=index, exposure=exposure)
    index_text = _sentence_index(history)
    # Retest while the index can still move the category: index ≤ 1.5 (or unknown), no prior IS.
    retest = (
        JCV_RETEST_MONTHS
        if prior_is is not True and (index is None or index <= HIGH_INDEX_ABOVE)
        else None
    )

    if prior_is is False and index is not None and index <= LOW_INDEX_MAX:
        at_or_after_step = exposure is None or exposure >= MRI_STEP_MONTHS
        rising_late = history.index_rising and (exposure is None or exposure > EXPOSURE_STEP_MONTHS)
        return build(
            LOW,
            WARNING if rising_late else INFO,
            f"JCV positive, no prior immunosuppressant, index ≤ 0.9 (any duration). {index_text}"
            + (" The index is rising after 24 months." if rising_late else "")
            + (
                " MRI every 6 months from 18 months of exposure."
                if at_or_after_step
                else " Yearly MRI until 18 months of exposure, then every 6 months."
            ),
            mri=6 if at_or_after_step else 12,
            retest=retest,
            risk=positive_risk,
        )

    if exposure is None:
        return build(
            UNKNOWN,
            WARNING,
            f"JCV positive but natalizumab exposure is not recorded. {index_text}",
            mri=None,
            retest=retest,
            risk=positive_risk,
        )

    if exposure <= EXPOSURE_STEP_MONTHS:
        known_lower_risk = prior_is is False and index is not None and index <= HIGH_INDEX_ABOVE
        if exposure < MRI_STEP_MONTHS:
            mri, mri_text = 12, "Yearly MRI until 18 months of exposure."
        elif known_lower_risk:
            mri, mri_text = 6, "MRI every 6 months from 18 months of exposure."
        else:
            # Index > 1.5, prior IS, or either unknown: the high-risk schedule (§4.4).
            mri, mri_text = 3, "MRI every 3 months from 18 months (high-risk features)."
        return build(
            FIRST_24_MONTHS,
            INFO if exposure < MRI_STEP_MONTHS else WARNING,
            f"JCV positive, {exposure} months of exposure: plan the 24-month decision point. "
            f"{index_text} {mri_text}",
            mri=mri,
            retest=retest,
            risk=positive_risk,
        )

    if prior_is is True or (index is not None and index > HIGH_INDEX_ABOVE):
        why = "prior immunosuppressant" if prior_is is True else f"index {index} > 1.5"
        return build(
            HIGH,
            CRITICAL,
            f"JCV positive, {exposure} months of exposure and {why}: benefit-risk review, "
            f"consider a switch or extended-interval dosing; MRI every 3 months. {index_text}",
            mri=3,
            retest=retest,
            risk=positive_risk,
        )

    if prior_is is None:
        return build(
            UNKNOWN,
            WARNING,
            "JCV positive over 24 months but prior immunosuppressant use is not recorded; "
            f"it decides between intermediate and high risk. {index_text}",
            mri=None,
            retest=retest,
            risk=positive_risk,
        )

    if index is None:
        return build(
            UNKNOWN,
            WARNING,
            "JCV positive over 24 months without an index: the index decides the category.",
            mri=None,
            retest=0,
            risk=positive_risk,
        )

    return build(
        INTERMEDIATE,
        WARNING,
        f"JCV positive, no prior immunosuppressant, index > 0.9 to 1.5, {exposure} months of "
        f"exposure: 6-monthly index and MRI every 6 months. {index_text}",
        mri=6,
        retest=retest,
        risk=positive_risk,
    )


def category_changed(old: PmlRisk, new: PmlRisk) -> bool:
    """Whether the category key changed: a change of risk category is a WARNING (§0.3)."""
    return old.category != new.category
