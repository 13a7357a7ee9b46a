"""CSV results, for laboratories without HL7: the same matching, review queue and dry run."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from patients.models import Patient
from tests.labimport.conftest import Import
from treatments.labimport import csvfile
from treatments.models import InboundMessage, MessageFormat, MessageState, Problem, Result

HEADER = "mrn,date_of_birth,code,coding_system,test_name,value,unit,reference_range,collected_at,status,order_id,lab,note"


def _csv(patient: Patient, *rows: str) -> str:
    born = patient.date_of_birth.isoformat()
    return "\n".join([HEADER, *(row.replace("{born}", born) for row in rows)]) + "\n"


def test_csv_rows_of_one_sample_become_one_result_and_close_the_item(
    on_teriflunomide: Any, patient_a: Patient, import_text: Import
) -> None:
    text = _csv(
        patient_a,
        "AAA00001,{born},1742-6,LN,ALT,35,U/L,7-56,2026-06-10 07:45,F,S-1,Town lab,",
        "AAA00001,{born},1920-8,LN,AST,28,U/L,10-40,2026-06-10 07:45,F,S-1,Town lab,fasting",
    )

    summary = import_text(text)

    [outcome] = summary.outcomes
    assert outcome.message.format == MessageFormat.CSV
    assert outcome.message.state == MessageState.IMPORTED, outcome.message.reason
    result = Result.objects.get(patient=patient_a)
    assert result.investigation == "lft"
    assert result.lab == "TOWN LAB"
    assert {v.analyte: v.value for v in result.values.all()} == {
        "alt": Decimal("35"),
        "ast": Decimal("28"),
    }
    assert "AST: fasting" in result.note
    assert on_teriflunomide.items.filter(result=result).exists()


def test_the_same_csv_twice_creates_nothing_new(
    on_teriflunomide: Any, patient_a: Patient, import_text: Import
) -> None:
    text = _csv(patient_a, "AAA00001,{born},1742-6,LN,ALT,35,U/L,7-56,2026-06-10,F,,,")
    import_text(text)

    again = import_text(text)

    assert again.duplicates == 1
    assert InboundMessage.objects.count() == 1
    assert Result.objects.count() == 1


def test_csv_samples_are_matched_one_by_one_and_the_unknown_one_is_held(
    on_teriflunomide: Any, patient_a: Patient, import_text: Import
) -> None:
    text = _csv(
        patient_a,
        "AAA00001,{born},1742-6,LN,ALT,35,U/L,7-56,2026-06-10,F,S-1,,",
        "QQQ12345,1990-01-01,1742-6,LN,ALT,35,U/L,7-56,2026-06-10,F,S-2,,",
        "AAA00001,{born},731-0,LN,Lymphocytes,abc,10*9/L,1.0-4.0,2026-06-10,F,S-3,,",
    )

    summary = import_text(text)

    assert summary.count(MessageState.IMPORTED) == 1
    held = {o.message.problem for o in summary.outcomes if o.message.state == MessageState.QUEUED}
    assert held == {Problem.UNKNOWN_PATIENT, Problem.BAD_VALUE}


def test_a_csv_without_the_needed_columns_is_held_whole_with_the_expected_header(
    db: None, import_text: Import
) -> None:
    summary = import_text("mrn,value\nAAA00001,35\n")

    [outcome] = summary.outcomes
    assert outcome.message.problem == Problem.UNPARSEABLE
    assert "lacks the column(s) date_of_birth, code, unit, collected_at" in outcome.message.reason
    assert csvfile.TEMPLATE_HEADER in outcome.message.reason


def test_a_csv_dry_run_keeps_nothing(
    on_teriflunomide: Any, patient_a: Patient, import_text: Import
) -> None:
    text = _csv(patient_a, "AAA00001,{born},1742-6,LN,ALT,35,U/L,7-56,2026-06-10,F,,,")

    summary = import_text(text, dry_run=True)

    assert summary.count(MessageState.IMPORTED) == 1
    assert not InboundMessage.objects.exists()
    assert not Result.objects.exists()
