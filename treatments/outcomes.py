"""Rehabilitation outcome measures (§8.2) and review intervals (§8.1).

Pure functions; no Django. "§n" points to ``/work/shared/reference/dmt-monitoring.md``.
Raw trial and item values are the fields (§8.2: "store raw trial values, not just the
summary"); :func:`score` derives the summary and :func:`meaningful_change` compares two summaries.

Deliberate choices (also stated on each measure):

* **Percent thresholds apply both ways.** §8.2 gives "≥ 20% worsening" for T25FW and 9HPT; the
  same 20% of the previous score counts as a meaningful improvement.
* **9HPT** is scored as the mean of the two per-hand means, in seconds (higher is worse), so the
  20% rule reads directly; the MSFC reciprocal is :func:`scores` ``["msfc_score"]``.
* **BBS and MFIS** have a cut-off in §8.2, not a change threshold, so a change is meaningful when
  it crosses the cut-off (BBS ≤ 45 fall risk, the inclusive reading; MFIS total ≥ 38 fatigue).
* **6MWT** uses 20% (§8.2 "~20% / ≥ 20 m ... (verify)"): at usual distances 20 m is within
  test-retest noise, and one rule keeps the walking tests consistent.
* **MSIS-29** is entered as the 0-100 transformed subscale scores (as §8.2 states); the change
  rule is ~8 points on the physical scale (§8.2, verify). :func:`msis29_transform` converts a raw
  item sum.
* **PHQ-9** is not in §8.2: it is the depression screen patients complete from a questionnaire
  link (``treatments.pro``), stored item by item (item 9 asks about self-harm and must be seen).
  Its total is the sum of the nine items (0-27), read in the published severity bands
  (:func:`phq9_severity`, Kroenke et al. 2001); a change of 5 points or more is meaningful
  (Löwe et al. 2004). It is patient-reported only: a rehab session does not record it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from types import MappingProxyType
from typing import Final

__all__ = [
    "MEASURES",
    "NON_FIELD",
    "REVIEW_INTERVALS",
    "Change",
    "ChangeRule",
    "FieldSpec",
    "InvalidFields",
    "Measure",
    "ReviewInterval",
    "UnknownMeasure",
    "get_measure",
    "meaningful_change",
    "msis29_transform",
    "phq9_severity",
    "score",
    "scores",
    "validate",
]

NON_FIELD: Final = "__all__"  # the key Django uses for errors not tied to one field

BETTER: Final = "better"
WORSE: Final = "worse"
NONE: Final = "none"


class UnknownMeasure(ValueError):
    """The measure key is not one of :data:`MEASURES`."""


class InvalidFields(ValueError):
    """:func:`score` was given fields that :func:`validate` rejects."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors))


@dataclass(frozen=True)
class FieldSpec:
    """One recorded value; ``maximum`` ``None`` means no upper limit."""

    key: str
    label: str
    unit: str
    minimum: Decimal
    maximum: Decimal | None
    minimum_inclusive: bool = True
    whole_number: bool = False
    required: bool = True


@dataclass(frozen=True)
class ChangeRule:
    """How much change matters: ``percent`` or ``points`` of the previous score (inclusive), or
    crossing a ``cutoff`` whose bad side is the worse end of the scale (inclusive)."""

    kind: str
    threshold: Decimal
    text: str
    source: str


@dataclass(frozen=True)
class Measure:
    key: str
    name: str
    score_unit: str
    score_description: str
    fields: tuple[FieldSpec, ...]
    higher_is_better: bool
    score_minimum: Decimal
    score_maximum: Decimal | None
    change_rule: ChangeRule
    source: str
    # Completed by the patient from a questionnaire link only, never logged in a rehab session.
    patient_reported_only: bool = False


@dataclass(frozen=True)
class Change:
    """``delta`` is current - previous; ``percent`` is of the previous score (1 d.p.), ``None``
    when the previous score is 0."""

    direction: str
    delta: Decimal
    percent: Decimal | None
    threshold_text: str


@dataclass(frozen=True)
class ReviewInterval:
    """A typical contact interval (§8.1); clinics set their own."""

    key: str
    contact: str
    interval_text: str
    min_months: int | None
    max_months: int | None
    source: str


def _d(text: str) -> Decimal:
    return Decimal(text)


def _seconds(key: str, label: str, stop_at: str) -> FieldSpec:
    return FieldSpec(key, label, "s", _d("0"), _d(stop_at), minimum_inclusive=False)


def _whole(
    key: str, label: str, maximum: str, *, unit: str = "points", required: bool = True
) -> FieldSpec:
    return FieldSpec(key, label, unit, _d("0"), _d(maximum), whole_number=True, required=required)


_BBS_ITEMS = tuple(_whole(f"item_{n}", f"Item {n}", "4", required=False) for n in range(1, 15))
_PHQ9_ITEMS = tuple(_whole(f"item_{n}", f"Item {n}", "3") for n in range(1, 10))

_MEASURE_LIST = (
    Measure(
        key="t25fw",
        name="Timed 25-Foot Walk",
        score_unit="s",
        score_description="Mean of the two trials",
        fields=(_seconds("trial_1", "Trial 1", "180"), _seconds("trial_2", "Trial 2", "180")),
        higher_is_better=False,
        score_minimum=_d("0"),
        score_maximum=_d("180"),
        change_rule=ChangeRule(
            "percent",
            _d("20"),
            "≥ 20% change in the mean time (worsening per §8.2; applied to improvement too)",
            "§8.2 (CK/Lit); MSFC manual (NMSS)",
        ),
        source="§8.2; MSFC manual: two trials, stopped at 180 s; record any walking aid",
    ),
    Measure(
        key="nine_hpt",
        name="9-Hole Peg Test",
        score_unit="s",
        score_description="Mean of the right-hand and left-hand means (two trials each)",
        fields=(
            _seconds("right_1", "Right hand, trial 1", "300"),
            _seconds("right_2", "Right hand, trial 2", "300"),
            _seconds("left_1", "Left hand, trial 1", "300"),
            _seconds("left_2", "Left hand, trial 2", "300"),
        ),
        higher_is_better=False,
        score_minimum=_d("0"),
        score_maximum=_d("300"),
        change_rule=ChangeRule(
            "percent",
            _d("20"),
            "≥ 20% change in the two-hand mean time (worsening per §8.2; applied to "
            "improvement too; can also be applied to each hand's mean)",
            "§8.2",
        ),
        source="§8.2; MSFC manual: two trials per hand, stopped at 300 s",
    ),
    Measure(
        key="sdmt",
        name="Symbol Digit Modalities Test (oral)",
        score_unit="correct",
        score_description="Correct substitutions in 90 s",
        fields=(_whole("correct", "Correct responses", "110", unit="correct"),),
        higher_is_better=True,
        score_minimum=_d("0"),
        score_maximum=_d("110"),
        change_rule=ChangeRule(
            "points", _d("4"), "≥ 4 points (§8.2; ≈ 10% is the alternative)", "§8.2"
        ),
        source="§8.2",
    ),
    Measure(
        key="bbs",
        name="Berg Balance Scale",
        score_unit="points",
        score_description="Sum of the 14 items (0-4 each), or the recorded total",
        fields=(*_BBS_ITEMS, _whole("total", "Total", "56", required=False)),
        higher_is_better=True,
        score_minimum=_d("0"),
        score_maximum=_d("56"),
        change_rule=ChangeRule(
            "cutoff",
            _d("45"),
            "Crossing the fall-risk cut-off: ≤ 45 suggests fall risk (§8.2; MS-specific "
            "cut-off to verify; no change threshold is given)",
            "§8.2 (verify)",
        ),
        source="§8.2",
    ),
    Measure(
        key="six_mwt",
        name="6-Minute Walk Test",
        score_unit="m",
        score_description="Distance walked in 6 minutes",
        # §8.2 gives ≥ 0 only; 1000 m is beyond any walking pace and catches typing errors.
        fields=(FieldSpec("distance_m", "Distance", "m", _d("0"), _d("1000")),),
        higher_is_better=True,
        score_minimum=_d("0"),
        score_maximum=_d("1000"),
        change_rule=ChangeRule(
            "percent",
            _d("20"),
            "≥ 20% change in distance (§8.2 '~20% / ≥ 20 m', verify; 20% chosen)",
            "§8.2 (verify)",
        ),
        source="§8.2; standard 30 m corridor",
    ),
    Measure(
        key="msis29",
        name="MSIS-29 (v2)",
        score_unit="points (0-100)",
        score_description="Physical subscale, transformed 0-100 (psychological is also kept)",
        fields=(
            FieldSpec("physical", "Physical (20 items), transformed", "points", _d("0"), _d("100")),
            FieldSpec(
                "psychological",
                "Psychological (9 items), transformed",
                "points",
                _d("0"),
                _d("100"),
            ),
        ),
        higher_is_better=False,
        score_minimum=_d("0"),
        score_maximum=_d("100"),
        change_rule=ChangeRule(
            "points", _d("8"), "≥ 8 points on the physical scale (§8.2, verify)", "§8.2 (verify)"
        ),
        source="§8.2; each subscale transformed to 0-100",
    ),
    Measure(
        key="mfis",
        name="Modified Fatigue Impact Scale",
        score_unit="points",
        score_description="Total of the physical, cognitive and psychosocial subscales (0-84)",
        fields=(
            _whole("physical", "Physical (9 items)", "36"),
            _whole("cognitive", "Cognitive (10 items)", "40"),
            _whole("psychosocial", "Psychosocial (2 items)", "8"),
            _whole("total", "Total", "84", required=False),
        ),
        higher_is_better=False,
        score_minimum=_d("0"),
        score_maximum=_d("84"),
        change_rule=ChangeRule(
            "cutoff",
            _d("38"),
            "Crossing the fatigue cut-off: total ≥ 38 (§8.2; no change threshold is given)",
            "§8.2",
        ),
        source="§8.2",
    ),
    Measure(
        key="phq9",
        name="PHQ-9",
        score_unit="points (0-27)",
        score_description="Sum of the 9 items (0-3 each)",
        fields=_PHQ9_ITEMS,
        higher_is_better=False,
        score_minimum=_d("0"),
        score_maximum=_d("27"),
        change_rule=ChangeRule(
            "points",
            _d("5"),
            "≥ 5 points (Löwe et al. 2004; severity bands at 5, 10, 15 and 20)",
            "Löwe B et al., Med Care 2004;42:1194-1201",
        ),
        source="Kroenke K, Spitzer RL, Williams JBW, J Gen Intern Med 2001;16:606-613",
        patient_reported_only=True,
    ),
)

MEASURES: Final[Mapping[str, Measure]] = MappingProxyType({m.key: m for m in _MEASURE_LIST})

REVIEW_INTERVALS: Final[tuple[ReviewInterval, ...]] = (
    ReviewInterval(
        "comprehensive_review",
        "Comprehensive MS review (all aspects of care)",
        "At least once a year",
        None,
        12,
        "NICE-NG220",
    ),
    ReviewInterval(
        "neurologist_on_dmt",
        "Neurologist review on a DMT",
        "Every 6-12 months; more often in the first year or after a switch "
        "(e.g. 3-6 months after starting)",
        6,
        12,
        "ABN-2024 (verify wording); CK",
    ),
    ReviewInterval(
        "nurse_first_year",
        "MS specialist nurse contact, first year on a DMT",
        "Every 1-3 months, plus each monitoring result and the relapse line",
        1,
        3,
        "CK",
    ),
    ReviewInterval(
        "nurse_after_first_year",
        "MS specialist nurse contact after the first year",
        "Every 3-6 months, plus each monitoring result and the relapse line",
        3,
        6,
        "CK",
    ),
    ReviewInterval(
        "edss",
        "EDSS",
        "At each neurology review (at least yearly); repeat at 3 or 6 months to confirm "
        "progression (§9.2)",
        None,
        12,
        "CK",
    ),
)


def get_measure(key: str) -> Measure:
    try:
        return MEASURES[key]
    except KeyError:
        raise UnknownMeasure(
            f"Unknown outcome measure {key!r}; known measures: {', '.join(MEASURES)}."
        ) from None


def _parse(value: object) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, Decimal | int | float | str):
        return None
    try:
        number = Decimal(value) if isinstance(value, Decimal | int) else Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _field_error(spec: FieldSpec, number: Decimal) -> str | None:
    unit = f" {spec.unit}" if spec.unit else ""
    if spec.whole_number and number != number.to_integral_value():
        return "Enter a whole number."
    if spec.minimum_inclusive and number < spec.minimum:
        return f"Must be at least {spec.minimum}{unit}."
    if not spec.minimum_inclusive and number <= spec.minimum:
        return f"Must be more than {spec.minimum}{unit}."
    if spec.maximum is not None and number > spec.maximum:
        return f"Must be at most {spec.maximum}{unit}."
    return None


def _parse_fields(
    measure: Measure, fields: Mapping[str, object]
) -> tuple[dict[str, Decimal], list[tuple[str, str]]]:
    values: dict[str, Decimal] = {}
    errors: list[tuple[str, str]] = []
    known = {spec.key for spec in measure.fields}
    errors.extend(
        (NON_FIELD, f"Unknown field {key!r} for {measure.name}.")
        for key in fields
        if key not in known
    )
    for spec in measure.fields:
        raw = fields.get(spec.key)
        if _is_blank(raw):
            if spec.required:
                errors.append((spec.key, "This field is required."))
            continue
        number = _parse(raw)
        if number is None:
            errors.append((spec.key, "Enter a number."))
            continue
        message = _field_error(spec, number)
        if message:
            errors.append((spec.key, message))
        else:
            values[spec.key] = number
    return values, errors


def _bbs_errors(values: dict[str, Decimal], raw_keys: set[str]) -> list[tuple[str, str]]:
    items = [spec.key for spec in _BBS_ITEMS]
    given = [key for key in items if key in raw_keys]
    if not given and "total" not in raw_keys:
        return [(NON_FIELD, "Enter the 14 item scores or the total.")]
    if given and len(given) < len(items):
        missing = [key for key in items if key not in raw_keys]
        return [(key, "This field is required when items are entered.") for key in missing]
    if given and "total" in values and all(key in values for key in items):
        item_sum = sum((values[key] for key in items), Decimal(0))
        if item_sum != values["total"]:
            return [("total", f"The total must equal the sum of the items ({item_sum}).")]
    return []


def _mfis_errors(values: dict[str, Decimal]) -> list[tuple[str, str]]:
    parts = ("physical", "cognitive", "psychosocial")
    if "total" in values and all(key in values for key in parts):
        part_sum = sum((values[key] for key in parts), Decimal(0))
        if part_sum != values["total"]:
            return [("total", f"The total must equal the sum of the subscales ({part_sum}).")]
    return []


def validate(measure: str, fields: Mapping[str, object]) -> list[tuple[str, str]]:
    """Errors as ``(field, message)`` pairs (``NON_FIELD`` for the whole entry); empty if valid.

    Values may be ``Decimal``, ``int``, ``float`` or numeric strings.
    """
    spec = get_measure(measure)
    values, errors = _parse_fields(spec, fields)
    raw_keys = {key for key, value in fields.items() if not _is_blank(value)}
    if spec.key == "bbs":
        errors.extend(_bbs_errors(values, raw_keys))
    elif spec.key == "mfis":
        errors.extend(_mfis_errors(values))
    return errors


def _mean(*numbers: Decimal) -> Decimal:
    return sum(numbers, Decimal(0)) / len(numbers)


_RECIPROCAL_PLACES: Final = Decimal("0.000001")


def scores(measure: str, fields: Mapping[str, object]) -> dict[str, Decimal]:
    """Every summary value of a valid entry; ``"score"`` is the one :func:`score` returns.

    9HPT also gives ``right_mean``, ``left_mean`` and ``msfc_score``: the MSFC manual's mean of
    the two per-hand reciprocals (1/s, 6 d.p.). §8.2 words it as "the reciprocal of the two-hand
    mean", which differs slightly; the manual's formula is used.
    """
    spec = get_measure(measure)
    errors = validate(measure, fields)
    if errors:
        raise InvalidFields(errors)
    values, _ = _parse_fields(spec, fields)
    match spec.key:
        case "t25fw":
            return {"score": _mean(values["trial_1"], values["trial_2"])}
        case "nine_hpt":
            right = _mean(values["right_1"], values["right_2"])
            left = _mean(values["left_1"], values["left_2"])
            msfc = _mean(1 / right, 1 / left).quantize(_RECIPROCAL_PLACES, ROUND_HALF_UP)
            return {
                "score": _mean(right, left),
                "right_mean": right,
                "left_mean": left,
                "msfc_score": msfc,
            }
        case "sdmt":
            return {"score": values["correct"]}
        case "bbs":
            items = [values[s.key] for s in _BBS_ITEMS if s.key in values]
            total = sum(items, Decimal(0)) if items else values["total"]
            return {"score": total}
        case "six_mwt":
            return {"score": values["distance_m"]}
        case "msis29":
            return {"score": values["physical"], "psychological": values["psychological"]}
        case "mfis":
            parts = {key: values[key] for key in ("physical", "cognitive", "psychosocial")}
            return {"score": sum(parts.values(), Decimal(0)), **parts}
        case "phq9":
            return {"score": sum((values[s.key] for s in _PHQ9_ITEMS), Decimal(0))}
    raise AssertionError(f"No scoring for {spec.key}")  # pragma: no cover


def score(measure: str, fields: Mapping[str, object]) -> Decimal:
    """The measure's summary score (see ``Measure.score_description``); raises
    :class:`InvalidFields` when :func:`validate` finds errors."""
    return scores(measure, fields)["score"]


def _in_bad_region(measure: Measure, value: Decimal) -> bool:
    cutoff = measure.change_rule.threshold
    return value <= cutoff if measure.higher_is_better else value >= cutoff


def meaningful_change(
    measure: str, previous_score: Decimal | int | str, current_score: Decimal | int | str
) -> Change:
    """Compare two scores of the same measure against its §8.2 threshold."""
    spec = get_measure(measure)
    previous, current = Decimal(previous_score), Decimal(current_score)
    for name, number in (("previous", previous), ("current", current)):
        too_high = spec.score_maximum is not None and number > spec.score_maximum
        if number < spec.score_minimum or too_high:
            raise ValueError(f"The {name} score {number} is outside the {spec.name} range.")
    delta = current - previous
    percent = None if previous == 0 else delta * 100 / previous
    rule = spec.change_rule
    if rule.kind == "cutoff":
        was_bad, is_bad = _in_bad_region(spec, previous), _in_bad_region(spec, current)
        direction = WORSE if is_bad and not was_bad else BETTER if was_bad and not is_bad else NONE
    else:
        if rule.kind == "points":
            meaningful = abs(delta) >= rule.threshold
        else:
            # From zero any change is meaningful (only 6MWT can be 0).
            meaningful = delta != 0 if percent is None else abs(percent) >= rule.threshold
        rose_is_good = (delta > 0) == spec.higher_is_better
        direction = NONE if not meaningful else BETTER if rose_is_good else WORSE
    shown = None if percent is None else percent.quantize(Decimal("0.1"), ROUND_HALF_UP)
    return Change(direction, delta, shown, rule.text)


_MSIS29_RAW: Final[Mapping[tuple[str, int], tuple[int, int]]] = MappingProxyType(
    {
        # (scale, version) -> (items, highest response option); lowest option is 1.
        ("physical", 2): (20, 4),
        ("psychological", 2): (9, 4),
        ("physical", 1): (20, 5),
        ("psychological", 1): (9, 5),
    }
)


def msis29_transform(scale: str, raw_sum: int, *, version: int = 2) -> Decimal:
    """Transform a raw MSIS-29 item sum to 0-100 (1 d.p.): ``(raw - min) / (max - min) * 100``.

    v2 items score 1-4, v1 items 1-5 (§8.2).
    """
    try:
        items, top = _MSIS29_RAW[(scale, version)]
    except KeyError:
        raise ValueError(f"Unknown MSIS-29 scale {scale!r} or version {version}.") from None
    low, high = items, items * top
    if not low <= raw_sum <= high:
        raise ValueError(f"A v{version} {scale} raw sum is {low}-{high}, not {raw_sum}.")
    value = Decimal(raw_sum - low) * 100 / (high - low)
    return value.quantize(Decimal("0.1"), ROUND_HALF_UP)


# (lowest total, band) in ascending order: Kroenke, Spitzer & Williams 2001, table 4.
_PHQ9_BANDS: Final = (
    (0, "None or minimal"),
    (5, "Mild"),
    (10, "Moderate"),
    (15, "Moderately severe"),
    (20, "Severe"),
)


def phq9_severity(total: Decimal | int) -> str:
    """The PHQ-9 severity band of a total (0-4 none or minimal, 5-9 mild, 10-14 moderate,
    15-19 moderately severe, 20-27 severe)."""
    number = Decimal(total)
    if not 0 <= number <= 27 or number != number.to_integral_value():
        raise ValueError(f"A PHQ-9 total is a whole number from 0 to 27, not {total}.")
    return [band for low, band in _PHQ9_BANDS if number >= low][-1]
