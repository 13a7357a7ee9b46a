"""Reading HL7 v2 messages (python-hl7 underneath): framing, headers of v2.3 to v2.5.1, escape
sequences, and a plain-words refusal for every kind of broken input. No database."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from tests.labimport.messages import LFT, lft_panel, mllp, obr, obx, oru
from treatments.labimport import hl7v2
from treatments.labimport.report import ParseProblem


def test_mllp_framed_and_plain_uploads_split_into_the_same_messages() -> None:
    one, two = oru(*lft_panel(), control_id="M1"), oru(*lft_panel(), control_id="M2")

    framed = hl7v2.split_messages(mllp(one, two))
    plain = hl7v2.split_messages((one + two).replace("\r", "\r\n"))

    assert framed == plain
    assert [hl7v2.parse_oru(m).control_id for m in framed] == ["M1", "M2"]


def test_batch_envelopes_are_dropped_and_stray_lines_are_kept_as_a_message() -> None:
    text = "FHS|^~\\&|LAB\rBHS|^~\\&|LAB\r" + oru(*lft_panel()) + "BTS|1\rFTS|1\r"
    assert len(hl7v2.split_messages(text)) == 1

    stray = hl7v2.split_messages("OBX|1|NM|X||1\r" + oru(*lft_panel()))
    assert len(stray) == 2  # the stray OBX is held as a message of its own, not lost


@pytest.mark.parametrize("version", ["2.3", "2.3.1", "2.4", "2.5", "2.5.1"])
def test_every_supported_version_is_read(version: str) -> None:
    report = hl7v2.parse_oru(oru(*lft_panel(), version=version))

    assert report.version == version
    assert report.message_type == "ORU^R01"
    assert report.sending_facility == "NORTHLAB"


def test_the_fields_myelin_uses_are_read_and_unescaped() -> None:
    report = hl7v2.parse_oru(oru(*lft_panel("182"), born="19850314"))

    assert report.patient.identifiers == ("AAA00001", "9434765919")  # the MR one first
    assert report.patient.date_of_birth == date(1985, 3, 14)
    [order] = report.orders
    assert order.order_key == "F1001"
    assert order.codes[0].code == "24325-3"
    assert order.collected_at == datetime(2026, 6, 10, 7, 45)
    alt = order.observations[0]
    assert (alt.value, alt.unit, alt.reference_range, alt.flags, alt.status) == (
        "182",
        "U/L",
        "7-56",
        "H",
        "F",
    )
    assert alt.notes == ("Sample slightly haemolysed & lipaemic\nInterpret with care | see report",)
    assert len(order.observations) == 4


def test_other_encoding_characters_are_honoured() -> None:
    # The same message with "#" as the component separator, as MSH-2 declares.
    text = oru(*lft_panel("182"), separators="|#~\\&").replace("^", "#")

    report = hl7v2.parse_oru(text)

    alt = report.orders[0].observations[0]
    assert (alt.codes[0].code, alt.codes[0].system, alt.value) == ("1742-6", "LN", "182")
    assert report.patient.identifiers[0] == "AAA00001"


def test_a_structured_numeric_and_a_timestamp_with_an_offset() -> None:
    text = oru(
        obr(1, "F1", LFT, collected="202606100745+0200"),
        obx(1, "1742-6^ALT^LN", "=^182", "U/L", "7-56", value_type="SN"),
    )

    [order] = hl7v2.parse_oru(text).orders

    assert order.observations[0].value == "=182"
    assert order.collected_at == datetime(2026, 6, 10, 7, 45, tzinfo=timezone(timedelta(hours=2)))


@pytest.mark.parametrize(
    ("broken", "reason"),
    [
        (lambda m: m.replace("MSH|^~\\&", "MSH|^~"), "The encoding characters in MSH-1 and MSH-2"),
        (
            lambda m: m.replace("MSH|^~\\&", "MSH|^^\\&"),
            "The encoding characters in MSH-1 and MSH-2",
        ),
        (lambda m: m.replace("|MSG0001|", "||"), "The message has no control id (MSH-10)"),
        (lambda m: m.replace("PV1|1", "PV 1|1"), "Segment 3 is malformed"),
        (lambda m: m.replace("ORU^R01^ORU_R01", "ADT^A01"), "This is a ADT^A01 message"),
        (lambda m: m.replace("|2.5.1|", "|2.7|"), "HL7 version '2.7' is not supported"),
        (lambda m: m.replace("20260610074500", "2026061"), "The collection time of order 1"),
        (lambda m: m.split("PID")[0], "The message has no patient (PID segment)."),
        (lambda m: "Dear lab, " + m, "The message does not start with an MSH segment."),
        (lambda m: m.replace("OBR|1", "XXX|1"), "An observation (OBX) comes before any order"),
    ],
)
def test_broken_input_is_refused_in_plain_words(broken, reason: str) -> None:
    with pytest.raises(ParseProblem) as refused:
        hl7v2.parse_oru(broken(oru(*lft_panel())))

    assert refused.value.message.startswith(reason)


def test_acknowledgements_answer_the_sender() -> None:
    ack = hl7v2.acknowledgement(oru(*lft_panel(), control_id="X77"), "AE", "Bad | value^here")

    msh, msa = ack.strip("\r").split("\r")
    assert msh.startswith("MSH|^~\\&|MYELIN|NORTHMS|LABSYS|NORTHLAB|")
    assert "|ACK^R01^ACK|" in msh
    assert msa == "MSA|AE|X77|Bad   value here"


def test_a_message_whose_header_cannot_be_read_still_gets_an_answer() -> None:
    ack = hl7v2.acknowledgement("not hl7 at all", "AE", "The message does not start with MSH.")

    assert ack.split("\r")[1] == "MSA|AE||The message does not start with MSH."
