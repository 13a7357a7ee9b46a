"""The clinic default reference ranges Myelin ships with, and which range existing values used.

The table is frozen here (a later change is a new version, added by the clinic admin on the
reference-range page or by a later migration), so a fresh database and an upgraded one start
from the same rows. Ranges are adult and in each analyte's canonical unit (treatments/labs.py).

Deliberate choices (also in each row's note):

* Where the UK Pathology Harmony programme harmonised an adult range it is used and named; other
  analytes are method- or population-dependent, so a typical adult interval is given as "CK" with
  "(verify)": the clinic admin replaces it with the local laboratory's.
* Sex-specific analytes have a female and a male band, and an "any sex" band for a patient whose
  sex is recorded as neither: the narrower of the two (more flags, never fewer), which also
  nudges the record to be completed.
* Analytes whose childhood range differs markedly (alkaline phosphatase, creatinine,
  haemoglobin) have adult bands only (aged 18 and over): a younger patient's value without the
  lab's range is shown as "no range" rather than graded against an adult one.
* Enzymes, bilirubin and QTc have an upper limit only; eGFR a lower limit only.
"""

from datetime import date
from decimal import Decimal
from typing import Any

from django.db import migrations

VALID_FROM = date(2026, 1, 1)
COUNT = "\N{MULTIPLICATION SIGN}10⁹/L"
HARMONY = "Pathology Harmony (UK), adults"
VERIFY = "CK: typical adult interval (verify against the local laboratory)"
UNION_NOTE = "Sex recorded as neither female nor male: the narrower of the two ranges."
ADULT_NOTE = "Adults only: the childhood range differs; enter the lab's range under 18."

# analyte, sex, age_from, low, high, unit, source, note
ROWS: list[tuple[str, str, int | None, str | None, str | None, str, str, str]] = [
    ("alt", "male", None, None, "45", "U/L", VERIFY, "Method-dependent; not harmonised."),
    ("alt", "female", None, None, "35", "U/L", VERIFY, "Method-dependent; not harmonised."),
    ("alt", "any", None, None, "35", "U/L", VERIFY, UNION_NOTE),
    ("ast", "any", None, None, "40", "U/L", VERIFY, "Method-dependent; not harmonised."),
    ("alp", "any", 18, "30", "130", "U/L", HARMONY, ADULT_NOTE),
    ("ggt", "male", None, None, "55", "U/L", VERIFY, "Method-dependent; not harmonised."),
    ("ggt", "female", None, None, "38", "U/L", VERIFY, "Method-dependent; not harmonised."),
    ("ggt", "any", None, None, "38", "U/L", VERIFY, UNION_NOTE),
    ("bilirubin", "any", None, None, "21", "µmol/L", HARMONY, "Total bilirubin."),
    (
        "creatinine",
        "male",
        18,
        "59",
        "104",
        "µmol/L",
        VERIFY,
        "Enzymatic, IDMS-traceable. " + ADULT_NOTE,
    ),
    (
        "creatinine",
        "female",
        18,
        "45",
        "84",
        "µmol/L",
        VERIFY,
        "Enzymatic, IDMS-traceable. " + ADULT_NOTE,
    ),
    ("creatinine", "any", 18, "59", "84", "µmol/L", VERIFY, UNION_NOTE + " " + ADULT_NOTE),
    (
        "egfr",
        "any",
        None,
        "60",
        None,
        "mL/min/1.73m²",
        "KDIGO 2012 (below 60 = GFR category G3a or worse)",
        "Lower limit only: 60-89 is 'mildly decreased' and not flagged.",
    ),
    ("wbc", "any", None, "4.0", "11.0", COUNT, HARMONY, ""),
    (
        "lymphocytes",
        "any",
        None,
        "1.0",
        "4.0",
        COUNT,
        VERIFY,
        "LLN 1.0 matters: CTCAE grade 1 and the fumarates' 'below LLN before starting' rule.",
    ),
    ("neutrophils", "any", None, "2.0", "7.5", COUNT, VERIFY, ""),
    ("platelets", "any", None, "150", "400", COUNT, HARMONY, ""),
    ("haemoglobin", "male", 18, "130", "180", "g/L", HARMONY, ADULT_NOTE),
    ("haemoglobin", "female", 18, "115", "165", "g/L", HARMONY, ADULT_NOTE),
    ("haemoglobin", "any", 18, "130", "165", "g/L", HARMONY, UNION_NOTE + " " + ADULT_NOTE),
    ("tsh", "any", None, "0.27", "4.2", "mU/L", VERIFY, "Immunoassay-dependent."),
    ("free_t4", "any", None, "12", "22", "pmol/L", VERIFY, "Immunoassay-dependent."),
    ("igg", "any", None, "6.0", "16.0", "g/L", VERIFY, ""),
    ("igm", "any", None, "0.4", "2.3", "g/L", VERIFY, ""),
    ("iga", "any", None, "0.7", "4.0", "g/L", VERIFY, ""),
    ("cd4", "any", None, "0.5", "1.5", COUNT, VERIFY, "500-1500 cells/µL."),
    (
        "lvef",
        "male",
        None,
        "52",
        "72",
        "%",
        "ASE/EACVI 2015 chamber quantification (Lang RM et al.), 2D echo",
        "Mitoxantrone's own limit (< 50 %) is a catalogue rule, not this range.",
    ),
    (
        "lvef",
        "female",
        None,
        "54",
        "74",
        "%",
        "ASE/EACVI 2015 chamber quantification (Lang RM et al.), 2D echo",
        "Mitoxantrone's own limit (< 50 %) is a catalogue rule, not this range.",
    ),
    (
        "lvef",
        "any",
        None,
        "54",
        "72",
        "%",
        "ASE/EACVI 2015 chamber quantification (Lang RM et al.), 2D echo",
        UNION_NOTE,
    ),
    (
        "qtc",
        "male",
        None,
        None,
        "450",
        "ms",
        "EU-SmPC fingolimod §4.2/§4.4 (prolonged above 450 ms in men; §3.6)",
        "Upper limit only.",
    ),
    (
        "qtc",
        "female",
        None,
        None,
        "470",
        "ms",
        "EU-SmPC fingolimod §4.2/§4.4 (prolonged above 470 ms in women; §3.6)",
        "Upper limit only.",
    ),
    (
        "qtc",
        "any",
        None,
        None,
        "450",
        "ms",
        "EU-SmPC fingolimod §4.2/§4.4 (§3.6)",
        UNION_NOTE,
    ),
    ("heart_rate", "any", None, "60", "100", "bpm", VERIFY, "Resting adult heart rate."),
    (
        "systolic_bp",
        "any",
        None,
        "90",
        "139",
        "mmHg",
        "NICE NG136 (clinic BP ≥ 140/90 is hypertension); lower limit CK (verify)",
        "",
    ),
    (
        "diastolic_bp",
        "any",
        None,
        "60",
        "89",
        "mmHg",
        "NICE NG136 (clinic BP ≥ 140/90 is hypertension); lower limit CK (verify)",
        "",
    ),
    (
        "urine_protein_creatinine",
        "any",
        None,
        None,
        "15",
        "mg/mmol",
        "CK: NICE CKD guidance (below 15 mg/mmol is normal) (verify)",
        "Upper limit only.",
    ),
]


def seed(apps: Any, schema_editor: Any) -> None:
    ReferenceRange = apps.get_model("treatments", "ReferenceRange")
    ReferenceRange.objects.bulk_create(
        ReferenceRange(
            analyte=analyte,
            sex=sex,
            age_from_years=age_from,
            low=Decimal(low) if low is not None else None,
            high=Decimal(high) if high is not None else None,
            unit=unit,
            source=source,
            note=note,
            valid_from=VALID_FROM,
        )
        for analyte, sex, age_from, low, high, unit, source, note in ROWS
    )


def lab_ranges_on_record(apps: Any, schema_editor: Any) -> None:
    ResultValue = apps.get_model("treatments", "ResultValue")
    ResultValue.objects.exclude(lln__isnull=True, uln__isnull=True).update(range_source="lab")


class Migration(migrations.Migration):
    dependencies = [("treatments", "0010_reference_ranges")]

    operations = [
        migrations.RunPython(seed, migrations.RunPython.noop),
        migrations.RunPython(lab_ranges_on_record, migrations.RunPython.noop),
    ]
