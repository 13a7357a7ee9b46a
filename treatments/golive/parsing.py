"""Reading the go-live CSV files: the exact columns, and each row turned into typed values or
into problems that name the file, the line, the column and the reason.

Nothing here touches the database: what needs it (an MRN already taken, a care team or a
clinician that does not exist, a drug not in the clinic's catalogue) is checked by
`treatments.golive.services`. Python's csv module reads the files, so quoted fields, commas
inside quotes and line breaks inside quotes work as any spreadsheet writes them.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from patients.models import MRN_PATTERN, DiseaseCourse, Sex
from treatments.dosing import DoseEntry
from treatments.models import PLAN_CONDITION_CHOICES, StopReason
from treatments.plans.history import EARLIEST_HISTORY
from treatments.plans.past_doses import (
    PastDose,
    parse_amount,
    parse_day,
    parse_days,
    parse_past_doses,
)

PATIENTS_FILE = "patients"
DMT_FILE = "DMT history"
NAME_MAX = 100
NOTE_MAX = 2000


@dataclass(frozen=True)
class Column:
    name: str
    required: bool
    meaning: str
    example: str


PATIENT_COLUMNS: tuple[Column, ...] = (
    Column("mrn", True, "Medical record number: 6 to 12 capital letters or digits.", "NHS4410721"),
    Column("given_name", True, "Given name.", "Maria"),
    Column("family_name", True, "Family name.", "Lopez"),
    Column("date_of_birth", True, "YYYY-MM-DD, from 1900 on.", "1984-07-19"),
    Column("sex", True, "female, male, other or unknown.", "female"),
    Column("care_team", True, "The name of a care team in Myelin.", "North MS Team"),
    Column(
        "neurologist",
        False,
        "Username of the named neurologist, a member of the care team.",
        "dr.okafor",
    ),
    Column(
        "nurse", False, "Username of the named MS nurse, a member of the care team.", "nurse.patel"
    ),
    Column("diagnosis_on", False, "Diagnosis date, YYYY-MM-DD.", "2016-02-11"),
    Column(
        "disease_course",
        False,
        "Each course with the date it began, oldest first, separated by semicolons: "
        "ris, cis, rrms, spms or ppms, a space, YYYY-MM-DD. The last one is the current course.",
        "cis 2015-10-02; rrms 2016-02-11",
    ),
)

DMT_COLUMNS: tuple[Column, ...] = (
    Column("mrn", True, "The patient's MRN, as in the patients file.", "NHS4410721"),
    Column(
        "drug",
        True,
        "The drug's key in the DMT catalogue (shown on this page).",
        "natalizumab_iv",
    ),
    Column("started_on", True, "First dose, YYYY-MM-DD.", "2022-03-01"),
    Column("stopped_on", False, "Stop date, YYYY-MM-DD; empty while still on it.", ""),
    Column(
        "stop_reason",
        False,
        "With a stop date: " + ", ".join(StopReason.values) + ".",
        "",
    ),
    Column("stop_note", False, "Details; needed when the reason is other.", ""),
    Column(
        "dose_mg_m2",
        False,
        "Only for a drug dosed by body-surface area (marked in the drug keys below): the first "
        "dose in mg/m².",
        "",
    ),
    Column(
        "bsa_m2",
        False,
        "With dose_mg_m2: the BSA in m² the first dose was calculated on (also used for later "
        "doses listed without their own).",
        "",
    ),
    Column(
        "doses",
        False,
        "Later doses or infusions after the first, YYYY-MM-DD separated by semicolons. For a "
        "drug dosed by body-surface area each date is followed by its dose in mg/m² and, if "
        "it differs from the first dose's, the BSA in m²: 2023-04-11 12; 2023-07-11 12 1.85.",
        "2022-03-29; 2022-04-26",
    ),
    Column(
        "courses",
        False,
        "Later treatment courses (cladribine, alemtuzumab), YYYY-MM-DD separated by semicolons.",
        "",
    ),
    Column(
        "conditions",
        False,
        "Plan conditions that switch monitoring on, separated by semicolons: "
        + ", ".join(value for value, _ in PLAN_CONDITION_CHOICES)
        + ".",
        "jcv_positive",
    ),
)


@dataclass(frozen=True, order=True)
class Issue:
    """One refusal, as the report shows it."""

    file: str
    line: int
    column: str
    message: str


@dataclass
class Row:
    """A data row: its line in the file (the first line of a quoted multi-line row) and its
    cells by column name, stripped."""

    line: int
    cells: dict[str, str]


@dataclass
class PatientRow:
    """A patients row as far as it could be read; `valid` when every cell was good (the
    checks that need the database run on the rest too, so every problem is reported)."""

    line: int
    valid: bool
    mrn: str
    given_name: str
    family_name: str
    date_of_birth: date | None
    sex: str
    care_team: str
    neurologist: str
    nurse: str
    diagnosis_on: date | None
    courses: list[tuple[str, date]] = field(default_factory=list)


@dataclass
class DmtRow:
    line: int
    valid: bool
    mrn: str
    drug_key: str
    started_on: date
    stopped_on: date | None
    stop_reason: str
    stop_note: str
    first_dose: DoseEntry | None
    doses: list[PastDose]
    courses: list[date]
    conditions: list[str]


def read_rows(
    data: bytes, *, file: str, columns: tuple[Column, ...]
) -> tuple[list[Row], list[Issue]]:
    """The file's rows by column name, or the problems that stop it being read at all (not
    UTF-8, a missing or unknown column, a row with too many or too few cells)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        return [], [Issue(file, line, "", "The file is not UTF-8 text: save it as CSV UTF-8.")]
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        return [], [Issue(file, 1, "", "The file is empty: the first line names the columns.")]
    except csv.Error as error:
        return [], [Issue(file, 1, "", f"The first line cannot be read as CSV ({error}).")]
    names = [name.strip().lower() for name in header]
    known = {c.name for c in columns}
    issues = [
        Issue(
            file, 1, name or f"column {i + 1}", "Unknown column: see the columns this page lists."
        )
        for i, name in enumerate(names)
        if name not in known
    ]
    issues += [
        Issue(file, 1, name, "This column is listed twice.")
        for i, name in enumerate(names)
        if name in known and name in names[:i]
    ]
    issues += [
        Issue(file, 1, c.name, "This column is missing: it is required.")
        for c in columns
        if c.required and c.name not in names
    ]
    if issues:
        return [], issues
    rows: list[Row] = []
    start = reader.line_num + 1
    try:
        for cells in reader:
            line, start = start, reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) != len(names):
                issues.append(
                    Issue(
                        file,
                        line,
                        "",
                        f"This row has {len(cells)} cells; the header has {len(names)}.",
                    )
                )
                continue
            rows.append(Row(line, {n: c.strip() for n, c in zip(names, cells, strict=True)}))
    except csv.Error as error:
        issues.append(Issue(file, reader.line_num, "", f"This line cannot be read ({error})."))
    return rows, issues


class _Cells:
    """Reads one row's cells, collecting an issue per bad cell instead of stopping."""

    def __init__(self, row: Row, file: str, issues: list[Issue]) -> None:
        self.row, self.file, self.issues = row, file, issues

    def problem(self, column: str, message: str) -> None:
        self.issues.append(Issue(self.file, self.row.line, column, message))

    def text(self, column: str, *, required: bool = False, limit: int = NAME_MAX) -> str:
        value = self.row.cells.get(column, "")
        if required and not value:
            self.problem(column, "This cell is empty: it is required.")
        elif len(value) > limit:
            self.problem(column, f"At most {limit} characters.")
            return value[:limit]
        return value

    def day(self, column: str, *, required: bool = False, today: date) -> date | None:
        value = self.text(column, required=required)
        if not value:
            return None
        try:
            day = parse_day(value)
        except ValueError as error:
            self.problem(column, str(error))
            return None
        if day > today:
            self.problem(column, "A date in the future.")
        return day

    def days(self, column: str) -> list[date]:
        try:
            return parse_days(self.row.cells.get(column, ""))
        except ValueError as error:
            self.problem(column, str(error))
            return []

    def past_doses(self, column: str) -> list[PastDose]:
        try:
            return parse_past_doses(self.row.cells.get(column, ""))
        except ValueError as error:
            self.problem(column, str(error))
            return []

    def amount(self, column: str) -> Decimal | None:
        value = self.text(column)
        if not value:
            return None
        try:
            return parse_amount(value.removesuffix("mg/m²").removesuffix("m²"))
        except ValueError as error:
            self.problem(column, str(error))
            return None

    def choices(self, column: str, allowed: set[str]) -> list[str]:
        chosen = [p.strip().lower() for p in self.row.cells.get(column, "").split(";")]
        chosen = [c for c in chosen if c]
        for choice in chosen:
            if choice not in allowed:
                self.problem(
                    column, f"'{choice[:30]}' is not one of: {', '.join(sorted(allowed))}."
                )
        return [c for c in chosen if c in allowed]


SEX_VALUES = {s.value for s in Sex}
COURSE_VALUES = {c.value for c in DiseaseCourse}


def parse_patient(row: Row, *, today: date, issues: list[Issue]) -> PatientRow:
    """One patients row, with an issue for each bad cell."""
    before = len(issues)
    cells = _Cells(row, PATIENTS_FILE, issues)
    mrn = cells.text("mrn", required=True).replace(" ", "").upper()
    if mrn and not MRN_PATTERN.match(mrn):
        cells.problem(
            "mrn", "An MRN is 6 to 12 capital letters or digits, without spaces or punctuation."
        )
    given = cells.text("given_name", required=True)
    family = cells.text("family_name", required=True)
    born = cells.day("date_of_birth", required=True, today=today)
    if born is not None and born < EARLIEST_HISTORY:
        cells.problem("date_of_birth", "The date of birth cannot be before 1900.")
    sex = cells.text("sex", required=True).lower()
    if sex and sex not in SEX_VALUES:
        cells.problem("sex", f"One of: {', '.join(sorted(SEX_VALUES))}.")
    team = cells.text("care_team", required=True)
    diagnosed = cells.day("diagnosis_on", today=today)
    if diagnosed is not None and born is not None and diagnosed < born:
        cells.problem("diagnosis_on", "The diagnosis date cannot be before the birth date.")
    courses = _courses(cells, born=born, today=today)
    return PatientRow(
        line=row.line,
        valid=len(issues) == before and born is not None,
        mrn=mrn,
        given_name=given,
        family_name=family,
        date_of_birth=born,
        sex=sex,
        care_team=team,
        neurologist=cells.text("neurologist"),
        nurse=cells.text("nurse"),
        diagnosis_on=diagnosed,
        courses=courses,
    )


def _courses(cells: _Cells, *, born: date | None, today: date) -> list[tuple[str, date]]:
    courses: list[tuple[str, date]] = []
    for part in cells.row.cells.get("disease_course", "").split(";"):
        words = part.split()
        if not words:
            continue
        if len(words) != 2 or words[0].lower() not in COURSE_VALUES:
            cells.problem(
                "disease_course",
                f"'{part.strip()[:30]}' is not a course and a date, e.g. 'rrms 2016-02-11' "
                f"(courses: {', '.join(sorted(COURSE_VALUES))}).",
            )
            continue
        try:
            day = parse_day(words[1])
        except ValueError as error:
            cells.problem("disease_course", str(error))
            continue
        if day > today:
            cells.problem("disease_course", f"{day:%Y-%m-%d} is in the future.")
        elif born is not None and day < born:
            cells.problem("disease_course", f"{day:%Y-%m-%d} is before the birth date.")
        elif courses and day <= courses[-1][1]:
            cells.problem(
                "disease_course", "List the courses oldest first, each from a later date."
            )
        courses.append((words[0].lower(), day))
    return courses


CONDITION_VALUES = {value for value, _ in PLAN_CONDITION_CHOICES}


def parse_dmt(row: Row, *, today: date, issues: list[Issue]) -> DmtRow | None:
    """One DMT history row's cells, with an issue for each bad cell; None without a first dose
    to check the rest against. (The clinical checks need the patient and the catalogue:
    services does them.)"""
    before = len(issues)
    cells = _Cells(row, DMT_FILE, issues)
    mrn = cells.text("mrn", required=True).replace(" ", "").upper()
    drug = cells.text("drug", required=True).lower()
    started = cells.day("started_on", required=True, today=today)
    stopped = cells.day("stopped_on", today=today)
    reason = cells.text("stop_reason").lower()
    note = cells.text("stop_note", limit=NOTE_MAX)
    mg_m2, bsa_m2 = cells.amount("dose_mg_m2"), cells.amount("bsa_m2")
    doses = cells.past_doses("doses")
    courses = cells.days("courses")
    conditions = cells.choices("conditions", CONDITION_VALUES)
    if started is None:
        return None
    return DmtRow(
        line=row.line,
        valid=len(issues) == before,
        mrn=mrn,
        drug_key=drug,
        started_on=started,
        stopped_on=stopped,
        stop_reason=reason,
        stop_note=note,
        first_dose=(
            None if mg_m2 is None and bsa_m2 is None else DoseEntry(mg_m2=mg_m2, bsa_m2=bsa_m2)
        ),
        doses=doses,
        courses=courses,
        conditions=conditions,
    )
