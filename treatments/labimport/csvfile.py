"""Lab results as CSV, for laboratories without HL7: one row per result, read with the standard
library's csv module into the same `LabReport` an HL7 message becomes.

Rows of one sample (same laboratory, MRN, date of birth and order id, or collection time when
there is no order id) form one report, which is imported or held as a whole, like one message.
Each report keeps its own rows (under the header) as its raw text, and its control id is a
digest of them: the same rows uploaded twice are recognised and create nothing new.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, replace
from datetime import date, datetime

from treatments.labimport.report import (
    Code,
    LabReport,
    Observation,
    Order,
    ParseProblem,
    PatientIdentity,
)

REQUIRED = ("mrn", "date_of_birth", "code", "value", "unit", "collected_at")
OPTIONAL = (
    "coding_system",
    "test_name",
    "reference_range",
    "flag",
    "status",
    "order_id",
    "lab",
    "note",
)
COLUMNS = REQUIRED + OPTIONAL
TEMPLATE_HEADER = ",".join(COLUMNS)


@dataclass(frozen=True)
class CsvChunk:
    """One report's rows as text (header included), with the report or why it cannot be read."""

    raw: str
    control_id: str
    sending_facility: str
    report: LabReport | None
    problem: ParseProblem | None


def looks_like_csv(text: str) -> bool:
    first = text.lstrip("\ufeff").lstrip().split("\n", 1)[0].lower()
    return "mrn" in first and "," in first


def _date(text: str, what: str) -> date | datetime:
    text = text.strip()
    for pattern in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"):
        try:
            return datetime.strptime(text, pattern)  # the lab's local time
        except ValueError:
            continue
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ParseProblem(
            f"{what} '{text}' is not a date like 2026-11-19 or 2026-11-19 07:45."
        ) from None


def split_csv(text: str, *, default_lab: str = "") -> list[CsvChunk]:
    """The reports in a CSV upload. A file without the needed columns is one unreadable chunk
    (kept whole, so it is held for review rather than lost)."""
    text = text.lstrip("\ufeff")
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip().lower() for name in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        problem = ParseProblem(
            "The CSV file lacks the column(s) "
            + ", ".join(missing)
            + f"; expected: {TEMPLATE_HEADER}."
        )
        return [_chunk(text, default_lab or "CSV", None, problem)]
    reader.fieldnames = header
    groups: dict[tuple[str, ...], list[dict[str, str]]] = {}
    for row in reader:
        clean = {k: (v or "").strip() for k, v in row.items() if k}
        if not any(clean.values()):
            continue
        lab = clean.get("lab") or default_lab or "CSV"
        sample = clean.get("order_id") or clean.get("collected_at", "")
        key = (lab.upper(), clean.get("mrn", "").upper(), clean.get("date_of_birth", ""), sample)
        groups.setdefault(key, []).append(clean)
    chunks = []
    for (lab, *_), rows in groups.items():
        raw = _rows_text(header, rows)
        try:
            report = _report(rows, lab)
        except ParseProblem as problem:
            chunks.append(_chunk(raw, lab, None, problem))
        else:
            chunks.append(_chunk(raw, lab, report, None))
    return chunks


def parse_csv_report(raw: str) -> LabReport:
    """Read back one stored chunk (at review time)."""
    chunks = split_csv(raw)
    if len(chunks) != 1:
        raise ParseProblem("The stored rows no longer form one report.")
    chunk = chunks[0]
    if chunk.problem is not None:
        raise chunk.problem
    assert chunk.report is not None
    return chunk.report


def _rows_text(header: list[str], rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _chunk(raw: str, lab: str, report: LabReport | None, problem: ParseProblem | None) -> CsvChunk:
    control_id = "CSV-" + hashlib.sha256(raw.encode()).hexdigest()[:32]
    if report is not None:
        report = replace(report, control_id=control_id)
    return CsvChunk(raw, control_id, lab, report, problem)


def _report(rows: list[dict[str, str]], lab: str) -> LabReport:
    first = rows[0]
    if not first.get("mrn"):
        raise ParseProblem("A row has no MRN.")
    born = _date(first["date_of_birth"], "The date of birth") if first["date_of_birth"] else None
    if isinstance(born, datetime):
        born = born.date()
    observations = []
    for number, row in enumerate(rows, start=1):
        if not row.get("code"):
            raise ParseProblem(f"Row {number} of this sample has no test code.")
        if not row.get("collected_at"):
            raise ParseProblem(f"Row {number} of this sample has no collection time.")
        observations.append(
            Observation(
                codes=(
                    Code(
                        row["code"].upper(),
                        (row.get("coding_system") or "").upper(),
                        row.get("test_name", ""),
                    ),
                ),
                value_type="",
                value=row.get("value", ""),
                unit=row.get("unit", ""),
                reference_range=row.get("reference_range", ""),
                flags=row.get("flag", ""),
                status=(row.get("status") or "F").upper(),
                observed_at=_date(row["collected_at"], f"The collection time of row {number}"),
                notes=(row["note"],) if row.get("note") else (),
                position=f"row {number} of this sample",
            )
        )
    collected = observations[0].observed_at
    order_key = first.get("order_id") or (
        f"@{collected:%Y%m%d%H%M}" if isinstance(collected, datetime) else f"@{collected}"
    )
    return LabReport(
        control_id="",
        sending_application="CSV",
        sending_facility=lab,
        message_type="CSV",
        version="",
        sent_at=None,
        patient=PatientIdentity(
            identifiers=(first["mrn"].upper().replace(" ", ""),), date_of_birth=born
        ),
        orders=(
            Order(order_key=order_key, collected_at=collected, observations=tuple(observations)),
        ),
    )
