"""Real-world-shaped ORU^R01 messages for the tests, built segment by segment."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date


def obx(
    set_id: int,
    code: str,
    value: str,
    unit: str,
    ref: str = "",
    flag: str = "",
    status: str = "F",
    *,
    value_type: str = "NM",
    observed: str = "20260610081500",
) -> str:
    return f"OBX|{set_id}|{value_type}|{code}||{value}|{unit}|{ref}|{flag}|||{status}|||{observed}"


def obr(set_id: int, filler: str, code: str, collected: str = "20260610074500") -> str:
    return f"OBR|{set_id}|PL{filler}|{filler}|{code}|||{collected}|||||||||||||||20260610093000|||F"


LFT = "24325-3^Hepatic function panel^LN"
CBC = "58410-2^CBC panel^LN"


def oru(
    *segments: str,
    control_id: str = "MSG0001",
    mrn: str = "AAA00001",
    born: date | str = "19850314",
    version: str = "2.5.1",
    facility: str = "NORTHLAB",
    separators: str = "|^~\\&",
) -> str:
    """An ORU^R01 from the laboratory system: MSH, PID, PV1, then the order segments given."""
    dob = born.strftime("%Y%m%d") if isinstance(born, date) else born
    message_type = "ORU^R01^ORU_R01" if version.startswith("2.5") else "ORU^R01"
    lines: Sequence[str] = (
        f"MSH{separators}|LABSYS|{facility}|MYELIN|NORTHMS|20260612100000||{message_type}|"
        f"{control_id}|P|{version}|||AL|NE",
        f"PID|1||{mrn}^^^NORTH^MR~9434765919^^^NHS^NH||Archer^Alice^^^^^L||{dob}|F",
        "PV1|1|O|NEURO^^^NORTH",
        "ORC|RE|PL" + control_id + "|F" + control_id,
        *segments,
    )
    return "\r".join(lines) + "\r"


def lft_panel(
    alt: str = "22", *, status: str = "F", filler: str = "F1001", ref: str = "7-56"
) -> list[str]:
    """A liver panel with a note under ALT (escape sequences in it) and the rest normal."""
    return [
        obr(1, filler, LFT),
        obx(1, "1742-6^ALT^LN", alt, "U/L", ref, "H" if float(alt) > 56 else "N", status),
        "NTE|1|L|Sample slightly haemolysed \\T\\ lipaemic\\.br\\Interpret with care \\F\\ see report",
        obx(2, "1920-8^AST^LN", "24", "U/L", "10-40", "N", status),
        obx(3, "6768-6^Alkaline phosphatase^LN", "80", "IU/L", "30-130", "N", status),
        obx(4, "1975-2^Bilirubin total^LN", "0.5", "mg/dL", "0.1-1.2", "N", status),
    ]


def mllp(*messages: str) -> str:
    return "".join(f"\x0b{m}\x1c\r" for m in messages)
