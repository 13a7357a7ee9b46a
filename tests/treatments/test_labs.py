"""Unit conversion, plausibility, CTCAE v5 grading and Hy's law (treatments/labs.py)."""

from decimal import Decimal

import pytest

from treatments import grading, labs
from treatments.labs import TIMES

D = Decimal
PER_L_9 = f"{TIMES}10⁹/L"
PER_UL_3 = f"{TIMES}10³/µL"
PER_L_6 = f"{TIMES}10⁶/L"

# (analyte, value, unit, expected canonical value): one row per accepted unit of every analyte.
CONVERSIONS = [
    ("alt", "45", "U/L", "45"),
    ("alt", "0.75", "µkat/L", "45"),
    ("ast", "30", "U/L", "30"),
    ("ast", "0.5", "µkat/L", "30"),
    ("alp", "100", "U/L", "100"),
    ("alp", "2", "µkat/L", "120"),
    ("ggt", "50", "U/L", "50"),
    ("ggt", "1", "µkat/L", "60"),
    ("bilirubin", "17", "µmol/L", "17"),
    ("bilirubin", "1", "mg/dL", "17.1"),
    ("bilirubin", "10", "mg/L", "17.1"),
    ("creatinine", "80", "µmol/L", "80"),
    ("creatinine", "1", "mg/dL", "88.4"),
    ("creatinine", "10", "mg/L", "88.4"),
    ("creatinine", "0.0884", "mmol/L", "88.4"),
    ("egfr", "90", "mL/min/1.73m²", "90"),
    ("wbc", "6.5", PER_L_9, "6.5"),
    ("wbc", "6.5", PER_UL_3, "6.5"),
    ("wbc", "6500", "cells/µL", "6.5"),
    ("wbc", "6500", PER_L_6, "6.5"),
    ("lymphocytes", "1.2", PER_L_9, "1.2"),
    ("lymphocytes", "1.2", PER_UL_3, "1.2"),
    ("lymphocytes", "1200", "cells/µL", "1.2"),
    ("lymphocytes", "1200", PER_L_6, "1.2"),
    ("neutrophils", "3", PER_L_9, "3"),
    ("neutrophils", "3", PER_UL_3, "3"),
    ("neutrophils", "3000", "cells/µL", "3"),
    ("neutrophils", "3000", PER_L_6, "3"),
    ("platelets", "250", PER_L_9, "250"),
    ("platelets", "250", PER_UL_3, "250"),
    ("platelets", "250000", "cells/µL", "250"),
    ("platelets", "250000", PER_L_6, "250"),
    ("cd4", "0.5", PER_L_9, "0.5"),
    ("cd4", "0.5", PER_UL_3, "0.5"),
    ("cd4", "500", "cells/µL", "0.5"),
    ("cd4", "500", PER_L_6, "0.5"),
    ("haemoglobin", "135", "g/L", "135"),
    ("haemoglobin", "13.5", "g/dL", "135"),
    ("haemoglobin", "8.5", "mmol/L", "136.935"),
    ("tsh", "2.5", "mU/L", "2.5"),
    ("free_t4", "15", "pmol/L", "15"),
    ("free_t4", "1.2", "ng/dL", "15.444"),
    ("igg", "10", "g/L", "10"),
    ("igg", "1000", "mg/dL", "10"),
    ("igg", "10000", "mg/L", "10"),
    ("igm", "1", "g/L", "1"),
    ("igm", "100", "mg/dL", "1"),
    ("igm", "1000", "mg/L", "1"),
    ("iga", "2", "g/L", "2"),
    ("iga", "200", "mg/dL", "2"),
    ("iga", "2000", "mg/L", "2"),
    ("lvef", "55", "%", "55"),
    ("qtc", "440", "ms", "440"),
    ("qtc", "0.44", "s", "440"),
    ("heart_rate", "72", "bpm", "72"),
    ("systolic_bp", "120", "mmHg", "120"),
    ("diastolic_bp", "80", "mmHg", "80"),
    ("urine_protein_creatinine", "15", "mg/mmol", "15"),
    ("urine_protein_creatinine", "1000", "mg/g", "113.12"),
    ("urine_protein_creatinine", "0.5", "g/g", "56.56"),
]


def test_every_analyte_key_from_the_shared_catalogue_is_defined():
    assert set(labs.ANALYTES) == {
        "alt",
        "ast",
        "alp",
        "bilirubin",
        "ggt",
        "creatinine",
        "egfr",
        "wbc",
        "lymphocytes",
        "neutrophils",
        "platelets",
        "haemoglobin",
        "tsh",
        "free_t4",
        "igg",
        "igm",
        "iga",
        "cd4",
        "lvef",
        "qtc",
        "heart_rate",
        "systolic_bp",
        "diastolic_bp",
        "urine_protein_creatinine",
    }


def test_conversion_table_covers_every_accepted_unit():
    # Guards the table below: a unit added to labs.py without a test row fails here.
    tested = {(analyte, unit) for analyte, _, unit, _ in CONVERSIONS}
    defined = {(a.key, u) for a in labs.ANALYTES.values() for u in a.accepted_units}
    assert tested == defined


@pytest.mark.parametrize(
    ("analyte", "value", "unit", "expected"),
    [pytest.param(*row, id=f"{row[0]}-{row[2]}") for row in CONVERSIONS],
)
def test_convert_gives_the_canonical_value(analyte, value, unit, expected):
    assert labs.convert(analyte, D(value), unit) == D(expected)


@pytest.mark.parametrize(
    ("analyte", "expected"),
    [
        pytest.param("lymphocytes", PER_L_9, id="counts"),
        pytest.param("alt", "U/L", id="enzymes"),
        pytest.param("bilirubin", "µmol/L", id="bilirubin"),
        pytest.param("creatinine", "µmol/L", id="creatinine"),
        pytest.param("egfr", "mL/min/1.73m²", id="egfr"),
        pytest.param("haemoglobin", "g/L", id="haemoglobin"),
        pytest.param("tsh", "mU/L", id="tsh"),
        pytest.param("free_t4", "pmol/L", id="free-t4"),
        pytest.param("igg", "g/L", id="immunoglobulins"),
        pytest.param("cd4", PER_L_9, id="cd4"),
        pytest.param("lvef", "%", id="lvef"),
        pytest.param("qtc", "ms", id="qtc"),
        pytest.param("heart_rate", "bpm", id="heart-rate"),
        pytest.param("systolic_bp", "mmHg", id="bp"),
        pytest.param("urine_protein_creatinine", "mg/mmol", id="upcr"),
    ],
)
def test_canonical_unit(analyte, expected):
    assert labs.get_analyte(analyte).canonical_unit == expected


@pytest.mark.parametrize(
    "spelling",
    [
        pytest.param("10^9/L", id="caret"),
        pytest.param("x10^9/L", id="x-caret"),
        pytest.param(PER_L_9, id="times-superscript"),
        pytest.param("10⁹/L", id="superscript"),
        pytest.param("10*9/L", id="asterisk"),
        pytest.param("10E9/L", id="e-notation"),
        pytest.param("G/L", id="giga"),
        pytest.param(" x 10^9 / l ", id="spaces-lower-case"),
        pytest.param("10^3/uL", id="thousand-per-ul"),
        pytest.param("K/µL", id="k-per-ul"),
    ],
)
def test_count_spellings_for_1_2_x10_9_per_litre(spelling):
    assert labs.convert("lymphocytes", D("1.2"), spelling) == D("1.2")


@pytest.mark.parametrize(
    "spelling",
    [
        pytest.param("cells/uL", id="cells-u"),
        pytest.param("cells/µL", id="cells-micro-sign"),
        pytest.param("cells/\u03bcL", id="cells-greek-mu"),
        pytest.param("/µL", id="per-micro-sign"),
        pytest.param("/uL", id="per-u"),
        pytest.param("cells/mcL", id="cells-mc"),
        pytest.param("/mm3", id="per-mm3"),
        pytest.param("/mm³", id="per-mm-superscript"),
        pytest.param("cells/mm^3", id="cells-mm-caret"),
    ],
)
def test_per_microlitre_spellings(spelling):
    assert labs.convert("lymphocytes", D("1200"), spelling) == D("1.2")


@pytest.mark.parametrize(
    ("analyte", "spelling", "value", "expected"),
    [
        pytest.param("alt", "IU/L", "45", "45", id="alt-iu"),
        pytest.param("alt", "ukat/L", "1", "60", id="alt-ukat"),
        pytest.param("bilirubin", "umol/L", "17", "17", id="bilirubin-umol"),
        pytest.param("bilirubin", "mg/dl", "1", "17.1", id="bilirubin-mg-dl-lower"),
        pytest.param("creatinine", "umol/l", "80", "80", id="creatinine-umol"),
        pytest.param("tsh", "mIU/L", "2.5", "2.5", id="tsh-miu"),
        pytest.param("tsh", "µIU/mL", "2.5", "2.5", id="tsh-uiu-ml"),
        pytest.param("egfr", "mL/min/1.73 m2", "90", "90", id="egfr-space"),
        pytest.param("egfr", "ml/min/1.73m^2", "90", "90", id="egfr-caret"),
        pytest.param("haemoglobin", "g/100mL", "13.5", "135", id="hb-g-100ml"),
        pytest.param("heart_rate", "/min", "72", "72", id="hr-per-min"),
        pytest.param("systolic_bp", "mm Hg", "120", "120", id="bp-space"),
        pytest.param("qtc", "msec", "440", "440", id="qtc-msec"),
        pytest.param("urine_protein_creatinine", "mg/mg", "0.5", "56.56", id="upcr-mg-mg"),
    ],
)
def test_common_spellings(analyte, spelling, value, expected):
    assert labs.convert(analyte, D(value), spelling) == D(expected)


def test_unknown_unit_raises_unit_error_listing_accepted_units():
    with pytest.raises(labs.UnitError, match=r"accepted units: .*cells/µL") as excinfo:
        labs.convert("lymphocytes", D("1.2"), "mmol/L")
    assert isinstance(excinfo.value, ValueError)


def test_empty_unit_raises_unit_error():
    with pytest.raises(labs.UnitError, match="Cannot convert ALT"):
        labs.convert("alt", D("40"), "")


def test_a_unit_of_another_analyte_is_not_accepted():
    # g/dL is a haemoglobin unit; for lymphocytes it is meaningless.
    with pytest.raises(labs.UnitError):
        labs.convert("lymphocytes", D("1"), "g/dL")


def test_unknown_analyte_raises():
    with pytest.raises(labs.UnknownAnalyte, match="known analytes"):
        labs.convert("ferritin", D("50"), "µg/L")


def test_integral_results_print_without_exponent():
    assert str(labs.convert("creatinine", D("1E+2"), "µmol/L")) == "100"


def test_float_input_goes_through_str():
    assert labs.convert("lymphocytes", 0.1, PER_L_9) == D("0.1")


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("abc", id="text"),
        pytest.param("NaN", id="nan"),
        pytest.param("Infinity", id="infinity"),
    ],
)
def test_non_numbers_are_refused(value):
    with pytest.raises(ValueError, match="not a"):
        labs.convert("alt", value, "U/L")


def test_boolean_is_not_a_lab_value():
    with pytest.raises(TypeError):
        labs.to_decimal(True)


def test_convert_range_converts_both_ends():
    assert labs.convert_range(
        "lymphocytes", low=D("1000"), high=D("4000"), unit="cells/uL"
    ) == labs.ReferenceRange(D("1"), D("4"), PER_L_9)


def test_convert_range_keeps_an_open_end():
    assert labs.convert_range("alt", low=None, high=D("0.55"), unit="µkat/L") == (
        labs.ReferenceRange(None, D("33"), "U/L")
    )


def test_convert_range_refuses_low_above_high():
    with pytest.raises(ValueError, match="above high"):
        labs.convert_range("alt", low=D("50"), high=D("10"), unit="U/L")


def test_convert_range_refuses_unknown_unit():
    with pytest.raises(labs.UnitError):
        labs.convert_range("alt", low=D("5"), high=D("40"), unit="mmol/L")


@pytest.mark.parametrize("analyte", sorted(labs.ANALYTES))
def test_plausible_limits_are_inclusive(analyte):
    spec = labs.ANALYTES[analyte]
    labs.check_plausible(analyte, spec.plausible_low)
    labs.check_plausible(analyte, spec.plausible_high)


@pytest.mark.parametrize("analyte", sorted(labs.ANALYTES))
def test_value_just_above_the_plausible_range_is_refused(analyte):
    spec = labs.ANALYTES[analyte]
    with pytest.raises(labs.ImplausibleValue, match="plausible range"):
        labs.check_plausible(analyte, spec.plausible_high + D("0.01"))


@pytest.mark.parametrize("analyte", sorted(labs.ANALYTES))
def test_value_just_below_the_plausible_range_is_refused(analyte):
    spec = labs.ANALYTES[analyte]
    with pytest.raises(labs.ImplausibleValue):
        labs.check_plausible(analyte, spec.plausible_low - D("0.01"))


@pytest.mark.parametrize(
    ("analyte", "value", "range_text"),
    [
        pytest.param("lymphocytes", "1200", "0-100", id="cells-per-ul-typed-as-x10-9"),
        pytest.param("haemoglobin", "13.5", "20-250", id="g-dl-typed-as-g-l"),
        pytest.param("creatinine", "1.0", "10-3000", id="mg-dl-typed-as-umol-l"),
        pytest.param("platelets", "250000", "0-2000", id="platelets-per-ul"),
        pytest.param("igg", "1000", "0-100", id="igg-mg-dl-typed-as-g-l"),
    ],
)
def test_typical_unit_slips_are_implausible_and_the_message_names_the_range(
    analyte, value, range_text
):
    with pytest.raises(labs.ImplausibleValue, match=range_text):
        labs.check_plausible(analyte, D(value))


def test_implausible_value_is_a_value_error():
    assert issubclass(labs.ImplausibleValue, ValueError)


def test_canonical_value_converts_then_checks():
    assert labs.canonical_value("lymphocytes", "1200", "cells/µL") == D("1.2")


def test_canonical_value_refuses_an_implausible_converted_value():
    with pytest.raises(labs.ImplausibleValue):
        labs.canonical_value("lymphocytes", "1200", PER_L_9)


# --- times ULN ------------------------------------------------------------------------------


def test_times_uln_divides_by_the_uln():
    assert grading.times_uln(D("120"), D("40")) == D("3")


@pytest.mark.parametrize(
    ("uln", "message"),
    [
        pytest.param(None, "missing", id="missing"),
        pytest.param(D("0"), "positive", id="zero"),
        pytest.param(D("-5"), "positive", id="negative"),
    ],
)
def test_times_uln_needs_a_positive_uln(uln, message):
    with pytest.raises(labs.MissingReferenceLimit, match=message):
        grading.times_uln(D("50"), uln)


# --- CTCAE v5 "decreased" -------------------------------------------------------------------


def _decreased(analyte, lln, cases):
    # cases: "value=grade ..." walking down through every band edge.
    return [
        pytest.param(analyte, D(lln), D(value), int(grade), id=f"{analyte}-{value}-g{grade}")
        for value, grade in (case.split("=") for case in cases.split())
    ]


DECREASED_BOUNDARIES = [
    *_decreased("lymphocytes", "1.0", "1.0=0 0.99=1 0.8=1 0.79=2 0.5=2 0.49=3 0.2=3 0.19=4 0=4"),
    *_decreased("neutrophils", "2.0", "2.0=0 1.99=1 1.5=1 1.49=2 1.0=2 0.99=3 0.5=3 0.49=4"),
    *_decreased("platelets", "150", "150=0 149=1 75=1 74=2 50=2 49=3 25=3 24=4"),
    *_decreased("wbc", "4.0", "4.0=0 3.9=1 3.0=1 2.9=2 2.0=2 1.9=3 1.0=3 0.9=4"),
    # Anaemia stops at grade 3 as a number; grade 4 is clinical (CTCAE v5).
    *_decreased("haemoglobin", "120", "120=0 119=1 100=1 99=2 80=2 79=3 30=3"),
]


@pytest.mark.parametrize(("analyte", "lln", "value", "grade"), DECREASED_BOUNDARIES)
def test_ctcae_decreased_band_boundaries(analyte, lln, value, grade):
    assert grading.ctcae_grade(analyte, value, lln=lln, uln=None) == grade


def test_high_count_is_grade_0():
    assert grading.ctcae_grade("lymphocytes", D("6"), lln=D("1.0"), uln=D("4.0")) == 0


def test_absolute_bands_apply_even_when_the_lab_lln_is_lower():
    # CTCAE writes grade 2 as "< 0.8"; a lab LLN of 0.7 does not make 0.75 normal.
    assert grading.ctcae_grade("lymphocytes", D("0.75"), lln=D("0.7"), uln=None) == 2


def test_missing_lln_is_fine_when_the_absolute_bands_decide():
    assert grading.ctcae_grade("lymphocytes", D("0.3"), lln=None, uln=None) == 3


def test_missing_lln_is_an_error_when_it_decides_grade_1():
    with pytest.raises(labs.MissingReferenceLimit, match="LLN"):
        grading.ctcae_grade("lymphocytes", D("0.9"), lln=None, uln=None)


# --- CTCAE v5 "increased" -------------------------------------------------------------------


def _increased(analyte, uln, baseline, cases):
    label = "uln" if baseline is None else f"baseline-{baseline}"
    return [
        pytest.param(
            analyte,
            D(uln),
            None if baseline is None else D(baseline),
            D(value),
            int(grade),
            id=f"{analyte}-{label}-{value}-g{grade}",
        )
        for value, grade in (case.split("=") for case in cases.split())
    ]


ALT_ULN_CASES = "40=0 41=1 120=1 121=2 200=2 201=3 800=3 801=4"
# Baseline 80 (2 x ULN 40): grade 1 is 1.5-3 x baseline, 2 is >3-5, 3 is >5-20, 4 is >20.
ALT_BASELINE_CASES = "119=0 120=1 240=1 241=2 400=2 401=3 1600=3 1601=4"

INCREASED_BOUNDARIES = [
    *_increased("alt", "40", None, ALT_ULN_CASES),
    *_increased("ast", "40", None, ALT_ULN_CASES),
    *_increased("alt", "40", "80", ALT_BASELINE_CASES),
    *_increased("ast", "40", "80", ALT_BASELINE_CASES),
    *_increased("bilirubin", "20", None, "20=0 21=1 30=1 31=2 60=2 61=3 200=3 201=4"),
    # Baseline 30 (1.5 x ULN 20): grade 1 is >1.0-1.5 x baseline.
    *_increased("bilirubin", "20", "30", "30=0 31=1 45=1 46=2 90=2 91=3 300=3 301=4"),
    *_increased("creatinine", "100", None, "100=0 101=1 150=1 151=2 300=2 301=3 600=3 601=4"),
    # Baseline 40 with ULN 100: the baseline branch can grade a value still under ULN.
    *_increased("creatinine", "100", "40", "60=0 61=2 120=2 121=3"),
]


@pytest.mark.parametrize(("analyte", "uln", "baseline", "value", "grade"), INCREASED_BOUNDARIES)
def test_ctcae_increased_band_boundaries(analyte, uln, baseline, value, grade):
    assert grading.ctcae_grade(analyte, value, lln=None, uln=uln, baseline=baseline) == grade


def test_normal_baseline_keeps_the_uln_rule():
    assert grading.ctcae_grade("alt", D("41"), lln=None, uln=D("40"), baseline=D("30")) == 1


def test_creatinine_baseline_never_lowers_the_uln_grade():
    assert (
        grading.ctcae_grade("creatinine", D("700"), lln=None, uln=D("100"), baseline=D("400")) == 4
    )


def test_creatinine_baseline_must_be_positive():
    with pytest.raises(labs.MissingReferenceLimit, match="baseline"):
        grading.ctcae_grade("creatinine", D("120"), lln=None, uln=D("100"), baseline=D("0"))


@pytest.mark.parametrize("analyte", ["alt", "ast", "bilirubin", "creatinine"])
def test_increased_grading_needs_the_uln(analyte):
    with pytest.raises(labs.MissingReferenceLimit, match="ULN"):
        grading.ctcae_grade(analyte, D("50"), lln=None, uln=None)


@pytest.mark.parametrize("analyte", sorted(set(labs.ANALYTES) - grading.CTCAE_GRADED_ANALYTES))
def test_analytes_without_a_ctcae_rule_grade_as_none(analyte):
    assert grading.ctcae_grade(analyte, D("1"), lln=D("0.5"), uln=D("2")) is None


def test_ctcae_grade_refuses_an_unknown_analyte():
    with pytest.raises(labs.UnknownAnalyte):
        grading.ctcae_grade("ferritin", D("1"), lln=None, uln=None)


# --- Hy's law -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("alt_x_uln", "bilirubin_x_uln", "expected"),
    [
        pytest.param("3.01", "2.01", True, id="both-above"),
        pytest.param("3", "2.5", False, id="alt-exactly-3"),
        pytest.param("5", "2", False, id="bilirubin-exactly-2"),
        pytest.param("2", "5", False, id="alt-low"),
        pytest.param("10", "1", False, id="bilirubin-low"),
    ],
)
def test_is_hys_law(alt_x_uln, bilirubin_x_uln, expected):
    assert grading.is_hys_law(D(alt_x_uln), D(bilirubin_x_uln)) is expected


def test_hys_law_from_values_uses_each_uln():
    assert grading.hys_law_from_values(
        alt=D("130"), alt_uln=D("40"), bilirubin=D("45"), bilirubin_uln=D("21")
    )


def test_hys_law_from_values_is_false_below_the_bilirubin_limit():
    assert not grading.hys_law_from_values(
        alt=D("130"), alt_uln=D("40"), bilirubin=D("42"), bilirubin_uln=D("21")
    )


def test_hys_law_from_values_needs_both_ulns():
    with pytest.raises(labs.MissingReferenceLimit):
        grading.hys_law_from_values(
            alt=D("130"), alt_uln=D("40"), bilirubin=D("45"), bilirubin_uln=None
        )
