"""The code systems and codes of the FHIR export, each from where it is written down.

* LOINC for tests, and ATC for DMTs, come from the catalogue (`treatments.protocols`), which took
  them from §11.1 and §11.2 of the reference. Only codes the catalogue marks verified are
  exported: a code marked "(verify)" could send a receiving system the wrong test or drug, so
  those results and drugs carry Myelin's own code and their name instead.
* SNOMED CT for multiple sclerosis and its courses, and ICD-10 G35, come from §11.3
  (`patients.models.DiseaseCourse.snomed_code` for the courses).
* The reference gives no LOINC or SNOMED code for the EDSS and its functional systems, the MRI
  lesion counts, the rehab outcome measures (T25FW, 9HPT, SDMT, BBS, 6MWT, MSIS-29, MFIS), a
  relapse, CIS or RIS. Those are coded in Myelin's own code systems under `LOCAL` (each with its
  display), never with a guessed standard code. `LOCAL` is a `.invalid` URL on purpose: it names
  the code system without pretending to be a published one.
* The FHIR terminology (statuses, categories, interpretations, the condition-severity SNOMED
  codes) is the FHIR R4 specification's own.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

from patients.edss import AMBULATION_NAME, FS_NAMES, FS_ORDER
from treatments.protocols import all_protocols

LOINC: Final = "http://loinc.org"
SNOMED: Final = "http://snomed.info/sct"
ICD10: Final = "http://hl7.org/fhir/sid/icd-10"
ATC: Final = "http://www.whocc.no/atc"
UCUM: Final = "http://unitsofmeasure.org"

_HL7: Final = "http://terminology.hl7.org/CodeSystem"
OBSERVATION_CATEGORY: Final = f"{_HL7}/observation-category"
CONDITION_CATEGORY: Final = f"{_HL7}/condition-category"
CONDITION_CLINICAL: Final = f"{_HL7}/condition-clinical"
CONDITION_VERIFICATION: Final = f"{_HL7}/condition-ver-status"
ALLERGY_CLINICAL: Final = f"{_HL7}/allergyintolerance-clinical"
INTERPRETATION: Final = f"{_HL7}/v3-ObservationInterpretation"
IDENTIFIER_TYPE: Final = f"{_HL7}/v2-0203"

LOCAL: Final = "https://myelin.invalid/fhir/CodeSystem"
ASSESSMENT: Final = f"{LOCAL}/ms-assessment"  # EDSS, its components, MRI findings, relapse, CIS/RIS
OUTCOME_MEASURE: Final = f"{LOCAL}/outcome-measure"  # rehab measures and their raw fields
INVESTIGATION: Final = f"{LOCAL}/investigation"  # the catalogue's investigation keys
DMT: Final = f"{LOCAL}/dmt"  # the catalogue's drug keys
REFERRAL_DISCIPLINE: Final = f"{LOCAL}/referral-discipline"
STOP_REASON: Final = f"{LOCAL}/dmt-stop-reason"
INDICATION: Final = f"{LOCAL}/symptomatic-indication"
TREATMENT_KIND: Final = f"{LOCAL}/treatment-kind"  # symptomatic or relapse treatment
QUALITATIVE: Final = f"{LOCAL}/qualitative-result"

# §11.3.
MULTIPLE_SCLEROSIS_SNOMED: Final = "24700007"
MULTIPLE_SCLEROSIS_ICD10: Final = "G35"

# FHIR R4 ValueSet condition-severity (SNOMED CT).
SEVERITY_SNOMED: Final = MappingProxyType(
    {
        "mild": ("255604002", "Mild"),
        "moderate": ("6736007", "Moderate"),
        "severe": ("24484000", "Severe"),
    }
)

# Local codes of the EDSS and the MRI read (ASSESSMENT).
EDSS_CODE: Final = "edss"
EDSS_DISPLAY: Final = "Expanded Disability Status Scale (Neurostatus-EDSS)"
EDSS_COMPONENTS: Final = MappingProxyType(
    {
        **{
            name: (f"edss-fs-{name.replace('_', '-')}", f"EDSS functional system: {FS_NAMES[name]}")
            for name in FS_ORDER
        },
        "ambulation": ("edss-ambulation", f"EDSS {AMBULATION_NAME.lower()} score"),
    }
)
MRI_COMPONENTS: Final = MappingProxyType(
    {
        "new_or_enlarging_t2": ("mri-new-enlarging-t2", "New or enlarging T2 lesions"),
        "gad_enhancing": ("mri-gad-enhancing", "Gadolinium-enhancing lesions"),
        "contrast_given": ("mri-contrast-given", "Gadolinium given"),
        "is_baseline": ("mri-baseline", "(Re-)baseline scan"),
        "field_strength": ("mri-field-strength", "Field strength"),
        "is_active": (
            "mri-activity",
            "Inflammatory activity (new or enlarging T2 or enhancing lesions)",
        ),
    }
)
RELAPSE_CODE: Final = ("ms-relapse", "Multiple sclerosis relapse")


def _verified_atc() -> dict[str, str]:
    """Drug key → ATC code, where every version of the drug's protocol that gives one marks it
    verified (§11.2; the 2024 restructuring moved most codes)."""
    codes: dict[str, str] = {}
    doubtful: set[str] = set()
    for protocol in all_protocols():
        if not protocol.atc_current:
            continue
        if not protocol.atc_verified or codes.get(protocol.drug_key, protocol.atc_current) != (
            protocol.atc_current
        ):
            doubtful.add(protocol.drug_key)
        codes[protocol.drug_key] = protocol.atc_current
    return {key: code for key, code in codes.items() if key not in doubtful}


VERIFIED_ATC: Final = MappingProxyType(_verified_atc())

# Outcome measure units: UCUM codes where the unit is a UCUM unit, an annotation otherwise.
UCUM_OF_UNIT: Final = MappingProxyType(
    {"s": "s", "m": "m", "points": "{score}", "points (0-100)": "{score}", "correct": "{correct}"}
)

# v3 ObservationInterpretation.
FLAG_INTERPRETATION: Final = MappingProxyType(
    {"low": ("L", "Low"), "high": ("H", "High"), "normal": ("N", "Normal")}
)
QUALITATIVE_INTERPRETATION: Final = MappingProxyType(
    {
        "positive": ("POS", "Positive"),
        "negative": ("NEG", "Negative"),
        "indeterminate": ("IND", "Indeterminate"),
        "normal": ("N", "Normal"),
        "abnormal": ("A", "Abnormal"),
    }
)
CHANGE_INTERPRETATION: Final = MappingProxyType(
    {"better": ("B", "Better"), "worse": ("W", "Worse")}
)
