"""FHIR data types as plain JSON: ids, references, codings, quantities, dates.

Every builder returns plain dicts ready for `json.dumps`: numbers are ints or floats (never a
Decimal, which the standard encoder refuses and a string would break the FHIR type), dates and
instants are ISO strings.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from treatments.fhir import codes

Json = dict[str, Any]

# Ids of the resources that have no UUID of their own are derived from their row, so an export
# repeated next week names the same resources the same way, without showing a sequential key.
_ID_NAMESPACE = uuid.UUID("5f0c7d2e-8a61-4f3b-9d58-6a8f1f0e2b47")


def resource_id(kind: str, *parts: object) -> str:
    return str(uuid.uuid5(_ID_NAMESPACE, "/".join([kind, *map(str, parts)])))


def patient_reference(external_id: uuid.UUID | str) -> Json:
    return {"reference": f"Patient/{external_id}"}


def coding(system: str, code: str, display: str = "") -> Json:
    """A code; `display` only where it is the code system's own (or Myelin's, for its codes):
    a standard code whose official display we do not hold carries the text on its concept."""
    found: Json = {"system": system, "code": code}
    if display:
        found["display"] = display
    return found


def concept(*codings: Json, text: str = "") -> Json:
    found: Json = {}
    if codings:
        found["coding"] = list(codings)
    if text:
        found["text"] = text
    return found


def number(value: Decimal | int | float) -> int | float:
    """A JSON number for a decimal: an int when whole, else the shortest float that reads back
    as the same decimal."""
    decimal = Decimal(value).normalize() if not isinstance(value, Decimal) else value.normalize()
    if decimal == decimal.to_integral_value():
        return int(decimal)
    return float(decimal)


def quantity(value: Decimal | int | float, unit: str = "", ucum: str = "") -> Json:
    found: Json = {"value": number(value)}
    if unit:
        found["unit"] = unit
    if ucum:
        found["system"] = codes.UCUM
        found["code"] = ucum
    return found


def day(value: date) -> str:
    return value.isoformat()


def instant(value: datetime) -> str:
    # Stored datetimes are aware (USE_TZ); FHIR instants need the offset, which isoformat keeps.
    return value.isoformat()


def category(system: str, code: str, display: str) -> list[Json]:
    return [concept(coding(system, code, display))]


def note(*texts: str) -> list[Json]:
    return [{"text": text} for text in texts if text and text.strip()]
