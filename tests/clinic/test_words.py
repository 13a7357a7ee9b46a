"""Words, not codes: the filters that turn catalogue citations and keys into words."""

from __future__ import annotations

import pytest

from clinic.templatetags.words import key_words, plain, source_words


@pytest.mark.parametrize(
    ("citation", "words"),
    [
        ("US-PI §5.2", "US prescribing information, section 5.2"),
        ("EU-SmPC §4.4-4.5; CK", "EU SmPC, section 4.4-4.5; common clinical practice"),
        (
            "CK; CTCAE-v5; fingolimod DHPC-2020 (§0.4)",
            "common clinical practice; CTCAE-v5; fingolimod DHPC-2020",
        ),
        ("ABN-2024 (§1, §3.6)", "ABN-2024"),
        ("MAGNIMS-2021", "MAGNIMS-2021"),
    ],
)
def test_a_citation_reads_as_words_without_internal_section_marks(citation, words):
    assert source_words(citation) == words
    assert "§" not in source_words(citation)


@pytest.mark.parametrize(
    ("key", "words"),
    [
        ("jcv_positive", "JCV antibody positive"),
        ("mri_brain", "brain MRI"),
        ("anti_cd52", "anti-CD52 antibody"),
        ("left_1", "left 1"),
        ("ocrelizumab_iv", "ocrelizumab iv"),
    ],
)
def test_a_stored_key_reads_as_words(key, words):
    assert key_words(key) == words


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (
            "EDSS 3.0 from the FS grades (§7.4): one FS grade 3.",
            "EDSS 3.0 from the FS grades: one FS grade 3.",
        ),
        (
            "EDSS 2.0 from walking (§7.4 row 2.0, §12 item 1c): ambulation score 1",
            "EDSS 2.0 from walking: ambulation score 1",
        ),
        (
            "Onset on 01 Mar 2025: by §9.1 it may be part of the same event.",
            "Onset on 01 Mar 2025: it may be part of the same event.",
        ),
        (
            "Cerebellar grade 5 (unable to do coordinated movements, §7.1) contradicts",
            "Cerebellar grade 5 (unable to do coordinated movements) contradicts",
        ),
        ("a disputed rule (§12 item 1a)", "a disputed rule"),
    ],
)
def test_clinical_text_is_shown_without_references_to_the_reference_document(text, words):
    assert plain(text) == words
