"""Words, not codes: how a rule's source and a stored key read on a page.

The catalogue keeps its sources as compact citations ("US-PI §5.2; CK") and its facts as
stable keys ("jcv_positive"); clinicians read "US prescribing information, section 5.2;
common clinical practice" and "JCV antibody positive". Internal references to the project's
own reference document ("§0.4") are dropped from what a clinician sees.
"""

from __future__ import annotations

import re

from django import template

register = template.Library()

_LABEL_SECTION = re.compile(r"\b(US-PI|EU-SmPC)\s*§\s*([0-9][0-9.]*(?:\s*[-–]\s*[0-9][0-9.]*)?)")
_LABELS = {"US-PI": "US prescribing information", "EU-SmPC": "EU SmPC"}
_INTERNAL = re.compile(r"\s*\(\s*§[^)]*\)|\s*§\s*[0-9][0-9.]*(?:\s*[-–]\s*[0-9][0-9.]*)?")
_ABBREVIATIONS = {"CK": "common clinical practice"}

# Stored keys that read badly when only their underscores are replaced.
_KEY_WORDS = {
    "jcv_positive": "JCV antibody positive",
    "pml_high_risk": "high PML risk",
    "diabetes_or_uveitis": "diabetes, uveitis or retinal disease",
    "thyroid_history": "thyroid disease in the history",
    "cardiac_risk": "cardiac risk",
    "mri_brain": "brain MRI",
    "anti_cd20": "anti-CD20 antibody",
    "anti_cd52": "anti-CD52 antibody",
    "anti_integrin": "anti-integrin antibody",
    "s1p_modulator": "S1P receptor modulator",
    "dhodh_inhibitor": "DHODH inhibitor",
    "purine_analogue": "purine analogue",
    "moderate_high": "moderate to high",
    "not_applicable": "not applicable",
    "first_dose": "the first dose",
    "each_dose": "each dose",
    "each_course": "each course",
    "last_dose": "the last dose",
}
_ACRONYMS = {"jcv", "mri", "pml", "ecg", "cd20", "cd52", "s1p", "alt", "ast", "tsh", "vzv", "hiv"}


@register.filter
def source_words(text: object) -> str:
    """A citation as words: label sections spelt out, internal references and codes dropped."""
    value = _LABEL_SECTION.sub(lambda m: f"{_LABELS[m.group(1)]}, section {m.group(2)}", str(text))
    value = _INTERNAL.sub("", value)
    for short, long in _ABBREVIATIONS.items():
        value = re.sub(rf"\b{short}\b", long, value)
    for short, long in _LABELS.items():
        value = value.replace(short, long)
    value = re.sub(r"\(\s*\)", "", value)
    value = re.sub(r"\s*;\s*(;\s*)+", "; ", value)
    return re.sub(r"\s{2,}", " ", value).strip(" ;,")


@register.filter
def key_words(key: object) -> str:
    """A stored key ("jcv_positive", "left_1") as words."""
    value = str(key)
    if value in _KEY_WORDS:
        return _KEY_WORDS[value]
    words = [w.upper() if w in _ACRONYMS else w for w in value.replace("-", "_").split("_") if w]
    return " ".join(words)


_REF_IN_PARENS = re.compile(r"\s*\(\s*§[^)]*\)")
_REF_IN_LIST = re.compile(r",\s*§\s*[0-9][0-9.]*(?:\s+(?:row|item)\s+[0-9A-Za-z.]+)?")
_REF_BY = re.compile(r"\bby\s+§\s*[0-9][0-9.]*\s*")
_REF_BARE = re.compile(r"\s*§\s*[0-9][0-9.]*(?:\s+(?:row|item)\s+[0-9A-Za-z.]+)?")


@register.filter
def plain(text: object) -> str:
    """Clinical text without the references to the project's reference document ("(§7.4)",
    "§12 item 1a"): the rule is told in words; the stored text keeps its references."""
    value = _REF_IN_PARENS.sub("", str(text))
    value = _REF_IN_LIST.sub("", value)
    value = _REF_BY.sub("", value)
    value = _REF_BARE.sub("", value)
    value = re.sub(r"\(\s*\)", "", value)
    return re.sub(r"\s{2,}", " ", value).replace(" .", ".").replace(" ,", ",").strip()
