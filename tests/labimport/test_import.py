"""HL7 v2 lab results imported end to end: matched, converted, closing the open item, evaluated
into alerts, amended when corrected, never doubled, never half-stored, always audited."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from clinic.audit.models import AccessEvent, Action
from patients.models import Patient
from tests.labimport.conftest import Import
from tests.labimport.messages import CBC, LFT, lft_panel, obr, obx, oru
from treatments.models import (
    Alert,
    AlertKind,
    AlertStatus,
    InboundMessage,
    MessageState,
    MonitoringItem,
    Problem,
    Result,
    ReviewItem,
)


def _alt_item(plan: Any) -> MonitoringItem:
    return (
        plan.items.open()
        .filter(
            investigation__in=["alt", "lft"],
            window_opens_on__lte=date(2026, 6, 10),
            window_closes_on__gte=date(2026, 6, 10),
        )
        .order_by("due_on")
        .first()
    )


def test_a_normal_liver_panel_is_stored_converted_and_closes_the_open_item(
    on_teriflunomide: Any, patient_a: Patient, import_text: Import
) -> None:
    item = _alt_item(on_teriflunomide)
    assert item is not None, "the teriflunomide schedule has a liver test due around 10 June"

    summary = import_text(oru(*lft_panel("22"), born=patient_a.date_of_birth))

    [outcome] = summary.outcomes
    assert outcome.message.state == MessageState.IMPORTED
    assert outcome.ack_code == "AA"
    result = Result.objects.get(patient=patient_a)
    assert result.investigation == "lft"
    assert result.taken_on == date(2026, 6, 10)
    values = {v.analyte: v for v in result.values.all()}
    assert set(values) == {"alt", "ast", "alp", "bilirubin"}
    # 0.5 mg/dL bilirubin is 8.55 µmol/L, with the lab's range converted the same way.
    assert values["bilirubin"].value == Decimal("8.55")
    assert values["bilirubin"].uln == Decimal("20.52")
    assert values["alt"].uln == Decimal("56")
    # The NTE's escape sequences are unescaped into the note.
    assert "haemolysed & lipaemic\nInterpret with care | see report" in result.note
    item.refresh_from_db()
    assert item.result_id == result.pk
    assert not item.is_open
    assert not Alert.objects.filter(patient=patient_a, kind=AlertKind.ABNORMAL_RESULT).exists()


def test_an_abnormal_alt_raises_the_catalogue_alert(
    on_teriflunomide: Any, patient_a: Patient, import_text: Import
) -> None:
    import_text(oru(*lft_panel("182"), born=patient_a.date_of_birth))

    alert = Alert.objects.get(patient=patient_a, kind=AlertKind.ABNORMAL_RESULT)
    # 182 U/L against the lab's ULN of 56 is 3.25×ULN: teriflunomide's "> 3×ULN" rule, a
    # warning until a repeat confirms it.
    assert ":rule:alt_gt_3_uln:" in alert.condition_key


def test_a_corrected_result_amends_the_earlier_one_and_its_alert(
    on_teriflunomide: Any, patient_a: Patient, import_text: Import
) -> None:
    import_text(oru(*lft_panel("182"), born=patient_a.date_of_birth, control_id="MSG1"))
    original = Result.objects.get(patient=patient_a)
    alert = Alert.objects.get(patient=patient_a, kind=AlertKind.ABNORMAL_RESULT)

    correction = oru(
        obr(1, "F1001", LFT),
        obx(1, "1742-6^ALT^LN", "18.2", "U/L", "7-56", "N", "C"),
        "NTE|1|L|Decimal point misplaced in the first report",
        born=patient_a.date_of_birth,
        control_id="MSG2",
    )
    summary = import_text(correction)

    assert summary.outcomes[0].message.state == MessageState.IMPORTED
    # An amendment, like any clinical correction: one standing result, the original kept.
    amended = Result.objects.standing().get(patient=patient_a)
    assert amended.amends == original
    original.refresh_from_db()
    assert original.is_amended
    assert "Corrected by the laboratory" in original.correction_reason
    assert original.values.get(analyte="alt").value == Decimal("182"), "kept as it was"
    values = {v.analyte: v.value for v in amended.values.all()}
    assert values["alt"] == Decimal("18.2")
    assert values["ast"] == Decimal("24"), "the values the correction does not name are kept"
    assert "Corrected by the laboratory" in amended.note
    assert not amended.is_reviewed, "a corrected result is reviewed again"
    assert not amended.is_abnormal
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED
    assert "corrected by the laboratory" in alert.resolution_note
    assert AccessEvent.objects.filter(action=Action.AMEND, object_id=str(original.pk)).exists()


def test_a_final_result_amends_its_preliminary_one(
    on_teriflunomide: Any, patient_a: Patient, import_text: Import
) -> None:
    import_text(oru(*lft_panel("40", status="P"), born=patient_a.date_of_birth, control_id="P1"))
    assert "Preliminary result." in Result.objects.get(patient=patient_a).note

    import_text(oru(*lft_panel("44", status="F"), born=patient_a.date_of_birth, control_id="F1"))

    result = Result.objects.standing().get(patient=patient_a)
    assert result.values.get(analyte="alt").value == Decimal("44")
    assert result.amends is not None
    assert result.amends.is_amended
    assert "Final result." in result.amends.correction_reason


def test_the_same_message_twice_creates_nothing_new(
    on_teriflunomide: Any, patient_a: Patient, import_text: Import
) -> None:
    text = oru(*lft_panel("182"), born=patient_a.date_of_birth)
    import_text(text)
    again = import_text(text)

    assert again.outcomes[0].duplicate
    assert again.outcomes[0].ack_code == "AA"
    assert InboundMessage.objects.count() == 1
    assert Result.objects.filter(patient=patient_a).count() == 1
    assert Alert.objects.filter(patient=patient_a, kind=AlertKind.ABNORMAL_RESULT).count() == 1


def test_a_version_2_3_message_with_several_orders_and_repeated_obx_groups(
    on_teriflunomide: Any, patient_a: Patient, import_text: Import
) -> None:
    text = oru(
        *lft_panel("30", filler="F2001"),
        obr(2, "F2002", CBC),
        obx(1, "6690-2^WBC^LN", "6.1", "10*9/L", "4.0-11.0", "N"),
        obx(2, "731-0^Lymphocytes^LN", "1400", "/uL", "1000-4000", "N"),
        # "^" separates components, so a unit spelt x10^9/L travels escaped.
        obx(3, "751-8^Neutrophils^LN", "3.9", "x10\\S\\9/L", "2.0-7.5", "N"),
        "NTE|1|L|Film reviewed",
        obx(4, "777-3^Platelets^LN", "250", "10*9/L", "150-400", "N"),
        obx(5, "718-7^Haemoglobin^LN", "13.2", "g/dL", "11.5-16.5", "N"),
        version="2.3",
        born=patient_a.date_of_birth,
    )

    summary = import_text(text)

    message = summary.outcomes[0].message
    assert message.state == MessageState.IMPORTED, message.reason
    assert message.version == "2.3"
    assert summary.results == 9
    cbc = Result.objects.get(patient=patient_a, investigation="cbc")
    values = {v.analyte: v.value for v in cbc.values.all()}
    assert values["lymphocytes"] == Decimal("1.4")  # 1400 cells/µL in ×10⁹/L
    assert values["haemoglobin"] == Decimal("132")  # g/dL to g/L
    assert "Neutrophils (absolute): Film reviewed" in cbc.note


def test_an_unknown_mrn_is_held_for_review_never_dropped(
    on_teriflunomide: Any, patient_a: Patient, import_text: Import
) -> None:
    summary = import_text(oru(*lft_panel(), mrn="ZZZ99999", born=patient_a.date_of_birth))

    message = summary.outcomes[0].message
    assert message.state == MessageState.QUEUED
    assert message.ack_code == "AA", "matching is the clinic's work: the lab's queue goes on"
    item = ReviewItem.objects.get(message=message)
    assert item.problem == Problem.UNKNOWN_PATIENT
    assert item.patient is None
    assert item.reason == "No patient in Myelin has the MRN this message gives."
    assert not Result.objects.exists()


def test_a_date_of_birth_mismatch_is_held_with_the_candidate_patient(
    on_teriflunomide: Any, patient_a: Patient, import_text: Import
) -> None:
    summary = import_text(oru(*lft_panel(), born="19000101"))

    item = ReviewItem.objects.get(message=summary.outcomes[0].message)
    assert item.problem == Problem.DOB_MISMATCH
    assert item.patient == patient_a
    assert not Result.objects.exists()


def test_an_unknown_local_code_is_held_and_named(
    on_teriflunomide: Any, patient_a: Patient, import_text: Import
) -> None:
    text = oru(
        obr(1, "F3001", "LIVER^Liver screen^L"),
        obx(1, "ALTX^Alanine transaminase^L", "30", "U/L", "7-56"),
        born=patient_a.date_of_birth,
    )

    summary = import_text(text)

    item = ReviewItem.objects.get(message=summary.outcomes[0].message)
    assert item.problem == Problem.UNKNOWN_CODE
    assert "'ALTX (L) Alanine transaminase'" in item.reason
    assert item.patient == patient_a


def test_a_local_code_with_its_loinc_alternate_is_understood(
    on_teriflunomide: Any, patient_a: Patient, import_text: Import
) -> None:
    text = oru(
        obr(1, "F3002", "LIVER^Liver screen^L"),
        obx(1, "ALTX^Alanine transaminase^L^1742-6^ALT^LN", "30", "U/L", "7-56"),
        born=patient_a.date_of_birth,
    )

    import_text(text)

    assert Result.objects.get(patient=patient_a).values.get().analyte == "alt"


def test_a_non_numeric_value_holds_the_whole_message_and_stores_nothing(
    on_teriflunomide: Any, patient_a: Patient, import_text: Import
) -> None:
    # The first order is fine; the second has "see comment" where a number belongs.
    text = oru(
        *lft_panel("30"),
        obr(2, "F4002", CBC),
        obx(1, "731-0^Lymphocytes^LN", "see comment", "10*9/L", "1.0-4.0", value_type="ST"),
        born=patient_a.date_of_birth,
    )

    summary = import_text(text)

    message = summary.outcomes[0].message
    assert message.state == MessageState.QUEUED
    assert message.ack_code == "AE"
    assert message.reason == (
        "Lymphocytes (absolute) (OBX 1 of order 2) has the value 'see comment', which is not a "
        "number."
    )
    assert not Result.objects.exists(), "one transaction: the good order is not kept either"
    assert _alt_item(on_teriflunomide) is not None


def test_a_unit_that_cannot_be_converted_is_held_with_the_accepted_units(
    on_teriflunomide: Any, patient_a: Patient, import_text: Import
) -> None:
    text = oru(
        obr(1, "F5001", LFT),
        obx(1, "1742-6^ALT^LN", "30", "mmol/L", "7-56"),
        born=patient_a.date_of_birth,
    )

    message = import_text(text).outcomes[0].message

    assert message.state == MessageState.QUEUED
    assert message.problem == Problem.BAD_VALUE
    assert message.reason.startswith("Cannot convert ALT from 'mmol/L'; accepted units: U/L")
    assert not Result.objects.exists()


def test_every_message_is_audited(
    on_teriflunomide: Any, patient_a: Patient, import_text: Import
) -> None:
    import_text(oru(*lft_panel(), born=patient_a.date_of_birth, control_id="A1"))
    import_text(oru(*lft_panel(), mrn="ZZZ99999", born=patient_a.date_of_birth, control_id="A2"))

    details = list(
        AccessEvent.objects.filter(object_type="treatments.inboundmessage").values_list(
            "detail", flat=True
        )
    )
    assert details.count("lab message received (file upload)") == 2
    assert "lab message imported: 4 result(s)" in details
    assert "lab message held for review: unknown_patient" in details


def test_a_dry_run_reports_and_keeps_nothing(
    on_teriflunomide: Any, patient_a: Patient, import_text: Import
) -> None:
    summary = import_text(oru(*lft_panel("182"), born=patient_a.date_of_birth), dry_run=True)

    assert summary.dry_run
    assert summary.count(MessageState.IMPORTED) == 1
    assert summary.results == 4
    assert not InboundMessage.objects.exists()
    assert not Result.objects.exists()
    assert not Alert.objects.filter(kind=AlertKind.ABNORMAL_RESULT).exists()


def test_a_jcv_antibody_result_with_its_index_is_one_qualitative_result(
    on_teriflunomide: Any, patient_a: Patient, import_text: Import
) -> None:
    text = oru(
        obr(1, "F6001", "70173-0^JC virus Ab^LN"),
        obx(1, "70173-0^JC virus Ab [Presence]^LN", "Positive", "", value_type="ST"),
        obx(2, "100977-8^JC virus Ab index^LN", "0.62", "{index}"),
        born=patient_a.date_of_birth,
    )

    message = import_text(text).outcomes[0].message

    assert message.state == MessageState.IMPORTED, message.reason
    result = Result.objects.get(patient=patient_a)
    assert (result.investigation, result.qualitative) == ("jcv_antibody", "positive")
    assert result.index_value == Decimal("0.62")
    assert result.is_abnormal


def test_a_qualitative_word_myelin_does_not_know_is_held(
    on_teriflunomide: Any, patient_a: Patient, import_text: Import
) -> None:
    text = oru(
        obr(1, "F6002", "19162-7^VZV IgG^LN"),
        obx(1, "19162-7^VZV IgG^LN", "see report", "", value_type="ST"),
        born=patient_a.date_of_birth,
    )

    message = import_text(text).outcomes[0].message

    assert message.problem == Problem.BAD_VALUE
    assert "reads 'see report'; Myelin takes positive, negative or indeterminate" in message.reason


def test_a_result_not_obtained_is_noted_and_the_rest_imported(
    on_teriflunomide: Any, patient_a: Patient, import_text: Import
) -> None:
    text = oru(
        obr(1, "F6003", LFT),
        obx(1, "1742-6^ALT^LN", "30", "U/L", "7-56"),
        obx(2, "1920-8^AST^LN", "", "U/L", "10-40", status="X"),
        born=patient_a.date_of_birth,
    )

    import_text(text)

    result = Result.objects.get(patient=patient_a)
    assert [v.analyte for v in result.values.all()] == ["alt"]
    assert "AST could not be obtained (status X)." in result.note
