"""The Neurostatus-EDSS step, computed from functional-system and ambulation scores.

Pure and free of Django (standard library only), so forms, services and tests can all call it.
Section numbers ("§7.4") point to the shared reference ``dmt-monitoring.md``: §7 holds the
Neurostatus rules, §12 item 1 the three rules the sources disagree on.

The calculator never "fixes" what the neurologist entered. It computes the step by the rules and
lists anything that looks contradictory in ``EdssResult.inconsistencies`` for a human to check.
"""

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType

# The seven functional systems (FS) in the order of the Neurostatus scoring sheet.
FS_ORDER: tuple[str, ...] = (
    "visual",
    "brainstem",
    "pyramidal",
    "cerebellar",
    "sensory",
    "bowel_bladder",
    "cerebral",
)

FS_NAMES: Mapping[str, str] = MappingProxyType(
    {
        "visual": "Visual",
        "brainstem": "Brainstem",
        "pyramidal": "Pyramidal",
        "cerebellar": "Cerebellar",
        "sensory": "Sensory",
        "bowel_bladder": "Bowel and bladder",
        "cerebral": "Cerebral",
    }
)

# Raw grade ranges, §7.1.
FS_RANGES: Mapping[str, tuple[int, int]] = MappingProxyType(
    {
        "visual": (0, 6),
        "brainstem": (0, 5),
        "pyramidal": (0, 6),
        "cerebellar": (0, 5),
        "sensory": (0, 6),
        "bowel_bladder": (0, 6),
        "cerebral": (0, 5),
    }
)

AMBULATION_NAME = "Ambulation"
AMBULATION_RANGE: tuple[int, int] = (0, 16)

# Neurostatus ambulation scores, §7.3.
AMBULATION_LABELS: Mapping[int, str] = MappingProxyType(
    {
        0: "unrestricted",
        1: "fully ambulatory, walks 500 m or more without aid or rest, but not unrestricted",
        2: "walks 300 m to under 500 m without help or rest",
        3: "walks 200 m to under 300 m without help",
        4: "walks 100 m to under 200 m without help",
        5: "walks under 100 m without assistance",
        6: "unilateral assistance, 50 m or more",
        7: "bilateral assistance, 120 m or more",
        8: "unilateral assistance, under 50 m",
        9: "bilateral assistance, 5 m to under 120 m",
        10: "wheelchair without help",
        11: "wheelchair with help",
        12: "restricted to bed or chair, good arm use",
        13: "in bed much of the day, some arm use",
        14: "helpless in bed, can communicate and eat",
        15: "totally helpless in bed",
        16: "death due to MS",
    }
)

# The step each ambulation score implies, §7.3. Score 0 implies nothing (FS decide); score 1 is
# disputed and handled by EdssOptions.ambulation_1_gives_at_least_2.
AMBULATION_STEPS: Mapping[int, Decimal] = MappingProxyType(
    {
        2: Decimal("4.5"),
        3: Decimal("5.0"),
        4: Decimal("5.5"),
        5: Decimal("6.0"),
        6: Decimal("6.0"),
        7: Decimal("6.0"),
        8: Decimal("6.5"),
        9: Decimal("6.5"),
        10: Decimal("7.0"),
        11: Decimal("7.5"),
        12: Decimal("8.0"),
        13: Decimal("8.5"),
        14: Decimal("9.0"),
        15: Decimal("9.5"),
        16: Decimal("10.0"),
    }
)

# From this score on, the ambulation score alone fixes the step (§7.4, last paragraph).
_AMBULATION_DECIDES_FROM = 4

# Conversions applied before computing the step, §7.2.
VISUAL_CONVERSION: Mapping[int, int] = MappingProxyType({0: 0, 1: 1, 2: 2, 3: 2, 4: 3, 5: 3, 6: 4})
BOWEL_BLADDER_CONVERSION: Mapping[int, int] = MappingProxyType(
    {0: 0, 1: 1, 2: 2, 3: 3, 4: 3, 5: 4, 6: 5}
)

_TWO = Decimal("2.0")
_FOUR = Decimal("4.0")
_FOUR_AND_A_HALF = Decimal("4.5")
_FIVE = Decimal("5.0")


@dataclass(frozen=True)
class EdssOptions:
    """The three EDSS rules the sources disagree on (§12 item 1), with the project's defaults.

    one_fs4_plus_fs2_gives_4_5 (§12 item 1a, §7.4 "Known disagreement"):
        One FS at grade 4 plus one or more FS at grade 2 (and no grade 3). Default ``True``
        (4.5): the §7.4 table lists it under 4.5, the Kappos-table-based implementation gives
        4.5, and Kurtzke's 4.0 ("one FS grade 4, others 0 or 1") leaves no room for extra 2s.
        ``False`` gives 4.0, as the R package does.
    count_cerebral_grade_1 (§12 item 1b, §7.2 "Cerebral"):
        Whether cerebral grade 1 counts toward steps 1.0 and 1.5. Default ``True``: this
        calculator follows the Neurostatus table, whose implementation (JS) applies no
        cerebral conversion. ``False`` applies Kurtzke-1983 (cerebral grade 1 is acceptable in
        EDSS 0), as the R package does by mapping cerebral 1 to 0. Grade 1s only decide steps
        0 to 1.5, so the flag changes nothing above 1.5.
    ambulation_1_gives_at_least_2 (§12 item 1c, §7.3 score 1, §7.4 row 2.0):
        Whether "fully ambulatory but not unrestricted" raises the step to at least 2.0.
        Default ``True``: §7.4 row 2.0 says so, rows 0 to 1.5 allow only ambulation score 0,
        and both open-source implementations agree. ``False`` lets the FS decide and reports
        the score as an inconsistency when the step stays below 2.0.
    """

    one_fs4_plus_fs2_gives_4_5: bool = True
    count_cerebral_grade_1: bool = True
    ambulation_1_gives_at_least_2: bool = True


DEFAULT_OPTIONS = EdssOptions()


@dataclass(frozen=True)
class EdssResult:
    """A computed EDSS step and how it was reached.

    ``converted`` holds the FS grades the rules were applied to (after §7.2 and, if chosen,
    the cerebral option). ``ambulation_step`` is the step the ambulation score implies, or
    ``None`` when it implies none. ``rule`` says in plain words which rule decided the step;
    ``inconsistencies`` are warnings for the clinician, never silent corrections.
    """

    step: Decimal
    fs_step: Decimal
    ambulation_step: Decimal | None
    converted: Mapping[str, int]
    inconsistencies: tuple[str, ...]
    rule: str
    options: EdssOptions = DEFAULT_OPTIONS


class EdssInputError(ValueError):
    """An FS or ambulation score that is missing or out of range; ``field`` names the input."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name


def calculate_edss(
    *,
    visual: int | None,
    brainstem: int | None,
    pyramidal: int | None,
    cerebellar: int | None,
    sensory: int | None,
    bowel_bladder: int | None,
    cerebral: int | None,
    ambulation: int | None,
    options: EdssOptions = DEFAULT_OPTIONS,
) -> EdssResult:
    """Compute the Neurostatus-EDSS step from raw FS grades and the ambulation score (§7).

    Raises ``EdssInputError`` (a ``ValueError``) naming the field and its valid range when a
    score is missing or out of range.
    """
    raw = {
        "visual": visual,
        "brainstem": brainstem,
        "pyramidal": pyramidal,
        "cerebellar": cerebellar,
        "sensory": sensory,
        "bowel_bladder": bowel_bladder,
        "cerebral": cerebral,
    }
    grades = {name: _checked(name, FS_NAMES[name], raw[name], FS_RANGES[name]) for name in FS_ORDER}
    walking = _checked("ambulation", AMBULATION_NAME, ambulation, AMBULATION_RANGE)

    converted = convert_fs_grades(grades, options)
    fs_step, fs_rule = fs_step_of(converted, options)
    if grades["cerebral"] == 1 and not options.count_cerebral_grade_1:
        fs_rule += "; cerebral grade 1 not counted (Kurtzke 1983, §12 item 1b)"

    ambulation_step = _ambulation_step(walking, options)
    step, rule = _combine(fs_step, fs_rule, walking, ambulation_step)
    return EdssResult(
        step=step,
        fs_step=fs_step,
        ambulation_step=ambulation_step,
        converted=MappingProxyType(converted),
        inconsistencies=_inconsistencies(grades, walking, fs_step, ambulation_step, step),
        rule=rule,
        options=options,
    )


def convert_fs_grades(grades: Mapping[str, int], options: EdssOptions) -> dict[str, int]:
    """Apply the §7.2 conversions (visual, bowel and bladder, optionally cerebral 1 to 0)."""
    converted = dict(grades)
    converted["visual"] = VISUAL_CONVERSION[grades["visual"]]
    converted["bowel_bladder"] = BOWEL_BLADDER_CONVERSION[grades["bowel_bladder"]]
    if grades["cerebral"] == 1 and not options.count_cerebral_grade_1:
        converted["cerebral"] = 0
    return converted


def fs_step_of(converted: Mapping[str, int], options: EdssOptions) -> tuple[Decimal, str]:
    """The step the converted FS grades give on their own, and the §7.4 row that gave it.

    FS alone never give more than 5.0 (§7.4).
    """
    counts = Counter(converted.values())
    top = max(converted.values())
    n1, n2, n3, n4 = counts[1], counts[2], counts[3], counts[4]

    if top >= 5:
        names = [FS_NAMES[name].lower() for name in FS_ORDER if converted[name] >= 5]
        return _FIVE, f"{_join(names)} at grade 5 or higher"
    if top == 4:
        if n4 >= 2:
            return _FIVE, f"{_words(n4)} FS at grade 4"
        if n3 >= 3:
            return _FIVE, f"one FS at grade 4 plus {_words(n3)} at grade 3"
        if n3 >= 1:
            return _FOUR_AND_A_HALF, f"one FS at grade 4 plus {_words(n3)} at grade 3"
        if n2 >= 1:
            # Disputed, §12 item 1a: see EdssOptions.
            step = _FOUR_AND_A_HALF if options.one_fs4_plus_fs2_gives_4_5 else _FOUR
            return step, (
                f"one FS at grade 4 plus {_words(n2)} at grade 2 and no grade 3, counted as "
                f"{step} by the project's choice on a disputed rule (§12 item 1a)"
            )
        return _FOUR, "one FS at grade 4, others 1 or 0"
    if top == 3:
        if n3 >= 6:
            return _FIVE, f"{_words(n3)} FS at grade 3"
        if n3 == 5:
            return _FOUR_AND_A_HALF, "five FS at grade 3, none higher"
        if n3 >= 3:
            return _FOUR, f"{_words(n3)} FS at grade 3, none higher"
        if n3 == 2:
            if n2 == 0:
                return Decimal("3.5"), "two FS at grade 3, others 1 or 0"
            return _FOUR, f"two FS at grade 3 plus {_words(n2)} at grade 2"
        if n2 == 0:
            return Decimal("3.0"), "one FS at grade 3, others 1 or 0"
        if n2 <= 2:
            return Decimal("3.5"), f"one FS at grade 3 plus {_words(n2)} at grade 2"
        return _FOUR, f"one FS at grade 3 plus {_words(n2)} at grade 2"
    if top == 2:
        by_count = {1: "2.0", 2: "2.5", 3: "3.0", 4: "3.0", 5: "3.5"}
        return Decimal(by_count.get(n2, "4.0")), f"{_words(n2)} FS at grade 2, others 1 or 0"
    if top == 1:
        if n1 == 1:
            return Decimal("1.0"), "one FS at grade 1, others 0"
        return Decimal("1.5"), f"{_words(n1)} FS at grade 1, none higher"
    return Decimal("0.0"), "all FS at grade 0"


def check_score(field_name: str, value: int | None) -> int:
    """One FS grade (by its key) or the ambulation score ("ambulation"), checked on its own, so
    a form can report every invalid score at once instead of the first one
    (``calculate_edss`` stops at the first)."""
    if field_name == "ambulation":
        return _checked(field_name, AMBULATION_NAME, value, AMBULATION_RANGE)
    return _checked(field_name, FS_NAMES[field_name], value, FS_RANGES[field_name])


def _checked(field_name: str, label: str, value: int | None, valid: tuple[int, int]) -> int:
    low, high = valid
    if value is None:
        raise EdssInputError(field_name, f"{label} is missing: enter a score from {low} to {high}.")
    # bool is an int subclass; True/False from a checkbox is never a grade.
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise EdssInputError(
            field_name, f"{label} must be a whole number from {low} to {high} (got {value!r})."
        )
    return value


def _ambulation_step(walking: int, options: EdssOptions) -> Decimal | None:
    if walking == 1:
        return _TWO if options.ambulation_1_gives_at_least_2 else None
    return AMBULATION_STEPS.get(walking)


def _combine(
    fs_step: Decimal, fs_rule: str, walking: int, ambulation_step: Decimal | None
) -> tuple[Decimal, str]:
    """Final step by §7.4: ambulation 4+ alone decides; below that, the higher of the two."""
    walking_text = f"ambulation score {walking} ({AMBULATION_LABELS[walking]})"
    if ambulation_step is None:
        return fs_step, f"EDSS {fs_step} from the FS grades (§7.4): {fs_rule}."
    if walking >= _AMBULATION_DECIDES_FROM:
        return ambulation_step, (
            f"EDSS {ambulation_step} from walking (§7.3): {walking_text} fixes the step; "
            f"the FS grades alone would give {fs_step}."
        )
    if ambulation_step > fs_step:
        sections = "§7.4 row 2.0, §12 item 1c" if walking == 1 else "§7.3, §7.4"
        return ambulation_step, (
            f"EDSS {ambulation_step} from walking ({sections}): {walking_text} sets at least "
            f"{ambulation_step}; the FS grades alone give {fs_step} ({fs_rule})."
        )
    return fs_step, (
        f"EDSS {fs_step} from the FS grades (§7.4): {fs_rule}; "
        f"{walking_text} implies {ambulation_step}."
    )


def _inconsistencies(
    grades: Mapping[str, int],
    walking: int,
    fs_step: Decimal,
    ambulation_step: Decimal | None,
    step: Decimal,
) -> tuple[str, ...]:
    found = []
    walking_text = f"Ambulation score {walking} ({AMBULATION_LABELS[walking]})"

    if ambulation_step is not None and ambulation_step >= _FIVE and fs_step <= _FOUR:
        found.append(
            f"{walking_text} implies EDSS {ambulation_step}, but the FS grades alone give only "
            f"{fs_step}. A walking restriction this severe is usually explained by higher "
            "pyramidal, cerebellar or sensory grades: check the FS grades and the walking range."
        )

    # Rows 0 to 1.5 of §7.4 allow only ambulation score 0; with the §12 item 1c rule switched
    # off, score 1 no longer lifts the step, so the mismatch is reported instead.
    if walking == 1 and step < _TWO:
        found.append(
            f"{walking_text} is not allowed with EDSS {step} in the Neurostatus table, whose "
            "rows 0 to 1.5 need unrestricted walking (§7.4). The step was taken from the FS "
            "grades because the rule 'ambulation score 1 gives at least 2.0' is switched off."
        )

    # §7.1 grade meanings that rule out walking 500 m without aid (ambulation scores 0 and 1).
    if walking <= 1:
        if grades["pyramidal"] >= 5:
            found.append(
                f"Pyramidal grade {grades['pyramidal']} (paraplegia, hemiplegia, marked "
                f"tetraparesis or tetraplegia, §7.1) contradicts {walking_text.lower()}: "
                "check both."
            )
        if grades["cerebellar"] == 5:
            found.append(
                "Cerebellar grade 5 (unable to do coordinated movements, §7.1) contradicts "
                f"{walking_text.lower()}: check both."
            )
    return tuple(found)


_NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven")


def _words(count: int) -> str:
    return _NUMBER_WORDS[count]


def _join(names: list[str]) -> str:
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " and " + names[-1]
