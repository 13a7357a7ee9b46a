"""Demo DMT plans, monitoring and results for the demo clinic, dated relative to today.

A plausible mix: ocrelizumab, natalizumab with JCV results, teriflunomide started four months
ago with one abnormal ALT, alemtuzumab after two courses, cladribine, a fingolimod-to-ofatumumab
switch, dimethyl fumarate, and a natalizumab plan waiting on its baseline checks. Past duties are
mostly done with results; some are left overdue, some booked, some due this week.

Around those showcase patients, `seed_caseload` fills both teams to a clinic's size (about 60
patients) with the bench's generator (treatments.bench.generate): years of EDSS, relapses, MRI,
DMT history, monitoring with a few overdue items and their alerts, referrals and rehab sessions,
written set-based so loading stays quick.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from clinic.accounts.models import CareTeam, Role, User
from clinic.demo import TEAM_A, TEAM_B
from patients.models import Patient
from treatments import labs
from treatments.bench.generate import populate
from treatments.bench.shape import ClinicShape, Counts, Staff
from treatments.catalogue import services as catalogue_services
from treatments.models import DmtPlan, MonitoringItem, QualitativeValue
from treatments.monitoring import services as monitoring_services
from treatments.plans import gates as plan_gates
from treatments.plans import schedule
from treatments.plans import services as plan_services
from treatments.protocols import InvestigationKind, add_months, get_investigation

# analyte -> (typical value, lab's low, lab's high), in the canonical unit.
NORMAL: dict[str, tuple[str, str | None, str | None]] = {
    "alt": ("22", "0", "40"),
    "ast": ("24", "0", "40"),
    "alp": ("80", "30", "130"),
    "ggt": ("25", "0", "60"),
    "bilirubin": ("9", "0", "21"),
    "creatinine": ("74", "45", "90"),
    "egfr": ("96", "90", None),
    "wbc": ("6.2", "4.0", "11.0"),
    "lymphocytes": ("1.8", "1.0", "4.0"),
    "neutrophils": ("3.6", "2.0", "7.5"),
    "platelets": ("250", "150", "400"),
    "haemoglobin": ("135", "115", "165"),
    "tsh": ("1.9", "0.4", "4.0"),
    "free_t4": ("15", "10", "22"),
    "igg": ("10.2", "6.0", "16.0"),
    "igm": ("1.1", "0.4", "2.3"),
    "iga": ("2.1", "0.8", "4.0"),
    "cd4": ("0.7", "0.5", "1.5"),
    "lvef": ("61", "55", None),
    "qtc": ("421", None, "450"),
    "heart_rate": ("68", "60", "100"),
    "systolic_bp": ("122", None, "140"),
    "diastolic_bp": ("78", None, "90"),
    "urine_protein_creatinine": ("10", None, "15"),
}


def _values(
    investigation: str, overrides: dict[str, str] | None = None
) -> list[monitoring_services.EnteredValue]:
    values = []
    for analyte in monitoring_services.result_analytes(investigation):
        value, low, high = NORMAL[analyte]
        value = (overrides or {}).get(analyte, value)
        values.append(
            monitoring_services.EnteredValue(
                analyte=analyte,
                value=Decimal(value),
                unit=labs.get_analyte(analyte).canonical_unit,
                low=Decimal(low) if low is not None else None,
                high=Decimal(high) if high is not None else None,
            )
        )
    return values


def _record(
    item: MonitoringItem, by: User, *, taken_on: date | None = None, **overrides: str
) -> None:
    investigation = item.investigation
    kind = get_investigation(investigation).kind
    values = _values(investigation, overrides)
    qualitative = ""
    if not values:
        qualitative = (
            QualitativeValue.NEGATIVE
            if kind == InvestigationKind.QUALITATIVE
            else QualitativeValue.NORMAL
        )
    monitoring_services.record_result(
        patient=item.patient,
        item=item,
        investigation=investigation,
        taken_on=taken_on or item.due_on,
        values=values,
        qualitative=qualitative if investigation != "eye_exam" else "",
        macular_oedema=False if investigation == "eye_exam" else None,
        index_value=Decimal("0.14") if investigation == "jcv_antibody" else None,
        note="Seen in clinic; EDSS recorded." if investigation == "neuro_review" else "",
        lab="Royal Infirmary laboratory",
        by=by,
    )


def _work_through(
    patient: Patient, today: date, nurse: User, *, leave_overdue: int = 1, book: bool = True
) -> None:
    """Settle past duties with normal results, leave the last few overdue, book one due soon."""
    past = list(
        MonitoringItem.objects.open()
        .filter(patient=patient, window_closes_on__lt=today)
        .order_by("due_on", "id")
    )
    keep = past[-leave_overdue:] if leave_overdue else []
    for item in past:
        if item not in keep:
            _record(item, nurse)
    soon = MonitoringItem.objects.due_within(on=today).filter(patient=patient).first()
    if book and soon is not None:
        monitoring_services.book_item(item=soon, booked_on=max(today, soon.due_on), by=nurse)


def _start(
    patient: Patient, drug_key: str, started_on: date, by: User, *, conditions: tuple[str, ...] = ()
) -> DmtPlan:
    plan = plan_services.plan_dmt(
        patient=patient, drug_key=drug_key, by=by, conditions=conditions, planned_on=started_on
    )
    return plan_services.start_dmt_plan(
        plan=plan,
        started_on=started_on,
        override_reason="Baseline work-up done before Myelin was in use (demo history).",
        by=by,
    )


def _doses(plan: DmtPlan, dates: list[date], by: User, kind: str = "dose") -> None:
    """History entered after the fact: the pre-dose checks were done on paper, so a gate that
    has no result here is overridden by the patient's neurologist, as a clinic would record it."""
    neurologist = plan.patient.neurologist or plan.created_by
    for day in dates:
        if day == plan.started_on:
            continue
        unmet = plan_gates.unmet_gates(plan=plan, kind=kind, given_on=day)
        plan_services.record_administration(
            plan=plan,
            kind=kind,
            given_on=day,
            by=neurologist if unmet else by,
            override_reason="Pre-dose checks done on paper before Myelin was in use (demo history)."
            if unmet
            else "",
        )


def seed(users: dict[str, User]) -> None:
    catalogue_services.load_catalogue()
    today = timezone.localdate()
    by_mrn = {p.mrn: p for p in Patient.objects.order_by("mrn")}
    team_a = [p for mrn, p in sorted(by_mrn.items()) if mrn.startswith("MS1")]
    team_b = [p for mrn, p in sorted(by_mrn.items()) if mrn.startswith("MS2")]
    neuro_a, nurse_a = users["dr.okafor"], users["nurse.patel"]
    neuro_b, nurse_b = users["dr.santos"], users["nurse.adeyemi"]

    scenarios: list[Callable[[Patient], None]] = [
        lambda p: _ocrelizumab(p, today, neuro_a, nurse_a),
        lambda p: _natalizumab(p, today, neuro_a, nurse_a),
        lambda p: _teriflunomide(p, today, neuro_a, nurse_a),
        lambda p: _alemtuzumab(p, today, neuro_a, nurse_a),
        lambda p: _cladribine(p, today, neuro_a, nurse_a),
        lambda p: _switch(p, today, neuro_a, nurse_a),
    ]
    for patient, scenario in zip(team_a, scenarios, strict=False):
        scenario(patient)
    if team_b:
        plan = _start(team_b[0], "dimethyl_fumarate", add_months(today, -7), neuro_b)
        _work_through(plan.patient, today, nurse_b)
    if len(team_b) > 1:
        planned = plan_services.plan_dmt(patient=team_b[1], drug_key="natalizumab_iv", by=neuro_b)
        plan_services.tick_baseline_check(
            plan=planned,
            investigation="mri_brain",
            done_on=today - timedelta(days=20),
            note="Baseline MRI at the regional centre",
            by=nurse_b,
        )
    schedule.extend_monitoring(on=today)
    for patient in [*team_a, *team_b]:
        _work_through(patient, today, nurse_a if patient in team_a else nurse_b, leave_overdue=1)


def _ocrelizumab(patient: Patient, today: date, neuro: User, nurse: User) -> None:
    first = add_months(today, -8)
    plan = _start(patient, "ocrelizumab_iv", first, neuro)
    _doses(plan, [first + timedelta(days=14), add_months(first, 6)], nurse)
    _work_through(patient, today, nurse, leave_overdue=0)


def _natalizumab(patient: Patient, today: date, neuro: User, nurse: User) -> None:
    first = add_months(today, -14)
    plan = _start(patient, "natalizumab_iv", first, neuro)
    infusions = [first + timedelta(weeks=4 * n) for n in range(1, 15)]
    _doses(plan, [d for d in infusions if d <= today - timedelta(days=3)], nurse)
    jcv = list(plan.items.open().filter(rule_key="jcv_antibody").order_by("due_on"))
    if jcv:
        _record(jcv[0], nurse)  # negative, index 0.14
    if len(jcv) > 1 and jcv[1].due_on <= today:
        monitoring_services.record_result(
            patient=patient,
            item=jcv[1],
            investigation="jcv_antibody",
            taken_on=jcv[1].due_on,
            qualitative=QualitativeValue.POSITIVE,
            index_value=Decimal("0.62"),
            lab="Reference virology laboratory",
            by=nurse,
        )
    _work_through(patient, today, nurse)


def _teriflunomide(patient: Patient, today: date, neuro: User, nurse: User) -> None:
    plan = _start(patient, "teriflunomide", add_months(today, -4), neuro)
    items = list(plan.items.open().filter(due_on__lt=today - timedelta(days=7)).order_by("due_on"))
    for item in items[:-1]:
        _record(item, nurse)
    if items:
        # The abnormal ALT the nurse should review: > 2 x ULN.
        _record(items[-1], nurse, alt="98")
    _work_through(patient, today, nurse, leave_overdue=0)


def _alemtuzumab(patient: Patient, today: date, neuro: User, nurse: User) -> None:
    first = add_months(today, -20)
    plan = _start(patient, "alemtuzumab", first, neuro)
    _doses(plan, [add_months(first, 12)], nurse, kind="course")
    _work_through(patient, today, nurse, leave_overdue=2)


def _cladribine(patient: Patient, today: date, neuro: User, nurse: User) -> None:
    first = add_months(today, -14)
    plan = _start(patient, "cladribine", first, neuro)
    _doses(plan, [add_months(first, 12)], nurse, kind="course")
    _work_through(patient, today, nurse)


def _switch(patient: Patient, today: date, neuro: User, nurse: User) -> None:
    fingolimod = _start(patient, "fingolimod", add_months(today, -30), neuro)
    _work_through(patient, add_months(today, -3), nurse, leave_overdue=0, book=False)
    ofatumumab = plan_services.switch_dmt_plan(
        plan=fingolimod,
        stopped_on=add_months(today, -3),
        reason="lack_of_efficacy",
        note="Two relapses on fingolimod",
        to_drug_key="ofatumumab",
        by=neuro,
    )
    ofatumumab.planned_on = add_months(today, -3)
    ofatumumab.save(update_fields=["planned_on"])
    plan_services.start_dmt_plan(
        plan=ofatumumab,
        started_on=add_months(today, -2),
        by=neuro,
        override_reason="Lymphocytes recovered; baseline bloods on the fingolimod record.",
    )
    _work_through(patient, today, nurse)


# Generated patients per team, beside the hand-written ones (six in North, two in South): North's
# lead neurologist gets two of every three of North's, so her own caseload runs to a second page.
CASELOAD_SIZES = {TEAM_A: 34, TEAM_B: 18}
CASELOAD_SEED = 2026


def seed_caseload(*, today: date) -> list[int]:
    """Generated patients for the demo teams' own clinicians (the generator's names and
    histories, MRNs in the clinic's format after the showcase patients'). Returns their ids."""
    rng = random.Random(CASELOAD_SEED)
    teams = {team.name: team for team in CareTeam.objects.filter(name__in=CASELOAD_SIZES)}
    slots: list[tuple[int, int, int]] = []
    mrns: list[str] = []
    staff = Staff()
    for name, size in CASELOAD_SIZES.items():
        team = teams[name]
        members = list(team.members.filter(is_active=True).order_by("username"))
        neurologists = [u.pk for u in members if u.role == Role.NEUROLOGIST]
        if team.lead_neurologist_id in neurologists:  # the lead first, twice as often
            neurologists.remove(team.lead_neurologist_id)
            neurologists = [team.lead_neurologist_id, team.lead_neurologist_id, *neurologists]
        nurses = [u.pk for u in members if u.role == Role.NURSE]
        staff.neurologists[team.pk] = neurologists
        staff.nurses[team.pk] = nurses
        staff.therapists[team.pk] = [
            (u.pk, u.discipline) for u in members if u.role == Role.THERAPIST and u.discipline
        ]
        digit = "1" if name == TEAM_A else "2"
        for index in range(size):
            slots.append(
                (team.pk, neurologists[index % len(neurologists)], nurses[index % len(nurses)])
            )
            mrns.append(f"MS{digit}{101 + index:05d}")
    shape = ClinicShape(patients=len(slots), seed=CASELOAD_SEED, today=today)
    # Made-up histories are not clinical changes: like the bench, no history rows for them when
    # the loading role may skip row triggers; the showcase patients' stories keep theirs.
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        row = cursor.fetchone()
        skip = bool(row and row[0])
        if skip:
            cursor.execute("SET LOCAL session_replication_role = replica")
        try:
            return populate(shape, rng, staff, Counts(), slots=slots, mrns=mrns)
        finally:
            if skip:
                cursor.execute("SET LOCAL session_replication_role = origin")
