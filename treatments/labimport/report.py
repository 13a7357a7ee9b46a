"""A laboratory report as the importer sees it, whatever format it came in (HL7 v2 or CSV).

Pure data, no Django: `hl7.py` and `csvfile.py` build these; `services.py` matches and stores
them. Text here is already unescaped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


class ParseProblem(ValueError):
    """The input cannot be read as a lab report; the message is said in plain words."""

    def __init__(self, message: str, *, unsupported: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.unsupported = unsupported


@dataclass(frozen=True)
class Code:
    """A coded test: the code, its coding system (LN for LOINC, L or blank for local)."""

    code: str
    system: str = ""
    text: str = ""

    def __str__(self) -> str:
        label = f"{self.code} ({self.system})" if self.system else self.code
        return f"{label} {self.text}".strip()


@dataclass(frozen=True)
class Observation:
    """One OBX (or CSV row): a coded value with its unit, reference range and status."""

    codes: tuple[Code, ...]
    value_type: str
    value: str
    unit: str = ""
    reference_range: str = ""
    flags: str = ""
    status: str = "F"
    observed_at: datetime | date | None = None
    notes: tuple[str, ...] = ()
    position: str = ""  # where it sits in the message, for the reasons ("OBX 3 of order 1")

    @property
    def label(self) -> str:
        return str(self.codes[0]) if self.codes else "(no code)"


@dataclass(frozen=True)
class Order:
    """One OBR (or CSV order): the test ordered, when the sample was taken, its observations."""

    order_key: str
    codes: tuple[Code, ...] = ()
    collected_at: datetime | date | None = None
    observations: tuple[Observation, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class PatientIdentity:
    """Who the report says it is about: identifiers (MRN first), date of birth, name."""

    identifiers: tuple[str, ...]
    date_of_birth: date | None
    name: str = ""


@dataclass(frozen=True)
class LabReport:
    control_id: str
    sending_application: str
    sending_facility: str
    message_type: str
    version: str
    sent_at: datetime | date | None
    patient: PatientIdentity
    orders: tuple[Order, ...] = ()
    warnings: tuple[str, ...] = field(default=())

    @property
    def observation_count(self) -> int:
        return sum(len(order.observations) for order in self.orders)
