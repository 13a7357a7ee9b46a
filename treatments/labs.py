"""Units and plausibility for numeric lab analytes (grading is in `grading`).

Pure functions over ``Decimal``; no Django. "§n" points to a section of
``/work/shared/reference/dmt-monitoring.md``.

Conventions (§0.2): cell counts are stored in x10⁹/L, and every rule that is relative to a
limit of normal uses the reporting lab's own LLN/ULN, converted to the canonical unit.

The analyte keys are shared with the protocol catalogue; do not rename them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from types import MappingProxyType

__all__ = [
    "ANALYTES",
    "TIMES",
    "Analyte",
    "ImplausibleValue",
    "MissingReferenceLimit",
    "ReferenceRange",
    "UnitConversion",
    "UnitError",
    "UnknownAnalyte",
    "canonical_value",
    "check_plausible",
    "convert",
    "convert_range",
    "get_analyte",
    "normalise_unit",
    "to_decimal",
]

Number = Decimal | int | str

# The unit names show a real multiplication sign; ruff flags the literal character.
TIMES = "\N{MULTIPLICATION SIGN}"


class UnknownAnalyte(ValueError):
    """The analyte key is not one of :data:`ANALYTES`."""


class UnitError(ValueError):
    """A unit cannot be converted to the analyte's canonical unit."""


class ImplausibleValue(ValueError):
    """A value lies outside the analyte's hard physiological limits (likely a unit or typing
    error)."""


class MissingReferenceLimit(ValueError):
    """A rule needs the lab's LLN/ULN (or a baseline) and it is missing, zero or negative."""


@dataclass(frozen=True)
class UnitConversion:
    """One accepted unit: ``canonical = value x factor``. ``aliases`` are other spellings."""

    unit: str
    factor: Decimal
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Analyte:
    """A numeric analyte: its canonical unit (``units[0]``), alternatives and hard limits.

    ``plausible_low``/``plausible_high`` (inclusive, canonical unit) are not reference ranges:
    they bound what a patient in an MS clinic can have, so that a count typed in cells/µL
    against x10⁹/L, or a slipped decimal point, is refused rather than graded.
    """

    key: str
    name: str
    units: tuple[UnitConversion, ...]
    plausible_low: Decimal
    plausible_high: Decimal
    plausible_note: str

    @property
    def canonical_unit(self) -> str:
        return self.units[0].unit

    @property
    def accepted_units(self) -> tuple[str, ...]:
        return tuple(u.unit for u in self.units)


@dataclass(frozen=True)
class ReferenceRange:
    """A lab's reference range in the canonical unit; either end may be absent."""

    low: Decimal | None
    high: Decimal | None
    unit: str


def _d(text: str) -> Decimal:
    return Decimal(text)


# --- unit families --------------------------------------------------------------------------

# §0.2: 1.0 x10⁹/L = 1000 cells/µL = 1.0 x10³/µL; 1 mm³ = 1 µL.
_COUNT_UNITS = (
    UnitConversion(
        f"{TIMES}10⁹/L",
        _d("1"),
        ("10^9/L", "x10^9/L", f"{TIMES}10⁹/L", "10⁹/L", "10*9/L", "10E9/L", "G/L", "giga/L"),
    ),
    UnitConversion(
        f"{TIMES}10³/µL",
        _d("1"),
        ("10^3/uL", "x10^3/µL", "10*3/uL", "10E3/uL", "K/uL", "K/µL", "thou/uL", "10^3/mm3"),
    ),
    UnitConversion(
        "cells/µL",
        _d("0.001"),
        ("cells/uL", "/uL", "/µL", "cells/mcL", "/mcL", "/mm3", "/mm³", "cells/mm3", "cells/mm³"),
    ),
    UnitConversion(
        f"{TIMES}10⁶/L", _d("0.001"), ("10^6/L", "x10^6/L", "10*6/L", "10E6/L", "10⁶/L")
    ),
)

# 1 U = 1 µmol/min and 1 kat = 1 mol/s, so 1 µkat/L = 60 U/L exactly.
_ENZYME_UNITS = (
    UnitConversion("U/L", _d("1"), ("IU/L", "units/L")),
    UnitConversion("µkat/L", _d("60"), ("ukat/L", "microkat/L")),
)

# Conventional SI factors: bilirubin 17.1 µmol/L per mg/dL, creatinine 88.4 µmol/L per mg/dL.
_BILIRUBIN_UNITS = (
    UnitConversion("µmol/L", _d("1"), ("umol/L", "micromol/L")),
    UnitConversion("mg/dL", _d("17.1")),
    UnitConversion("mg/L", _d("1.71")),
)
_CREATININE_UNITS = (
    UnitConversion("µmol/L", _d("1"), ("umol/L", "micromol/L")),
    UnitConversion("mg/dL", _d("88.4")),
    UnitConversion("mg/L", _d("8.84")),
    UnitConversion("mmol/L", _d("1000")),
)
_IMMUNOGLOBULIN_UNITS = (
    UnitConversion("g/L", _d("1")),
    UnitConversion("mg/dL", _d("0.01")),
    UnitConversion("mg/L", _d("0.001")),
)


def _analyte(
    key: str,
    name: str,
    units: tuple[UnitConversion, ...],
    low: str,
    high: str,
    note: str,
) -> Analyte:
    return Analyte(key, name, units, _d(low), _d(high), note)


_ANALYTE_LIST = (
    _analyte(
        "alt",
        "ALT",
        _ENZYME_UNITS,
        "0",
        "20000",
        "Ischaemic or paracetamol hepatitis can exceed 10 000 U/L.",
    ),
    _analyte("ast", "AST", _ENZYME_UNITS, "0", "20000", "As for ALT."),
    _analyte(
        "alp",
        "Alkaline phosphatase",
        _ENZYME_UNITS,
        "0",
        "5000",
        "Severe cholestasis or bone disease stays below a few thousand U/L.",
    ),
    _analyte("ggt", "GGT", _ENZYME_UNITS, "0", "5000", "As for ALP."),
    _analyte(
        "bilirubin",
        "Total bilirubin",
        _BILIRUBIN_UNITS,
        "0",
        "1000",
        "1000 µmol/L ≈ 58 mg/dL, beyond fulminant liver failure.",
    ),
    _analyte(
        "creatinine",
        "Creatinine",
        _CREATININE_UNITS,
        "10",
        "3000",
        "Below 10 µmol/L is a mg/dL value in the wrong unit; untreated end-stage renal "
        "failure stays below 3000 µmol/L.",
    ),
    _analyte(
        "egfr",
        "eGFR",
        (
            UnitConversion(
                "mL/min/1.73m²",
                _d("1"),
                ("mL/min/1.73 m2", "mL/min/1.73m^2", "mL/min/1.73m2", "mL/min/{1.73_m2}"),
            ),
        ),
        "0",
        "200",
        "CKD-EPI rarely exceeds ~150; many labs cap the report at >90.",
    ),
    _analyte(
        "wbc",
        "White cell count",
        _COUNT_UNITS,
        "0",
        "200",
        "Leukaemic hyperleukocytosis can pass 100 x10⁹/L; 200 would be cells/µL mis-entered.",
    ),
    _analyte(
        "lymphocytes",
        "Lymphocytes (absolute)",
        _COUNT_UNITS,
        "0",
        "100",
        "Normal ~1-4 x10⁹/L; above 100 only in extreme leukaemic lymphocytosis, so a larger "
        "number is almost certainly cells/µL typed as x10⁹/L.",
    ),
    _analyte(
        "neutrophils",
        "Neutrophils (absolute)",
        _COUNT_UNITS,
        "0",
        "100",
        "Leukaemoid reactions stay below ~100 x10⁹/L.",
    ),
    _analyte(
        "platelets",
        "Platelets",
        _COUNT_UNITS,
        "0",
        "2000",
        "Essential thrombocythaemia can approach 2000 x10⁹/L; larger is cells/µL.",
    ),
    _analyte(
        "haemoglobin",
        "Haemoglobin",
        (
            UnitConversion("g/L", _d("1")),
            UnitConversion("g/dL", _d("10"), ("g/100mL",)),
            # Dutch labs: Hb monomer 16 114.5 g/mol → 1 mmol/L = 16.11 g/L (4 s.f.).
            UnitConversion("mmol/L", _d("16.11")),
        ),
        "20",
        "250",
        "Below 20 g/L is not survivable and is usually a g/dL value; polycythaemia stays "
        "below 250 g/L.",
    ),
    _analyte(
        "tsh",
        "TSH",
        (UnitConversion("mU/L", _d("1"), ("mIU/L", "µIU/mL", "uIU/mL", "µU/mL", "uU/mL")),),
        "0",
        "500",
        "Severe primary hypothyroidism can reach a few hundred mU/L.",
    ),
    _analyte(
        "free_t4",
        "Free T4",
        (
            UnitConversion("pmol/L", _d("1")),
            # T4 777 g/mol: 1 ng/dL = 12.87 pmol/L.
            UnitConversion("ng/dL", _d("12.87")),
        ),
        "0",
        "200",
        "Thyroid storm rarely exceeds 100 pmol/L.",
    ),
    _analyte(
        "igg",
        "IgG",
        _IMMUNOGLOBULIN_UNITS,
        "0",
        "100",
        "Normal 6-16 g/L; a myeloma paraprotein can approach 100 g/L; mg/dL values are larger.",
    ),
    _analyte(
        "igm",
        "IgM",
        _IMMUNOGLOBULIN_UNITS,
        "0",
        "30",
        "Normal 0.4-2.3 g/L; above 30 g/L only in Waldenström's, while mg/dL values are larger.",
    ),
    _analyte(
        "iga",
        "IgA",
        _IMMUNOGLOBULIN_UNITS,
        "0",
        "60",
        "Normal 0.7-4 g/L; an IgA paraprotein rarely exceeds 60 g/L.",
    ),
    _analyte(
        "cd4",
        "CD4 count",
        _COUNT_UNITS,
        "0",
        "5",
        "Normal ~0.5-1.5 x10⁹/L (500-1500 cells/µL).",
    ),
    _analyte(
        "lvef",
        "LVEF",
        (UnitConversion("%", _d("1"), ("percent", "pct")),),
        "5",
        "90",
        "Outside 5-90 % is not a measured ejection fraction (a fraction such as 0.55 is "
        "refused rather than guessed).",
    ),
    _analyte(
        "qtc",
        "QTc",
        (
            UnitConversion("ms", _d("1"), ("msec", "millisecond", "milliseconds")),
            UnitConversion("s", _d("1000"), ("sec", "seconds")),
        ),
        "200",
        "800",
        "Outside 200-800 ms is a measurement or entry error.",
    ),
    _analyte(
        "heart_rate",
        "Heart rate",
        (UnitConversion("bpm", _d("1"), ("beats/min", "/min", "1/min", "min-1", "{beats}/min")),),
        "20",
        "300",
        "Sustained rates outside 20-300 bpm are not recordable in clinic.",
    ),
    _analyte(
        "systolic_bp",
        "Systolic blood pressure",
        (UnitConversion("mmHg", _d("1"), ("mm Hg", "mm[Hg]")),),
        "40",
        "300",
        "Outside 40-300 mmHg is an entry error.",
    ),
    _analyte(
        "diastolic_bp",
        "Diastolic blood pressure",
        (UnitConversion("mmHg", _d("1"), ("mm Hg", "mm[Hg]")),),
        "10",
        "200",
        "Outside 10-200 mmHg is an entry error.",
    ),
    _analyte(
        "urine_protein_creatinine",
        "Urine protein:creatinine ratio",
        (
            UnitConversion("mg/mmol", _d("1")),
            # Creatinine 113.12 g/mol: 1 g creatinine = 8.84 mmol, so mg/g x 0.11312 = mg/mmol.
            UnitConversion("mg/g", _d("0.11312")),
            UnitConversion("g/g", _d("113.12"), ("mg/mg",)),
        ),
        "0",
        "2000",
        "Nephrotic range starts near 300 mg/mmol; 2000 is beyond any reported value.",
    ),
)

ANALYTES: Mapping[str, Analyte] = MappingProxyType({a.key: a for a in _ANALYTE_LIST})

_SUPERSCRIPT_DIGITS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")


def normalise_unit(unit: str) -> str:
    """Reduce a unit spelling to a comparison key: case, µ/μ/mc/u, the multiplication sign, ^ * E and superscript
    powers, spaces, "cells" and IU/U are all folded, so ``x10⁹/L`` == ``10*9/l``. Case is
    folded per analyte, which is safe because no analyte accepts two units differing only in case
    (counts take giga "G/L", never grams)."""
    text = re.sub(r"[⁰¹²³⁴⁵⁶⁷⁸⁹]+", lambda m: "^" + m.group(0).translate(_SUPERSCRIPT_DIGITS), unit)
    text = "".join(text.split()).casefold()
    text = text.replace("µ", "u").replace("μ", "u").replace(TIMES, "x")
    text = re.sub(r"mc(?=[lmk])", "u", text)  # US "mcL", "mcmol"
    text = re.sub(r"10(?:\^|\*\*|\*|e)(\d+)", r"10^\1", text)
    text = re.sub(r"^x(?=10\^)", "", text)
    text = re.sub(r"(?<!10)\^", "", text)  # m^2 → m2, mm^3 → mm3
    text = re.sub(r"cells?(?=/)", "", text)
    return text.replace("iu", "u")


def _build_lookup(analyte: Analyte) -> dict[str, UnitConversion]:
    lookup: dict[str, UnitConversion] = {}
    for conversion in analyte.units:
        for spelling in (conversion.unit, *conversion.aliases):
            key = normalise_unit(spelling)
            existing = lookup.setdefault(key, conversion)
            if existing is not conversion:
                raise AssertionError(f"{analyte.key}: {spelling!r} is ambiguous")
    return lookup


_UNIT_LOOKUP: Mapping[str, Mapping[str, UnitConversion]] = MappingProxyType(
    {a.key: MappingProxyType(_build_lookup(a)) for a in _ANALYTE_LIST}
)


def get_analyte(key: str) -> Analyte:
    """The :class:`Analyte` for ``key``, or :class:`UnknownAnalyte` naming the known keys."""
    try:
        return ANALYTES[key]
    except KeyError:
        known = ", ".join(ANALYTES)
        raise UnknownAnalyte(f"Unknown analyte {key!r}; known analytes: {known}.") from None


def to_decimal(value: Number | float) -> Decimal:
    """``value`` as a finite Decimal; floats go through ``str`` to avoid binary artefacts."""
    if isinstance(value, bool):
        raise TypeError("A boolean is not a lab value.")
    try:
        number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    except (InvalidOperation, ValueError):
        raise ValueError(f"{value!r} is not a number.") from None
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a finite number.")
    return number


def _tidy(number: Decimal) -> Decimal:
    # 884 / 8.84 style results come back as 1E+2; keep them printable as plain numbers.
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and exponent > 0:
        return number.quantize(Decimal(1))
    return number


def _conversion(analyte: Analyte, unit: str) -> UnitConversion:
    found = _UNIT_LOOKUP[analyte.key].get(normalise_unit(unit)) if unit else None
    if found is None:
        accepted = ", ".join(analyte.accepted_units)
        raise UnitError(
            f"Cannot convert {analyte.name} from {unit!r}; accepted units: {accepted} "
            f"(canonical: {analyte.canonical_unit})."
        )
    return found


def convert(analyte: str, value: Number | float, unit: str) -> Decimal:
    """``value`` in ``unit`` expressed in the analyte's canonical unit (§0.2).

    Raises :class:`UnitError` listing the accepted units if ``unit`` is not one of them.
    """
    spec = get_analyte(analyte)
    return _tidy(to_decimal(value) * _conversion(spec, unit).factor)


def convert_range(
    analyte: str, *, low: Number | float | None, high: Number | float | None, unit: str
) -> ReferenceRange:
    """A lab reference range converted like :func:`convert`; store it with every result
    (§0.2, §13)."""
    spec = get_analyte(analyte)
    factor = _conversion(spec, unit).factor
    low_c = None if low is None else _tidy(to_decimal(low) * factor)
    high_c = None if high is None else _tidy(to_decimal(high) * factor)
    if low_c is not None and high_c is not None and low_c > high_c:
        raise ValueError(f"Reference range low {low} is above high {high}.")
    return ReferenceRange(low_c, high_c, spec.canonical_unit)


def check_plausible(analyte: str, value_canonical: Decimal) -> None:
    """Raise :class:`ImplausibleValue` if the canonical value is outside the analyte's hard
    limits (inclusive)."""
    spec = get_analyte(analyte)
    if not spec.plausible_low <= value_canonical <= spec.plausible_high:
        raise ImplausibleValue(
            f"{spec.name} {value_canonical} {spec.canonical_unit} is outside the plausible "
            f"range {spec.plausible_low}-{spec.plausible_high} {spec.canonical_unit}; "
            f"check the value and its unit. ({spec.plausible_note})"
        )


def canonical_value(analyte: str, value: Number | float, unit: str) -> Decimal:
    """:func:`convert` then :func:`check_plausible`: the usual path for a newly entered result."""
    converted = convert(analyte, value, unit)
    check_plausible(analyte, converted)
    return converted
