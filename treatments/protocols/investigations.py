"""The vocabulary of investigations that protocols refer to, keyed by short stable keys.

Other modules (results, alerts, lab imports) rely on these keys; never rename one. LOINC codes come
from §11.1 of the reference; ``loinc_verified`` is False where §11.1 marks the code "(verify)" or
gives none. Units are UCUM codes, with a display form for screens.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class InvestigationKind(StrEnum):
    NUMERIC = "numeric"
    PANEL = "panel"
    QUALITATIVE = "qualitative"
    PROCEDURE = "procedure"


@dataclass(frozen=True, slots=True)
class Investigation:
    key: str
    name: str
    kind: InvestigationKind
    loinc: str | None = None
    loinc_verified: bool = False
    unit: str | None = None
    unit_display: str | None = None
    components: tuple[str, ...] = ()
    result_fields: tuple[tuple[str, str | None], ...] = ()
    """Qualitative results with several parts: (field name, LOINC code) pairs."""
    note: str = ""
    allowed_values: tuple[str, ...] = ()
    """A result that is one of a fixed list (a genotype): stored as it is, nothing else taken."""
    female_only: bool = False
    """Not asked of a male patient (pregnancy test, cervical screening)."""


_CELLS = ("10*9/L", "×10⁹/L")

# The CYP2C9 genotypes the siponimod labels dose by (§3.7, US-PI §2; EU-SmPC §4.2).
CYP2C9_GENOTYPES = ("*1/*1", "*1/*2", "*2/*2", "*1/*3", "*2/*3", "*3/*3")
_ENZYME = ("U/L", "U/L")

_ALL: tuple[Investigation, ...] = (
    # Numeric analytes.
    Investigation("alt", "ALT", InvestigationKind.NUMERIC, "1742-6", True, *_ENZYME),
    Investigation("ast", "AST", InvestigationKind.NUMERIC, "1920-8", True, *_ENZYME),
    Investigation(
        "alp", "Alkaline phosphatase", InvestigationKind.NUMERIC, "6768-6", True, *_ENZYME
    ),
    Investigation(
        "bilirubin",
        "Total bilirubin",
        InvestigationKind.NUMERIC,
        "1975-2",
        True,
        "umol/L",
        "µmol/L",
    ),
    Investigation("ggt", "GGT", InvestigationKind.NUMERIC, "2324-2", False, *_ENZYME),
    Investigation(
        "creatinine", "Creatinine", InvestigationKind.NUMERIC, "2160-0", True, "umol/L", "µmol/L"
    ),
    Investigation(
        "egfr",
        "eGFR (CKD-EPI 2021)",
        InvestigationKind.NUMERIC,
        "98979-8",
        True,
        "mL/min/{1.73_m2}",
        "mL/min/1.73 m²",
    ),
    Investigation("wbc", "White cell count", InvestigationKind.NUMERIC, "6690-2", True, *_CELLS),
    Investigation(
        "lymphocytes", "Lymphocytes (absolute)", InvestigationKind.NUMERIC, "731-0", True, *_CELLS
    ),
    Investigation(
        "neutrophils", "Neutrophils (absolute)", InvestigationKind.NUMERIC, "751-8", True, *_CELLS
    ),
    Investigation("platelets", "Platelets", InvestigationKind.NUMERIC, "777-3", True, *_CELLS),
    Investigation(
        "haemoglobin", "Haemoglobin", InvestigationKind.NUMERIC, "718-7", True, "g/L", "g/L"
    ),
    Investigation("tsh", "TSH", InvestigationKind.NUMERIC, "3016-3", True, "m[IU]/L", "mIU/L"),
    Investigation(
        "free_t4", "Free T4", InvestigationKind.NUMERIC, "3024-7", False, "pmol/L", "pmol/L"
    ),
    Investigation("igg", "IgG", InvestigationKind.NUMERIC, "2465-3", False, "g/L", "g/L"),
    Investigation("igm", "IgM", InvestigationKind.NUMERIC, "2472-9", False, "g/L", "g/L"),
    Investigation("iga", "IgA", InvestigationKind.NUMERIC, "2458-8", False, "g/L", "g/L"),
    Investigation(
        "cd4", "CD4+ T cells (absolute)", InvestigationKind.NUMERIC, "24467-3", False, *_CELLS
    ),
    Investigation(
        "lvef", "LV ejection fraction", InvestigationKind.NUMERIC, "10230-1", False, "%", "%"
    ),
    Investigation("qtc", "QTc interval", InvestigationKind.NUMERIC, "8636-3", False, "ms", "ms"),
    Investigation(
        "heart_rate", "Heart rate", InvestigationKind.NUMERIC, "8867-4", True, "/min", "bpm"
    ),
    Investigation(
        "systolic_bp",
        "Systolic blood pressure",
        InvestigationKind.NUMERIC,
        "8480-6",
        True,
        "mm[Hg]",
        "mmHg",
    ),
    Investigation(
        "diastolic_bp",
        "Diastolic blood pressure",
        InvestigationKind.NUMERIC,
        "8462-4",
        True,
        "mm[Hg]",
        "mmHg",
    ),
    Investigation(
        "urine_protein_creatinine",
        "Urine protein:creatinine ratio",
        InvestigationKind.NUMERIC,
        "2890-2",
        False,
        "mg/mmol",
        "mg/mmol",
    ),
    # Panels.
    Investigation(
        "cbc",
        "Full blood count with differential",
        InvestigationKind.PANEL,
        "58410-2",
        True,
        components=("wbc", "lymphocytes", "neutrophils", "platelets", "haemoglobin"),
    ),
    Investigation(
        "lft",
        "Liver function tests",
        InvestigationKind.PANEL,
        "24325-3",
        True,
        components=("alt", "ast", "alp", "bilirubin"),
    ),
    Investigation(
        "renal",
        "Renal function",
        InvestigationKind.PANEL,
        None,
        False,
        components=("creatinine", "egfr"),
    ),
    Investigation(
        "immunoglobulins",
        "Quantitative immunoglobulins",
        InvestigationKind.PANEL,
        None,
        False,
        components=("igg", "igm", "iga"),
    ),
    Investigation(
        "thyroid",
        "Thyroid function",
        InvestigationKind.PANEL,
        None,
        False,
        components=("tsh", "free_t4"),
    ),
    Investigation(
        "blood_pressure",
        "Blood pressure",
        InvestigationKind.PANEL,
        "85354-9",
        True,
        components=("systolic_bp", "diastolic_bp"),
    ),
    # Qualitative tests.
    Investigation(
        "jcv_antibody",
        "Anti-JCV antibody with index",
        InvestigationKind.QUALITATIVE,
        "70173-0",
        True,
        result_fields=(("status", "70173-0"), ("index", "100977-8")),
        note="Index < 0.20 negative; 0.20-0.40 indeterminate (reflex assay); > 0.40 positive (§4.1).",
    ),
    Investigation("vzv_igg", "VZV IgG", InvestigationKind.QUALITATIVE, "19162-7", True),
    Investigation(
        "hbsag", "Hepatitis B surface antigen", InvestigationKind.QUALITATIVE, "5196-1", True
    ),
    Investigation(
        "anti_hbc", "Hepatitis B core antibody", InvestigationKind.QUALITATIVE, "16933-4", True
    ),
    Investigation(
        "hcv_ab", "Hepatitis C antibody", InvestigationKind.QUALITATIVE, "16128-1", False
    ),
    Investigation(
        "hiv", "HIV 1/2 antigen/antibody", InvestigationKind.QUALITATIVE, "56888-1", True
    ),
    Investigation(
        "tb_igra",
        "TB interferon-gamma release assay",
        InvestigationKind.QUALITATIVE,
        "71773-6",
        True,
    ),
    Investigation(
        "pregnancy_test",
        "Pregnancy test (β-hCG)",
        InvestigationKind.QUALITATIVE,
        "2110-5",
        True,
        note="Serum code; urine test is 2106-3 (unverified).",
        female_only=True,
    ),
    Investigation(
        "urinalysis", "Urinalysis with microscopy", InvestigationKind.QUALITATIVE, "24356-8", True
    ),
    Investigation(
        "cyp2c9",
        "CYP2C9 genotype",
        InvestigationKind.QUALITATIVE,
        None,
        False,
        note="*3/*3 blocks siponimod.",
        allowed_values=CYP2C9_GENOTYPES,
    ),
    # Procedures and examinations.
    Investigation(
        "ecg",
        "12-lead ECG",
        InvestigationKind.PROCEDURE,
        "11524-6",
        False,
        components=("heart_rate", "qtc"),
    ),
    Investigation(
        "first_dose_observation",
        "First-dose observation (hourly pulse and BP, ECG before and after)",
        InvestigationKind.PROCEDURE,
        components=("heart_rate", "systolic_bp", "diastolic_bp"),
    ),
    Investigation(
        "overnight_ecg",
        "Overnight continuous ECG monitoring from the first dose",
        InvestigationKind.PROCEDURE,
        components=("heart_rate",),
    ),
    Investigation(
        "eye_exam", "Eye examination (fundus/macula, OCT if available)", InvestigationKind.PROCEDURE
    ),
    Investigation("skin_exam", "Skin examination", InvestigationKind.PROCEDURE),
    Investigation(
        "cervical_screening",
        "Cervical screening / HPV",
        InvestigationKind.PROCEDURE,
        "19762-4",
        False,
        female_only=True,
    ),
    Investigation(
        "echo_lvef",
        "Echocardiogram or MUGA (LVEF)",
        InvestigationKind.PROCEDURE,
        components=("lvef",),
    ),
    Investigation(
        "mri_brain",
        "Brain MRI",
        InvestigationKind.PROCEDURE,
        "24590-2",
        True,
        note="24590-2 = MR Brain; with/without contrast codes 24587-8, 24589-4.",
    ),
    Investigation(
        "neuro_review",
        "Neurology review with EDSS",
        InvestigationKind.PROCEDURE,
        note="EDSS per §7.",
    ),
    # After autologous stem-cell transplantation (§3.19).
    Investigation(
        "cmv_ebv_pcr",
        "CMV and EBV DNA PCR (blood)",
        InvestigationKind.QUALITATIVE,
        note="Viral reactivation after aHSCT; no single LOINC code for the pair (verify).",
    ),
    Investigation(
        "revaccination",
        "Re-vaccination visit (post-transplant schedule)",
        InvestigationKind.PROCEDURE,
        note="Vaccines given per the transplant centre's schedule (§3.19).",
    ),
)

INVESTIGATIONS: dict[str, Investigation] = {inv.key: inv for inv in _ALL}


def get_investigation(key: str) -> Investigation:
    try:
        return INVESTIGATIONS[key]
    except KeyError:
        raise LookupError(f"Unknown investigation key {key!r}") from None


def investigation_name(key: str) -> str:
    """The investigation's name for people; an unknown key is shown as it is."""
    try:
        return INVESTIGATIONS[key].name
    except KeyError:
        return key


def analytes_of(key: str) -> tuple[str, ...]:
    """The keys a result for ``key`` is made of: a panel's components, else the key itself."""
    investigation = get_investigation(key)
    return investigation.components or (key,)


def is_known(key: str) -> bool:
    """True for investigation keys and for the components of any panel or procedure."""
    return key in INVESTIGATIONS
