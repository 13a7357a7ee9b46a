"""Patient-reported questionnaires: the items a patient answers, and how answers become the
outcome measures of :mod:`treatments.outcomes`.

Pure functions; no Django. Each questionnaire is scored by its published rule:

* **MSIS-29 v2** (Hobart et al., Brain 2001;124:962-973; v2: Hobart et al. 2005). 29 items, each
  1 ("Not at all") to 4 ("Extremely"); items 1-20 are the physical scale, 21-29 the
  psychological scale. Each scale's item sum is transformed to 0-100:
  ``(sum - lowest possible) / (highest possible - lowest possible) * 100``
  (:func:`treatments.outcomes.msis29_transform`).
* **MFIS** (Multiple Sclerosis Council for Clinical Practice Guidelines, 1998). 21 items, each
  0 ("Never") to 4 ("Almost always"); physical = items 4, 6, 7, 10, 13, 14, 17, 20, 21 (0-36),
  cognitive = items 1, 2, 3, 5, 11, 12, 15, 16, 18, 19 (0-40), psychosocial = items 8, 9 (0-8);
  the total is their sum (0-84).
* **PHQ-9** (Kroenke, Spitzer & Williams, J Gen Intern Med 2001;16:606-613). 9 items, each
  0 ("Not at all") to 3 ("Nearly every day"); the total is their sum (0-27). The closing
  question on how difficult the problems made life is recorded, not scored. Item 9 asks about
  thoughts of self-harm: any answer above 0 needs a clinician the same day
  (:func:`self_harm_reported`).

Every item must be answered: a scale with a gap is not scored (the published scoring rules
allow imputation in some cases; a patient completing the form online is simply asked for the
missing answers instead).

The PHQ-9 is free to reproduce (Pfizer: "no permission required"); the MFIS is published in
the MS Council guideline. The MSIS-29 is copyright of its developers (University of Plymouth):
a clinic that uses it confirms its licence, as for the paper form.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Final

from treatments import outcomes

__all__ = [
    "QUESTIONNAIRES",
    "SELF_HARM_ITEM",
    "IncompleteAnswers",
    "Item",
    "Option",
    "Questionnaire",
    "Section",
    "field_name",
    "measure_fields",
    "score",
    "self_harm_reported",
    "validate_answers",
]


@dataclass(frozen=True)
class Option:
    value: int
    label: str


@dataclass(frozen=True)
class Item:
    number: int
    text: str
    scale: str  # the subscale it counts towards ("" when the questionnaire has only a total)


@dataclass(frozen=True)
class Section:
    """Items sharing one stem ("In the past two weeks, how much has your MS limited ...")."""

    stem: str
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Questionnaire:
    key: str  # the outcomes.MEASURES key its score is stored under
    name: str
    title: str
    instructions: str
    options: tuple[Option, ...]
    sections: tuple[Section, ...]
    source: str
    # A closing question that is recorded but not scored (PHQ-9's "how difficult").
    closing_question: str = ""
    closing_options: tuple[Option, ...] = ()

    @property
    def items(self) -> tuple[Item, ...]:
        return tuple(item for section in self.sections for item in section.items)


def _items(scale_of: Mapping[int, str], texts: Mapping[int, str]) -> tuple[Item, ...]:
    return tuple(Item(n, text, scale_of.get(n, "")) for n, text in texts.items())


_MSIS29_LIMITED = {
    1: "Do physically demanding tasks?",
    2: "Grip things tightly (e.g. turning on taps)?",
    3: "Carry things?",
}
_MSIS29_BOTHERED = {
    4: "Problems with your balance?",
    5: "Difficulties moving about indoors?",
    6: "Being clumsy?",
    7: "Stiffness?",
    8: "Heavy arms and/or legs?",
    9: "Tremor of your arms or legs?",
    10: "Spasms in your limbs?",
    11: "Your body not doing what you want it to do?",
    12: "Having to depend on others to do things for you?",
    13: "Limitations in your social and leisure activities at home?",
    14: "Being stuck at home more than you would like to be?",
    15: "Difficulties using your hands in everyday tasks?",
    16: "Having to cut down the amount of time you spent on work or other daily activities?",
    17: "Problems using transport (e.g. car, bus, train, taxi)?",
    18: "Taking longer to do things?",
    19: "Difficulty doing things spontaneously (e.g. going out on the spur of the moment)?",
    20: "Needing to go to the toilet urgently?",
    21: "Feeling unwell?",
    22: "Problems sleeping?",
    23: "Feeling mentally fatigued?",
    24: "Worries related to your MS?",
    25: "Feeling anxious or tense?",
    26: "Feeling irritable, impatient, or short tempered?",
    27: "Problems concentrating?",
    28: "Lack of confidence?",
    29: "Feeling depressed?",
}
_MSIS29_SCALE = {n: "physical" if n <= 20 else "psychological" for n in range(1, 30)}

MSIS29 = Questionnaire(
    key="msis29",
    name="MSIS-29",
    title="Multiple Sclerosis Impact Scale (MSIS-29)",
    instructions=(
        "These questions ask for your views about the impact of MS on your day-to-day life "
        "during the past two weeks. For each statement, choose the answer that best describes "
        "your situation."
    ),
    options=(
        Option(1, "Not at all"),
        Option(2, "A little"),
        Option(3, "Moderately"),
        Option(4, "Extremely"),
    ),
    sections=(
        Section(
            "In the past two weeks, how much has your MS limited your ability to …",
            _items(_MSIS29_SCALE, _MSIS29_LIMITED),
        ),
        Section(
            "In the past two weeks, how much have you been bothered by …",
            _items(_MSIS29_SCALE, _MSIS29_BOTHERED),
        ),
    ),
    source="Hobart J et al., Brain 2001;124:962-973 (version 2, four response options)",
)

_MFIS_TEXTS = {
    1: "I have been less alert.",
    2: "I have had difficulty paying attention for long periods of time.",
    3: "I have been unable to think clearly.",
    4: "I have been clumsy and uncoordinated.",
    5: "I have been forgetful.",
    6: "I have had to pace myself in my physical activities.",
    7: "I have been less motivated to do anything that requires physical effort.",
    8: "I have been less motivated to participate in social activities.",
    9: "I have been limited in my ability to do things away from home.",
    10: "I have had trouble maintaining physical effort for long periods.",
    11: "I have had difficulty making decisions.",
    12: "I have been less motivated to do anything that requires thinking.",
    13: "My muscles have felt weak.",
    14: "I have been physically uncomfortable.",
    15: "I have had trouble finishing tasks that require thinking.",
    16: "I have had difficulty organizing my thoughts when doing things at home or at work.",
    17: "I have been less able to complete tasks that require physical effort.",
    18: "My thinking has been slowed down.",
    19: "I have had trouble concentrating.",
    20: "I have limited my physical activities.",
    21: "I have needed to rest more often or for longer periods.",
}
_MFIS_PHYSICAL = (4, 6, 7, 10, 13, 14, 17, 20, 21)
_MFIS_COGNITIVE = (1, 2, 3, 5, 11, 12, 15, 16, 18, 19)
_MFIS_PSYCHOSOCIAL = (8, 9)
_MFIS_SCALE = {
    **dict.fromkeys(_MFIS_PHYSICAL, "physical"),
    **dict.fromkeys(_MFIS_COGNITIVE, "cognitive"),
    **dict.fromkeys(_MFIS_PSYCHOSOCIAL, "psychosocial"),
}

MFIS = Questionnaire(
    key="mfis",
    name="MFIS",
    title="Modified Fatigue Impact Scale (MFIS)",
    instructions=(
        "Fatigue is a feeling of physical tiredness and lack of energy that many people "
        "experience from time to time. Below is a list of statements that describe the effects "
        "of fatigue. Please choose how often fatigue has affected you in this way during the "
        "past 4 weeks."
    ),
    options=(
        Option(0, "Never"),
        Option(1, "Rarely"),
        Option(2, "Sometimes"),
        Option(3, "Often"),
        Option(4, "Almost always"),
    ),
    sections=(
        Section(
            "Because of my fatigue during the past 4 weeks …", _items(_MFIS_SCALE, _MFIS_TEXTS)
        ),
    ),
    source="Multiple Sclerosis Council for Clinical Practice Guidelines, 1998",
)

_PHQ9_TEXTS = {
    1: "Little interest or pleasure in doing things",
    2: "Feeling down, depressed, or hopeless",
    3: "Trouble falling or staying asleep, or sleeping too much",
    4: "Feeling tired or having little energy",
    5: "Poor appetite or overeating",
    6: "Feeling bad about yourself, or that you are a failure or have let yourself or your "
    "family down",
    7: "Trouble concentrating on things, such as reading the newspaper or watching television",
    8: "Moving or speaking so slowly that other people could have noticed; or the opposite, "
    "being so fidgety or restless that you have been moving around a lot more than usual",
    9: "Thoughts that you would be better off dead, or of hurting yourself in some way",
}
SELF_HARM_ITEM: Final = 9

PHQ9 = Questionnaire(
    key="phq9",
    name="PHQ-9",
    title="Patient Health Questionnaire (PHQ-9)",
    instructions="Over the last 2 weeks, how often have you been bothered by any of the "
    "following problems?",
    options=(
        Option(0, "Not at all"),
        Option(1, "Several days"),
        Option(2, "More than half the days"),
        Option(3, "Nearly every day"),
    ),
    sections=(
        Section(
            "Over the last 2 weeks, how often have you been bothered by …", _items({}, _PHQ9_TEXTS)
        ),
    ),
    source="Kroenke K, Spitzer RL, Williams JBW, J Gen Intern Med 2001;16:606-613",
    closing_question=(
        "If you have had any of these problems, how difficult have they made it for you to do "
        "your work, take care of things at home, or get along with other people?"
    ),
    closing_options=(
        Option(0, "Not difficult at all"),
        Option(1, "Somewhat difficult"),
        Option(2, "Very difficult"),
        Option(3, "Extremely difficult"),
    ),
)

QUESTIONNAIRES: Final[Mapping[str, Questionnaire]] = MappingProxyType(
    {q.key: q for q in (MSIS29, MFIS, PHQ9)}
)

REQUIRED_MESSAGE: Final = "Please choose an answer."


def field_name(key: str, number: int) -> str:
    """The form field of one item: ``msis29-7``."""
    return f"{key}-{number}"


def _answer(questionnaire: Questionnaire, value: object) -> int | None:
    allowed = {option.value for option in questionnaire.options}
    if isinstance(value, bool):
        return None
    try:
        number = int(str(value).strip()) if isinstance(value, str) else int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None
    return number if number in allowed else None


def validate_answers(key: str, answers: Mapping[int, object]) -> list[tuple[int, str]]:
    """``(item number, message)`` for each unanswered or impossible item; empty when every item
    has one of the questionnaire's answers."""
    questionnaire = QUESTIONNAIRES[key]
    errors = []
    for item in questionnaire.items:
        raw = answers.get(item.number)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            errors.append((item.number, REQUIRED_MESSAGE))
        elif _answer(questionnaire, raw) is None:
            errors.append((item.number, "Choose one of the answers shown."))
    return errors


class IncompleteAnswers(ValueError):
    def __init__(self, errors: list[tuple[int, str]]) -> None:
        self.errors = errors
        super().__init__(f"{len(errors)} item(s) not answered")


def _clean(key: str, answers: Mapping[int, object]) -> dict[int, int]:
    errors = validate_answers(key, answers)
    if errors:
        raise IncompleteAnswers(errors)
    questionnaire = QUESTIONNAIRES[key]
    return {
        item.number: _answer(questionnaire, answers[item.number]) or 0
        for item in questionnaire.items
    }


def measure_fields(key: str, answers: Mapping[int, object]) -> dict[str, str]:
    """The outcome measure's fields (as :func:`treatments.outcomes.score` reads them) from a
    complete set of answers; raises :class:`IncompleteAnswers` otherwise."""
    clean = _clean(key, answers)
    questionnaire = QUESTIONNAIRES[key]

    def scale_sum(scale: str) -> int:
        return sum(clean[item.number] for item in questionnaire.items if item.scale == scale)

    match key:
        case "msis29":
            return {
                "physical": str(outcomes.msis29_transform("physical", scale_sum("physical"))),
                "psychological": str(
                    outcomes.msis29_transform("psychological", scale_sum("psychological"))
                ),
            }
        case "mfis":
            parts = {scale: scale_sum(scale) for scale in ("physical", "cognitive", "psychosocial")}
            return {**{k: str(v) for k, v in parts.items()}, "total": str(sum(parts.values()))}
        case "phq9":
            return {f"item_{n}": str(value) for n, value in clean.items()}
    raise AssertionError(f"No scoring for {key}")  # pragma: no cover


def score(key: str, answers: Mapping[int, object]) -> Decimal:
    """The questionnaire's summary score, as the outcome measure stores it."""
    return outcomes.score(key, measure_fields(key, answers))


def self_harm_reported(answers: Mapping[int, object]) -> bool:
    """PHQ-9 item 9 answered above "Not at all": a clinician must contact the patient today."""
    return (_answer(PHQ9, answers.get(SELF_HARM_ITEM)) or 0) > 0
