"""HL7 v2 ORU^R01 messages in and ACKs out, through python-hl7 (the `hl7` package).

The library does the parsing (separators from MSH-1/MSH-2, repetitions, components, escape
sequences) and builds the acknowledgements; this module only frames messages (MLLP blocks or
plain segments one after another), checks what an ORU^R01 of v2.3 to v2.5.1 must have, and
reads the fields Myelin uses into a `LabReport`. Every refusal is a `ParseProblem` in plain
words, never a traceback. No Django here.
"""

from __future__ import annotations

import re
import warnings
from datetime import date, datetime, timedelta, timezone

import hl7
import hl7.util

from treatments.labimport.report import (
    Code,
    LabReport,
    Observation,
    Order,
    ParseProblem,
    PatientIdentity,
)

# python-hl7 logs the text of a field it cannot unescape, which may be patient data: its
# warnings never reach our logs (a bad escape sequence is simply left out of the text).
hl7.util.logger.disabled = True

SUPPORTED_VERSIONS = ("2.3", "2.3.1", "2.4", "2.5", "2.5.1")
START_BLOCK, END_BLOCK = "\x0b", "\x1c"
_SEGMENT_NAME = re.compile(r"^[A-Z][A-Z0-9]{2}$")
_ENVELOPE = ("FHS", "FTS", "BHS", "BTS")


# --- framing ---------------------------------------------------------------------------------


def _segments(text: str) -> list[str]:
    text = text.replace("\r\n", "\r").replace("\n", "\r")
    return [line for line in (part.strip(" \t") for part in text.split("\r")) if line]


def split_messages(text: str) -> list[str]:
    """The messages in an upload or a stream: MLLP blocks (<VT> ... <FS><CR>) or plain segments
    in which each MSH starts a message; batch envelopes (FHS/BHS/BTS/FTS) are dropped. Anything
    before the first MSH is kept as a message of its own, so that it is held, not lost."""
    if START_BLOCK in text:
        blocks = []
        for chunk in text.split(START_BLOCK):
            body = chunk.split(END_BLOCK, 1)[0]
            if body.strip():
                blocks.extend(split_messages(body))
        return blocks
    messages: list[list[str]] = []
    for line in _segments(text):
        if line[:3] in _ENVELOPE:
            continue
        if line.startswith("MSH") or not messages:
            messages.append([line])
        else:
            messages[-1].append(line)
    return ["\r".join(lines) + "\r" for lines in messages]


# --- reading ---------------------------------------------------------------------------------


def _get(segment: hl7.Segment, field_num: int, repeat: int = 1, component: int = 1) -> str:
    try:
        value = segment.extract_field(
            field_num=field_num, repeat_num=repeat, component_num=component
        )
    except (IndexError, ValueError):
        return ""
    return str(value).strip()


def _repeats(segment: hl7.Segment, field_num: int) -> int:
    if field_num >= len(segment):
        return 0
    field = segment(field_num)
    return len(field) if field and isinstance(field[0], hl7.Repetition) else 1


def _codes(segment: hl7.Segment, field_num: int) -> tuple[Code, ...]:
    """A CE/CWE field's identifier and, when given, its alternate identifier (components 4-6):
    a local code with the LOINC code beside it is common."""
    codes = []
    for first in (1, 4):
        code = _get(segment, field_num, 1, first)
        if code:
            text = _get(segment, field_num, 1, first + 1)
            codes.append(Code(code.upper(), _get(segment, field_num, 1, first + 2).upper(), text))
    return tuple(codes)


_TS = re.compile(r"^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:\.\d+)?([+-]\d{4})?$")


def parse_timestamp(text: str, *, what: str) -> datetime | date | None:
    """An HL7 TS/DTM: a date alone, or a time (with its offset when the sender gives one)."""
    text = text.strip()
    if not text:
        return None
    match = _TS.match(text)
    if not match or match.group(3) is None:
        raise ParseProblem(f"{what} '{text}' is not a date in the HL7 form YYYYMMDD[HHMM[SS]].")
    year, month, day, hour, minute, second, offset = match.groups()
    try:
        if hour is None:
            return date(int(year), int(month), int(day))
        tz = None
        if offset:
            sign = 1 if offset[0] == "+" else -1
            tz = timezone(sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5])))
        return datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute or 0),
            int(second or 0),
            tzinfo=tz,
        )
    except ValueError:
        raise ParseProblem(f"{what} '{text}' is not a real date.") from None


def _check_header(text: str) -> None:
    if not text.startswith("MSH"):
        raise ParseProblem("The message does not start with an MSH segment.")
    if len(text) < 8:
        raise ParseProblem("The MSH segment is cut short.")
    separator, encoding = text[3], text[4:8]
    chars = separator + encoding
    if (
        separator.isalnum()
        or separator.isspace()
        or any(c.isalnum() or c.isspace() for c in encoding)
        or len(set(chars)) != 5
    ):
        raise ParseProblem(
            "The encoding characters in MSH-1 and MSH-2 are not valid: expected a field "
            "separator and four distinct special characters such as |^~\\&."
        )


def peek_header(raw: str) -> dict[str, str]:
    """What the header of a message that could not be read says about its sender, when that
    much can be read: enough to recognise the same broken message sent twice."""
    segments = _segments(raw)
    try:
        _check_header(segments[0])
        msh = hl7.parse(segments[0]).segment("MSH")
    except Exception:
        return {}
    return {
        "control_id": _get(msh, 10),
        "sending_application": _get(msh, 3),
        "sending_facility": _get(msh, 4),
        "message_type": f"{_get(msh, 9, 1, 1)}^{_get(msh, 9, 1, 2)}".strip("^"),
        "version": _get(msh, 12),
    }


def parse_oru(text: str) -> LabReport:
    """Read one ORU^R01 message. Raises ParseProblem, in plain words, when it cannot."""
    segments = _segments(text)
    if not segments:
        raise ParseProblem("The message is empty.")
    joined = "\r".join(segments)
    _check_header(joined)
    try:
        message = hl7.parse(joined)
    except Exception as error:  # the library raises several kinds for broken input
        raise ParseProblem(
            f"The message cannot be read as HL7 v2 ({type(error).__name__})."
        ) from None
    for number, segment in enumerate(message, start=1):
        name = str(segment[0]) if len(segment) else ""
        if not _SEGMENT_NAME.match(name):
            raise ParseProblem(
                f"Segment {number} is malformed: it does not start with a three-letter "
                "segment name."
            )
    msh = message.segment("MSH")
    message_type = f"{_get(msh, 9, 1, 1)}^{_get(msh, 9, 1, 2)}"
    version = _get(msh, 12)
    control_id = _get(msh, 10)
    header = {
        "control_id": control_id,
        "sending_application": _get(msh, 3),
        "sending_facility": _get(msh, 4),
        "message_type": message_type,
        "version": version,
    }
    if message_type != "ORU^R01":
        raise ParseProblem(
            f"This is a {message_type} message; only lab results (ORU^R01) are imported.",
            unsupported=True,
        )
    if version not in SUPPORTED_VERSIONS:
        raise ParseProblem(
            f"HL7 version '{version or 'none'}' is not supported; versions 2.3 to 2.5.1 are.",
            unsupported=True,
        )
    if not control_id:
        raise ParseProblem(
            "The message has no control id (MSH-10), so a repeat of it could not be recognised."
        )
    pids = [s for s in message if str(s[0]) == "PID"]
    if not pids:
        raise ParseProblem("The message has no patient (PID segment).")
    if len(pids) > 1:
        raise ParseProblem("The message is about more than one patient (several PID segments).")
    return LabReport(
        control_id=control_id,
        sending_application=header["sending_application"],
        sending_facility=header["sending_facility"],
        message_type=message_type,
        version=version,
        sent_at=parse_timestamp(_get(msh, 7), what="The message time (MSH-7)"),
        patient=_patient(pids[0]),
        orders=_orders(message),
    )


def _patient(pid: hl7.Segment) -> PatientIdentity:
    typed: list[str] = []
    other: list[str] = []
    for field_num in (3, 2):  # PID-2 carried the hospital number in older feeds
        for repeat in range(1, _repeats(pid, field_num) + 1):
            value = _get(pid, field_num, repeat, 1).upper().replace(" ", "")
            if not value:
                continue
            kind = _get(pid, field_num, repeat, 5).upper()
            (typed if kind == "MR" else other).append(value)
    born = parse_timestamp(_get(pid, 7), what="The date of birth (PID-7)")
    if isinstance(born, datetime):
        born = born.date()
    name = " ".join(p for p in (_get(pid, 5, 1, 2), _get(pid, 5, 1, 1)) if p)
    return PatientIdentity(
        identifiers=tuple(dict.fromkeys(typed + other)), date_of_birth=born, name=name
    )


def _orders(message: hl7.Message) -> tuple[Order, ...]:
    orders: list[dict] = []
    last_obx: dict | None = None
    for segment in message:
        name = str(segment[0])
        if name == "OBR":
            number = len(orders) + 1
            key = _get(segment, 3) or _get(segment, 2)
            orders.append(
                {
                    "order_key": key,
                    "codes": _codes(segment, 4),
                    "collected_at": parse_timestamp(
                        _get(segment, 7), what=f"The collection time of order {number} (OBR-7)"
                    ),
                    "observations": [],
                    "notes": [],
                    "number": number,
                }
            )
            last_obx = None
        elif name == "OBX":
            if not orders:
                raise ParseProblem("An observation (OBX) comes before any order (OBR).")
            order = orders[-1]
            position = f"OBX {len(order['observations']) + 1} of order {order['number']}"
            last_obx = {
                "codes": _codes(segment, 3),
                "value_type": _get(segment, 2).upper(),
                "value": _value(segment),
                "unit": _get(segment, 6),
                "reference_range": _get(segment, 7),
                "flags": "~".join(
                    _get(segment, 8, r) for r in range(1, _repeats(segment, 8) + 1)
                ).strip("~"),
                "status": _get(segment, 11).upper() or "F",
                "observed_at": parse_timestamp(
                    _get(segment, 14), what=f"The observation time of {position} (OBX-14)"
                ),
                "notes": [],
                "position": position,
            }
            order["observations"].append(last_obx)
        elif name == "NTE" and orders:
            note = _get(segment, 3).replace("\r", "\n")
            if note:
                (last_obx or orders[-1])["notes"].append(note)
    result = []
    for order in orders:
        observations = tuple(
            Observation(**{**obx, "notes": tuple(obx["notes"])}) for obx in order["observations"]
        )
        key = order["order_key"] or (
            f"@{order['collected_at']:%Y%m%d%H%M}" if order["collected_at"] else ""
        )
        result.append(
            Order(
                order_key=key,
                codes=order["codes"],
                collected_at=order["collected_at"],
                observations=observations,
                notes=tuple(order["notes"]),
            )
        )
    return tuple(result)


def _value(obx: hl7.Segment) -> str:
    """OBX-5 as text. A structured numeric (SN: comparator^number) is joined back, so that
    "^182" reads as "182" and "<^5" as "<5"."""
    if _get(obx, 2).upper() == "SN":
        parts = [_get(obx, 5, 1, c) for c in (1, 2, 3, 4)]
        return "".join(parts[:2] if parts[2] == "" else parts).strip()
    return _get(obx, 5)


# --- acknowledgements ------------------------------------------------------------------------


def acknowledgement(raw: str, code: str, text: str = "") -> str:
    """The ACK for `raw` (AA accepted, AE error, AR rejected), MSA-3 carrying `text`, built by
    python-hl7 from the message's own header. A message whose header cannot be read gets an
    ACK built from a neutral header, so the sender still hears why."""
    try:
        segments = _segments(raw)
        _check_header("\r".join(segments))
        source = hl7.parse(segments[0])
    except Exception:
        source = hl7.parse("MSH|^~\\&|||||||ORU^R01||P|2.5.1")
    with warnings.catch_warnings():
        # python-hl7 0.4.5 stamps the ACK with datetime.utcnow(), deprecated in Python 3.12.
        warnings.simplefilter("ignore", DeprecationWarning)
        ack = source.create_ack(ack_code=code, application="MYELIN")
    if text:
        ack.segment("MSA").assign_field(_ack_text(text), 3)
    return str(ack)


def _ack_text(text: str) -> str:
    # MSA-3 is 80 characters in v2.3-2.5.1; separators would break the segment.
    return re.sub(r"[|^~\\&\r\n]", " ", text)[:80]
