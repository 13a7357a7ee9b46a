"""The go-live import: a clinic's existing patients and their DMT history from two CSV files.

parse (treatments.golive.parsing) → check → import. `check_files` is the dry run: every
problem of every row, by file, line and column, and nothing written. `import_files` checks the
same way and then writes everything in one transaction or nothing at all: a single bad row
imports nothing and the report says which row and why. Rows are written set-based
(`bulk_create`), so 5,000 patients take seconds, audited (one entry per patient and per plan,
in one append), and the monitoring of the imported plans is materialised after commit by a task
per chunk of patients (`treatments.golive_materialise`), from the real anchors: what fell due
before the clinic's go-live date is marked "before go-live" and never alerts.

A patient row passes the same checks as the patient form (MRN format and uniqueness, date of
birth from 1900 and not in the future, a care team that exists, named clinicians who exist,
have that role and belong to the team) and a DMT row those of a past therapy entered on the
plan page (treatments.plans.history).
"""

from __future__ import annotations

import itertools
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import pghistory
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from clinic.accounts.models import CareTeam, Role, User
from clinic.audit import services as audit
from clinic.audit.models import Action, Category
from clinic.celery import enqueue_on_commit
from clinic.permissions import Perm, ensure
from patients.models import CourseState, Patient, PatientStatus
from patients.records.services import ClinicalHistory, derived_status
from treatments.catalogue.services import load_catalogue
from treatments.dosing import BsaDose
from treatments.golive.parsing import (
    DMT_COLUMNS,
    DMT_FILE,
    PATIENT_COLUMNS,
    PATIENTS_FILE,
    DmtRow,
    Issue,
    PatientRow,
    parse_dmt,
    parse_patient,
    read_rows,
)
from treatments.models import (
    ClinicSettings,
    DmtAdministration,
    DmtPlan,
    PlanStatus,
    ProtocolVersion,
)
from treatments.plans.history import (
    administration_days,
    overlap_problem,
    past_therapy_problems,
)
from treatments.plans.past_doses import past_dose_amounts
from treatments.plans.schedule import materialise_new, sync_care_plan, sync_plan_monitoring
from treatments.safety.services import reassess_pml_risk

logger = logging.getLogger("myelin.golive")

MATERIALISE_CHUNK = 250
IMPORT_NOTE = "Go-live import"


@dataclass
class Report:
    """What a dry run found, or what an import did."""

    issues: list[Issue] = field(default_factory=list)
    patients: int = 0
    plans: int = 0
    administrations: int = 0
    imported: bool = False
    go_live_on: date | None = None

    @property
    def ok(self) -> bool:
        return not self.issues


@dataclass
class _Plan:
    row: DmtRow
    version: ProtocolVersion
    amounts: dict[date, BsaDose] = field(default_factory=dict)
    """Each dose's mg/m² with its BSA, for a drug dosed by body-surface area."""


@dataclass
class _Checked:
    patients: list[PatientRow]
    plans: dict[str, list[_Plan]]
    teams: dict[str, CareTeam]
    users: dict[str, User]


# ---------------------------------------------------------------------------------------------
# Checking
# ---------------------------------------------------------------------------------------------


def _versions(region: str) -> dict[str, list[ProtocolVersion]]:
    """Every drug's stored protocol versions for the region, newest first. Versions of the code
    catalogue not stored yet are stored first (idempotent), as protocol_version_for would when
    a plan pins one."""
    load_catalogue()
    found: dict[str, list[ProtocolVersion]] = defaultdict(list)
    for version in (
        ProtocolVersion.objects.drugs()
        .filter(region=region)
        .order_by("drug_key", "-effective_from", "-loaded_at")
    ):
        found[version.drug_key].append(version)
    return found


def _in_effect(versions: Sequence[ProtocolVersion], on: date) -> ProtocolVersion:
    """The version a plan starting on `on` pins, as catalogue.services.protocol_version_for
    chooses it: the latest in effect then, else (history older than the catalogue) the
    earliest."""
    for version in versions:
        if version.effective_from <= on:
            return version
    return min(versions, key=lambda v: v.effective_from)


def _check(
    patients_csv: bytes, dmt_csv: bytes | None, *, today: date, region: str
) -> tuple[_Checked, list[Issue]]:
    issues: list[Issue] = []
    rows, read_issues = read_rows(patients_csv, file=PATIENTS_FILE, columns=PATIENT_COLUMNS)
    issues += read_issues
    patients = [parse_patient(row, today=today, issues=issues) for row in rows]
    listed = {row.cells.get("mrn", "").replace(" ", "").upper() for row in rows}
    if not rows and not read_issues:
        issues.append(Issue(PATIENTS_FILE, 2, "", "The file has no patient rows."))
    dmt_rows: list[DmtRow] = []
    if dmt_csv is not None:
        rows, read_issues = read_rows(dmt_csv, file=DMT_FILE, columns=DMT_COLUMNS)
        issues += read_issues
        dmt_rows = [d for row in rows if (d := parse_dmt(row, today=today, issues=issues))]
    checked = _Checked(patients=[], plans={}, teams={}, users={})
    _check_patients(patients, checked, issues)
    _check_plans(dmt_rows, checked, issues, today=today, region=region, listed=listed)
    return checked, sorted(issues)


def _check_patients(patients: list[PatientRow], checked: _Checked, issues: list[Issue]) -> None:
    def problem(row: PatientRow, column: str, message: str) -> None:
        issues.append(Issue(PATIENTS_FILE, row.line, column, message))

    first_line: dict[str, int] = {}
    taken = set(
        Patient.objects.filter(mrn__in=[p.mrn for p in patients]).values_list("mrn", flat=True)
    )
    checked.teams = {team.name.strip().lower(): team for team in CareTeam.objects.all()}
    usernames = {name for p in patients for name in (p.neurologist, p.nurse) if name}
    checked.users = {u.username: u for u in User.objects.filter(username__in=usernames)}
    memberships = set(
        User.care_teams.through.objects.filter(user__username__in=usernames).values_list(
            "user_id", "careteam_id"
        )
    )
    for row in patients:
        before = len(issues)
        if not row.mrn:
            pass
        elif row.mrn in first_line:
            problem(row, "mrn", f"The same MRN is on line {first_line[row.mrn]}.")
        else:
            first_line[row.mrn] = row.line
        if row.mrn in taken:
            problem(row, "mrn", "Another patient in Myelin already has this MRN.")
        team = checked.teams.get(row.care_team.lower())
        if team is None and row.care_team:
            problem(row, "care_team", "No care team of this name: create it first (Care teams).")
        for column, role, label in (
            ("neurologist", Role.NEUROLOGIST, "neurologist"),
            ("nurse", Role.NURSE, "nurse"),
        ):
            username = getattr(row, column)
            if not username:
                continue
            person = checked.users.get(username)
            if person is None or not person.is_active:
                problem(row, column, "No active user with this username.")
            elif person.role != role:
                problem(row, column, f"This user is not a {label}.")
            elif team is not None and (person.pk, team.pk) not in memberships:
                problem(row, column, f"This {label} is not a member of the care team.")
        if row.valid and len(issues) == before:
            checked.patients.append(row)


def _check_plans(
    rows: list[DmtRow],
    checked: _Checked,
    issues: list[Issue],
    *,
    today: date,
    region: str,
    listed: set[str],
) -> None:
    """`listed`: every MRN in the patients file, good or not. The dates of a DMT row whose
    patient's row has problems are checked once that row is fixed (they need its birth
    date)."""
    versions = _versions(region)
    born = {p.mrn: p.date_of_birth for p in checked.patients if p.date_of_birth}
    by_patient: dict[str, list[_Plan]] = defaultdict(list)
    # The courses and mg/m² of each patient's earlier rows of the same drug: the course limit
    # and the lifetime cumulative dose count them all.
    courses_so_far: dict[tuple[str, str], list[date]] = defaultdict(list)
    mg_m2_so_far: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for row in rows:

        def problem(column: str, message: str, row: DmtRow = row) -> None:
            issues.append(Issue(DMT_FILE, row.line, column, message))

        if row.mrn not in listed:
            problem("mrn", "This MRN is not in the patients file.")
        drug_versions = versions.get(row.drug_key)
        if not drug_versions:
            problem(
                "drug",
                f"Not a drug of the clinic's catalogue ({region} label region): use a key this "
                "page lists.",
            )
            continue
        version = _in_effect(drug_versions, row.started_on)
        if not version.protocol.authorised_in_region:
            problem("drug", f"{version.drug_name} is not authorised in the {region} region.")
            continue
        if not row.valid or row.mrn not in born:
            continue  # the row's own cells, or its patient's row, are the problems to fix
        found = past_therapy_problems(
            protocol=version.protocol,
            drug_name=version.drug_name,
            date_of_birth=born[row.mrn],
            started_on=row.started_on,
            stopped_on=row.stopped_on,
            stop_reason=row.stop_reason,
            stop_note=row.stop_note,
            doses=row.doses,
            courses=row.courses,
            today=today,
            earlier_courses=courses_so_far[(row.mrn, row.drug_key)],
            first_dose=row.first_dose,
            earlier_mg_m2=mg_m2_so_far[(row.mrn, row.drug_key)],
        )
        if version.protocol.has_courses:
            courses_so_far[(row.mrn, row.drug_key)] += [row.started_on, *row.courses]
        for item in found:
            problem(item.field, item.message)
        if not found:
            amounts = past_dose_amounts(
                protocol=version.protocol,
                started_on=row.started_on,
                first_dose=row.first_dose,
                doses=row.doses,
            )
            mg_m2_so_far[(row.mrn, row.drug_key)] += sum(
                (a.mg_m2 for a in amounts.values()), Decimal(0)
            )
            by_patient[row.mrn].append(_Plan(row, version, amounts))
    for mrn, plans in by_patient.items():
        plans.sort(key=lambda p: (p.row.started_on, p.row.line))
        kept: list[_Plan] = []
        for plan in plans:
            clash = overlap_problem(
                started_on=plan.row.started_on,
                stopped_on=plan.row.stopped_on,
                others=[(p.version.drug_name, p.row.started_on, p.row.stopped_on) for p in kept],
            )
            if clash is not None:
                issues.append(
                    Issue(DMT_FILE, plan.row.line, clash.field, clash.message + " (same patient)")
                )
            else:
                kept.append(plan)
        checked.plans[mrn] = kept


# ---------------------------------------------------------------------------------------------
# The dry run and the import
# ---------------------------------------------------------------------------------------------


def check_files(*, patients_csv: bytes, dmt_csv: bytes | None, by: User) -> Report:
    """The dry run: every problem, nothing written."""
    ensure(by, Perm.GOLIVE_IMPORT)
    clinic = ClinicSettings.load()
    checked, issues = _check(
        patients_csv, dmt_csv, today=timezone.localdate(), region=clinic.label_region
    )
    issues = _go_live_issues(clinic) + issues
    return _report(checked, issues, go_live_on=clinic.go_live_on)


def _go_live_issues(clinic: ClinicSettings) -> list[Issue]:
    if clinic.go_live_on is not None:
        return []
    # Without a go-live date every check the histories owe since their first dose would be
    # overdue at once: thousands of alerts nobody can act on.
    return [
        Issue(
            "clinic settings",
            0,
            "go_live_on",
            "Set the clinic's go-live date first (Clinic settings): checks due before it are "
            "marked 'before go-live' instead of overdue.",
        )
    ]


def _report(checked: _Checked, issues: list[Issue], *, go_live_on: date | None) -> Report:
    plans = [p for kept in checked.plans.values() for p in kept]
    return Report(
        issues=issues,
        patients=len(checked.patients),
        plans=len(plans),
        administrations=sum(
            1 + len({d.day for d in p.row.doses} | set(p.row.courses) - {p.row.started_on})
            for p in plans
        ),
        go_live_on=go_live_on,
    )


def import_files(*, patients_csv: bytes, dmt_csv: bytes | None, by: User) -> Report:
    """Check, then import everything in one transaction, or nothing if any row has a problem.
    Monitoring is materialised after commit, a chunk of patients per task."""
    ensure(by, Perm.GOLIVE_IMPORT)
    today = timezone.localdate()
    try:
        with pghistory.context(job="golive_import"), transaction.atomic():
            # One import at a time: two admins pressing "import" must not both pass the MRN
            # check before either writes.
            clinic = ClinicSettings.objects.select_for_update().get(pk=ClinicSettings.load().pk)
            checked, issues = _check(patients_csv, dmt_csv, today=today, region=clinic.label_region)
            issues = _go_live_issues(clinic) + issues
            report = _report(checked, issues, go_live_on=clinic.go_live_on)
            if issues:
                return report
            patient_ids = _write(checked, by=by, today=today)
            for start in range(0, len(patient_ids), MATERIALISE_CHUNK):
                enqueue_on_commit(
                    "treatments.golive_materialise", patient_ids[start : start + MATERIALISE_CHUNK]
                )
    except IntegrityError:
        # Someone created a patient with one of these MRNs after the check: nothing was written.
        logger.warning("Go-live import refused: a constraint failed while writing")
        return Report(
            issues=[
                Issue(
                    PATIENTS_FILE,
                    0,
                    "mrn",
                    "A patient with one of these MRNs was created while importing; nothing was "
                    "imported. Run the dry run again.",
                )
            ]
        )
    report.imported = True
    return report


def _write(checked: _Checked, *, by: User, today: date) -> list[int]:
    """Set-based inserts: patients, their course history, plans, doses; then the audit trail."""
    patients = [_patient(row, checked, today=today) for row in checked.patients]
    Patient.objects.bulk_create(patients, batch_size=1000)
    by_mrn = {p.mrn: p for p in patients}
    CourseState.objects.bulk_create(
        [
            state
            for row in checked.patients
            for state in _course_states(row, by_mrn[row.mrn], by=by)
        ],
        batch_size=2000,
    )
    plans: list[tuple[DmtPlan, _Plan]] = []
    for mrn, kept in checked.plans.items():
        for item in kept:
            plans.append((_plan(item, by_mrn[mrn], by=by), item))
    DmtPlan.objects.bulk_create([plan for plan, _ in plans], batch_size=1000)
    _link_switches(plans)
    given = _copy_administrations(
        [
            (
                plan.pk,
                past.kind,
                past.given_on,
                past.note,
                by.pk,
                past.dose.mg_m2 if past.dose else None,
                past.dose.bsa_m2 if past.dose else None,
            )
            for plan, item in plans
            for past in administration_days(
                protocol=item.version.protocol,
                started_on=item.row.started_on,
                doses=item.row.doses,
                courses=item.row.courses,
                amounts=item.amounts,
            )
        ]
    )
    audit.record_many(
        user=by,
        entries=[
            audit.Entry(
                p.pk,
                Action.CREATE,
                Category.DEMOGRAPHICS,
                "patients.patient",
                str(p.pk),
                IMPORT_NOTE,
            )
            for p in patients
        ]
        + [
            audit.Entry(
                plan.patient_id,
                Action.CREATE,
                Category.TREATMENT,
                "treatments.dmtplan",
                str(plan.pk),
                f"{IMPORT_NOTE}: past therapy {plan.drug_key} from {plan.started_on:%Y-%m-%d}",
            )
            for plan, _ in plans
        ]
        + [
            audit.Entry(
                None,
                Action.CREATE,
                Category.TREATMENT,
                detail=(
                    f"{IMPORT_NOTE}: {len(patients)} patients, {len(plans)} DMT plans, "
                    f"{given} doses or courses"
                ),
            )
        ],
    )
    return [p.pk for p in patients]


def _copy_administrations(
    rows: list[tuple[int, str, date, str, int, Decimal | None, Decimal | None]],
) -> int:
    """COPY the doses in: a natalizumab history alone is some fifty infusions a patient, and
    building a model instance for each was most of an import's time. Row triggers (the
    history) fire for COPY as for INSERT, under the import's history context."""
    meta = DmtAdministration._meta
    names = (
        "plan",
        "kind",
        "given_on",
        "note",
        "recorded_by",
        "dose_mg_m2",
        "bsa_m2",
        "recorded_at",
    )
    columns = ", ".join(f'"{meta.get_field(name).column}"' for name in names)  # type: ignore[union-attr]
    now = timezone.now()
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper
        with raw.copy(f'COPY "{meta.db_table}" ({columns}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row((*row, now))
    return len(rows)


def _patient(row: PatientRow, checked: _Checked, *, today: date) -> Patient:
    assert row.date_of_birth is not None  # a valid row (checked.patients) has one
    team = checked.teams[row.care_team.lower()]
    history = ClinicalHistory(
        course_states=[CourseState(course=c, start_on=d) for c, d in row.courses[-1:]]
    )
    return Patient(
        mrn=row.mrn,
        given_name=row.given_name,
        family_name=row.family_name,
        date_of_birth=row.date_of_birth,
        sex=row.sex,
        status=PatientStatus.ACTIVE,
        diagnosis_on=row.diagnosis_on,
        care_team=team,
        neurologist=checked.users.get(row.neurologist) if row.neurologist else None,
        nurse=checked.users.get(row.nurse) if row.nurse else None,
        # What refresh_clinical_status would compute from the course alone (no EDSS yet).
        **derived_status(history, today=today),
    )


def _course_states(row: PatientRow, patient: Patient, *, by: User) -> list[CourseState]:
    states = []
    for index, (course, start_on) in enumerate(row.courses):
        following = row.courses[index + 1][1] if index + 1 < len(row.courses) else None
        states.append(
            CourseState(
                patient=patient,
                course=course,
                start_on=start_on,
                end_on=following - timedelta(days=1) if following else None,
                note=IMPORT_NOTE,
                recorded_by=by,
            )
        )
    return states


def _plan(item: _Plan, patient: Patient, *, by: User) -> DmtPlan:
    row = item.row
    return DmtPlan(
        patient=patient,
        protocol_version=item.version,
        drug_key=row.drug_key,
        drug_name=item.version.drug_name,
        status=PlanStatus.STOPPED if row.stopped_on else PlanStatus.ACTIVE,
        conditions=sorted(set(row.conditions)),
        planned_on=row.started_on,
        started_on=row.started_on,
        stopped_on=row.stopped_on,
        stop_reason=row.stop_reason if row.stopped_on else "",
        stop_note=row.stop_note if row.stopped_on else "",
        recorded_as_history=True,
        created_by=by,
    )


def _link_switches(plans: list[tuple[DmtPlan, _Plan]]) -> None:
    """Each plan is switched from the patient's plan before it (they do not overlap), so the
    washout counts from the real stop."""
    by_patient: dict[int, list[DmtPlan]] = defaultdict(list)
    for plan, _ in plans:
        by_patient[plan.patient_id].append(plan)
    linked = []
    for sequence in by_patient.values():
        sequence.sort(key=lambda p: p.started_on or date.min)
        for previous, plan in itertools.pairwise(sequence):
            plan.switched_from = previous
            linked.append(plan)
    DmtPlan.objects.bulk_update(linked, ["switched_from"], batch_size=1000)


# ---------------------------------------------------------------------------------------------
# After commit: monitoring from the real anchors
# ---------------------------------------------------------------------------------------------


def materialise_monitoring(*, patient_ids: Sequence[int], on: date | None = None) -> int:
    """Materialise the imported patients' monitoring (each plan's, then the general duties),
    set-based (schedule.materialise_new), and assess natalizumab PML risk. Returns how many
    monitoring items were created. If the chunk cannot be scheduled at once (a catalogue
    error), each patient is synchronised on its own, and one that fails is logged by id; the
    nightly extension retries it."""
    on = on or timezone.localdate()
    patients = list(Patient.objects.filter(pk__in=list(patient_ids)).order_by("pk"))
    try:
        with transaction.atomic():
            created = materialise_new(patients=patients, on=on)
    except (LookupError, ValueError):
        logger.exception("Go-live monitoring of a chunk failed; synchronising patient by patient")
        created = sum(_sync_one(patient, on=on) for patient in patients)
    for plan in DmtPlan.objects.current().filter(
        patient_id__in=[p.pk for p in patients], drug_key__startswith="natalizumab"
    ):
        try:
            reassess_pml_risk(plan=plan, reason=IMPORT_NOTE, on=on)
        except ValueError:
            logger.exception("PML assessment of imported plan %s failed", plan.pk)
    return created


def _sync_one(patient: Patient, *, on: date) -> int:
    try:
        with transaction.atomic():
            created = 0
            for plan in DmtPlan.objects.filter(patient=patient, started_on__isnull=False):
                plan.patient = patient
                created += sync_plan_monitoring(plan=plan, on=on).created
            return created + sync_care_plan(patient=patient, on=on).created
    except (LookupError, ValueError):
        logger.exception("Go-live monitoring failed for patient id %s", patient.pk)
        return 0
