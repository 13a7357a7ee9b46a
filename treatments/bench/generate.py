"""Build a realistic, reproducible clinic fast: `manage.py generate_clinic --patients N`.

Rows are written with PostgreSQL COPY in batches, ids reserved from each table's sequence up
front so parent and child rows can be written without reading anything back. Monitoring items
come from the real protocol engine (`treatments.protocols.schedule`) for each DMT plan and for
each patient's general duties, so their dates, windows and explanations are the ones the app
would materialise. Everything random comes from one `random.Random(seed)`: the same seed and
the same `today` give the same data (only the `*_at` bookkeeping times of the run differ).

Generation is not a user reading or changing patient data, so it writes no access-trail rows;
it also skips row triggers (pghistory history rows) when the database role may do so, since
a generated history is not a clinical change. It refuses to run in production mode.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connection, models, transaction
from django.utils import timezone

from clinic.accounts.models import CareTeam, Discipline, Role, User
from patients.models import (
    Patient,
    Referral,
)
from patients.models.referrals import ReferralState, Urgency
from treatments.bench.clinical import clinical_picture
from treatments.bench.names import DMT_MIX, FAMILY, GIVEN, STOP_REASONS
from treatments.bench.shape import (
    ClinicShape,
    Counts,
    GenerationRefused,
    GenPatient,
    GenPlan,
    Staff,
)
from treatments.bench.writing import PATIENT_BATCH, bulk_rows, copy_rows, phase, reserve_ids
from treatments.models import (
    Alert,
    CarePlan,
    ClinicSettings,
    DmtAdministration,
    DmtPlan,
    MonitoringItem,
    ProtocolVersion,
    RehabSession,
    Result,
)
from treatments.protocols import PlanEvents, Protocol, add_months, schedule

# --- the clinic -------------------------------------------------------------------------------


def refuse_in_production() -> None:
    if getattr(settings, "PRODUCTION", False):
        raise GenerationRefused(
            "generate_clinic writes thousands of made-up patients: refused when MYELIN_MODE=production."
        )


def generate(shape: ClinicShape) -> Counts:
    refuse_in_production()
    rng = random.Random(shape.seed)
    counts = Counts()
    from treatments.catalogue import services as catalogue_services

    catalogue_services.load_catalogue()
    with transaction.atomic():
        _skip_row_triggers()
        with phase("clinicians"):
            teams, staff = _clinicians(shape, rng, counts)
        populate(shape, rng, staff, counts, slots=_slots(shape, teams, staff))
    with phase("ANALYZE"), connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return counts


def populate(
    shape: ClinicShape,
    rng: random.Random,
    staff: Staff,
    counts: Counts,
    *,
    slots: list[tuple[int, int, int]],
    mrns: list[str] | None = None,
) -> list[int]:
    """Patients for the given (team, neurologist, nurse) slots, with their clinical picture,
    DMT history, monitoring, referrals and rehab, in the caller's transaction. The bench calls
    it for the clinicians it made up; the demo clinic for its own teams (treatments.demo).
    Returns the new patients' ids."""
    # A busy service reviewing every 3 months (the clinic setting's lower bound); an
    # existing clinic keeps its own choice.
    clinic, _ = ClinicSettings.objects.get_or_create(
        pk=ClinicSettings.SINGLETON_ID,
        defaults={"label_region": "EU", "review_interval_months": 3},
    )
    region, review_months = clinic.label_region, clinic.review_interval_months
    versions = {
        v.drug_key: v
        for v in ProtocolVersion.objects.filter(region=region).order_by("effective_from")
    }
    with phase("patients"):
        patients = _patients(shape, rng, slots, counts, mrns)
    # Everything below is per patient: written a batch of patients at a time, so memory stays
    # bounded (a batch's items, not ten million) whatever the clinic's size.
    for start in range(0, len(patients), PATIENT_BATCH):
        batch = patients[start : start + PATIENT_BATCH]
        with phase(f"patients {start + 1:,}-{start + len(batch):,} of {len(patients):,}"):
            clinical_picture(shape, rng, batch, counts)
            plans = _plans(shape, rng, batch, versions, counts)
            _monitoring(shape, rng, batch, plans, versions, review_months, counts)
            _referrals_and_rehab(shape, rng, batch, staff, counts)
    ids = [p.id for p in patients]
    with phase("derived columns"):
        _derive_status(ids)
    return ids


def _skip_row_triggers() -> None:
    """Generated rows are not clinical changes: no pghistory rows for them (superuser only;
    otherwise the triggers run and generation is merely slower). Constraints still apply."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        row = cursor.fetchone()
        if row and row[0]:
            cursor.execute("SET LOCAL session_replication_role = replica")


def _clinicians(shape: ClinicShape, rng: random.Random, counts: Counts) -> tuple[list[int], Staff]:
    per_team = shape.neurologists_per_team * shape.caseload
    large_teams = max(
        1,
        -(-max(0, shape.patients - shape.neurologists_per_team * shape.small_caseload) // per_team),
    )
    names = [f"Generated team {n + 1:02d}" for n in range(large_teams)] + ["Generated small team"]
    team_ids = bulk_rows(
        CareTeam, [{"name": name, "lead_neurologist_id": None} for name in names], counts
    )
    password = make_password(BENCH_PASSWORD)

    users: list[dict[str, Any]] = []
    memberships: list[tuple[int, int]] = []
    staff = Staff()
    disciplines = [d.value for d in Discipline]
    plan = [
        (Role.NEUROLOGIST, shape.neurologists_per_team, "neuro"),
        (Role.NURSE, shape.nurses_per_team, "nurse"),
        (Role.THERAPIST, shape.therapists_per_team, "therapist"),
    ]
    for t, team_id in enumerate(team_ids):
        tag = "small" if t == len(team_ids) - 1 else f"t{t + 1:02d}"
        for role, n, prefix in plan:
            for i in range(n):
                discipline = disciplines[i % len(disciplines)] if role == Role.THERAPIST else ""
                users.append(
                    {
                        "username": f"{prefix}.{tag}.{i + 1}",
                        "password": password,
                        "first_name": rng.choice(GIVEN),
                        "last_name": rng.choice(FAMILY),
                        "email": f"{prefix}.{tag}.{i + 1}@bench.invalid",
                        "role": role.value,
                        "discipline": discipline,
                        "is_active": True,
                        "date_joined": timezone.now(),
                        "_team": team_id,
                    }
                )
    ids = bulk_rows(User, users, counts)
    through = User.care_teams.through
    for user, user_id in zip(users, ids, strict=True):
        team_id = user["_team"]
        memberships.append((user_id, team_id))
        if user["role"] == Role.NEUROLOGIST:
            staff.neurologists.setdefault(team_id, []).append(user_id)
        elif user["role"] == Role.NURSE:
            staff.nurses.setdefault(team_id, []).append(user_id)
        else:
            staff.therapists.setdefault(team_id, []).append((user_id, user["discipline"]))
    copy_rows(through, [{"user_id": u, "careteam_id": t} for u, t in memberships], counts)
    CareTeam.objects.filter(pk__in=team_ids).update(
        lead_neurologist_id=models.Subquery(
            User.objects.filter(care_teams=models.OuterRef("pk"), role=Role.NEUROLOGIST)
            .order_by("id")
            .values("id")[:1]
        )
    )
    return team_ids, staff


BENCH_PASSWORD = "myelin-bench-2026"  # noqa: S105 - made-up users of a throwaway data set


def _slots(shape: ClinicShape, teams: list[int], staff: Staff) -> list[tuple[int, int, int]]:
    """(team, neurologist, nurse) of each generated patient: the small team first, then the
    large teams, each neurologist's caseload in turn."""
    small_team = teams[-1]
    small_n = min(shape.patients, shape.neurologists_per_team * shape.small_caseload)
    slots: list[tuple[int, int, int]] = []  # team, neurologist, nurse
    for index in range(shape.patients):
        if index < small_n:
            team = small_team
            n = index % shape.neurologists_per_team
        else:
            k = index - small_n
            team = (
                teams[min(k // (shape.neurologists_per_team * shape.caseload), len(teams) - 2)]
                if len(teams) > 1
                else small_team
            )
            n = k % shape.neurologists_per_team
        nurses = staff.nurses[team]
        # The last nurse of each team owns no alerts: the inbox's "with none" case.
        nurse = nurses[index % max(1, len(nurses) - 1)]
        slots.append((team, staff.neurologists[team][n], nurse))
    return slots


def _patients(
    shape: ClinicShape,
    rng: random.Random,
    slots: list[tuple[int, int, int]],
    counts: Counts,
    mrns: list[str] | None = None,
) -> list[GenPatient]:
    rows = []
    gen: list[GenPatient] = []
    for index, (team, neuro, nurse) in enumerate(slots):
        female = rng.random() < 0.72
        born = shape.today - timedelta(days=rng.randint(20 * 365, 70 * 365))
        years = rng.choice([2, 5, 8, 10, 12, 15, 18, 20, 25])
        diagnosis = shape.today - timedelta(days=int(years * 365.25) + rng.randint(0, 300))
        course = rng.choices(["rrms", "spms", "ppms", "cis"], [70, 15, 10, 5])[0]
        rows.append(
            {
                "external_id": uuid.UUID(int=rng.getrandbits(128), version=4),
                "mrn": mrns[index] if mrns else f"G{shape.seed % 100:02d}{index:07d}",
                "given_name": rng.choice(GIVEN),
                "family_name": rng.choice(FAMILY),
                "date_of_birth": born,
                "sex": "female" if female else "male",
                "status": "active" if rng.random() < 0.97 else "transferred",
                "diagnosis_on": diagnosis,
                "care_team_id": team,
                "neurologist_id": neuro,
                "nurse_id": nurse,
            }
        )
        gen.append(GenPatient(0, team, neuro, nurse, female, diagnosis, course))
    ids = bulk_rows(Patient, rows, counts)
    for g, pid in zip(gen, ids, strict=True):
        g.id = pid
    return gen


def _administrations(drug_key: str, started: date, until: date) -> list[tuple[str, date]]:
    if drug_key in ("ocrelizumab_iv",):
        days, d = [started, started + timedelta(days=14)], add_months(started, 6)
        while d <= until:
            days.append(d)
            d = add_months(d, 6)
        return [("dose", d) for d in days if d <= until]
    if drug_key in ("cladribine", "alemtuzumab"):
        second = add_months(started, 12)
        return [("course", started)] + ([("course", second)] if second <= until else [])
    return []


def _plans(
    shape: ClinicShape,
    rng: random.Random,
    patients: list[GenPatient],
    versions: dict[str, ProtocolVersion],
    counts: Counts,
) -> list[GenPlan]:
    keys = [k for k, _ in DMT_MIX if k in versions]
    weights = [w for k, w in DMT_MIX if k in versions]
    rows: list[dict[str, Any]] = []
    plans: list[GenPlan] = []
    admins: list[dict[str, Any]] = []
    for p in patients:
        if p.course == "cis" and rng.random() < 0.6:
            continue
        start = p.diagnosis_on + timedelta(days=rng.randint(30, 180))
        previous: int | None = None
        while start < shape.today:
            drug = rng.choices(keys, weights)[0]
            length = timedelta(days=rng.randint(2 * 365, 6 * 365))
            stop = start + length if start + length < shape.today - timedelta(days=60) else None
            index = len(rows)
            conditions = ["female"] if p.female else []
            rows.append(
                {
                    "patient_id": p.id,
                    "protocol_version_id": versions[drug].pk,
                    "drug_key": drug,
                    "drug_name": versions[drug].drug_name,
                    "status": "stopped" if stop else "active",
                    "conditions": [],
                    "planned_on": start,
                    "started_on": start,
                    "stopped_on": stop,
                    "stop_reason": rng.choice(STOP_REASONS) if stop else "",
                    "baseline_override_reason": "Baseline work-up done before Myelin was in use",
                    "created_by_id": p.neurologist_id,
                    "_prev": previous,
                }
            )
            plans.append(
                GenPlan(
                    0,
                    p,
                    drug,
                    start,
                    stop,
                    conditions,
                    _administrations(drug, start, stop or shape.today),
                )
            )
            previous = index
            if stop is None:
                break
            start = stop + timedelta(days=rng.randint(14, 90))
    ids = reserve_ids(DmtPlan, len(rows))
    for row, plan, plan_id in zip(rows, plans, ids, strict=True):
        row["id"], plan.id = plan_id, plan_id
    for row in rows:
        prev = row.pop("_prev")
        row["switched_from_id"] = ids[prev] if prev is not None else None
    copy_rows(DmtPlan, rows, counts)
    for plan in plans:
        for kind, day in plan.administrations:
            admins.append(
                {
                    "plan_id": plan.id,
                    "kind": kind,
                    "given_on": day,
                    "note": "",
                    "recorded_by_id": plan.patient.nurse_id,
                }
            )
    bulk_rows(DmtAdministration, admins, counts)
    return plans


def _monitoring(
    shape: ClinicShape,
    rng: random.Random,
    patients: list[GenPatient],
    plans: list[GenPlan],
    versions: dict[str, ProtocolVersion],
    review_months: int,
    counts: Counts,
) -> None:
    from treatments.plans.schedule import horizon_for

    horizon = horizon_for(shape.today)
    protocols: dict[str, Protocol] = {key: v.protocol for key, v in versions.items()}
    latest_start: dict[int, tuple[date, str]] = {}
    items: list[dict[str, Any]] = []
    for plan in plans:
        events = PlanEvents(
            first_dose_on=plan.started_on,
            doses=tuple(d for k, d in plan.administrations if k == "dose"),
            courses=tuple(d for k, d in plan.administrations if k == "course"),
            stopped_on=plan.stopped_on,
        )
        for due in schedule(
            protocols[plan.drug_key],
            events,
            horizon=horizon,
            review_interval_months=review_months,
            conditions=plan.conditions,
        ):
            items.append(_item_row(due, plan.patient, versions[plan.drug_key].pk, plan_id=plan.id))
        latest_start[plan.patient.id] = (plan.started_on, versions[plan.drug_key].drug_name)
    general = versions.get("general")
    care_rows: list[dict[str, Any]] = []
    if general is not None:
        for p in patients:
            anchor, label = latest_start.get(p.id, (p.diagnosis_on, "diagnosis"))
            label = label if p.id not in latest_start else f"start of {label}"
            care_rows.append(
                {
                    "patient_id": p.id,
                    "protocol_version_id": general.pk,
                    "anchor_on": anchor,
                    "anchor_label": label[:80],
                    "tracking_from": p.diagnosis_on,
                }
            )
        care_ids = bulk_rows(CarePlan, care_rows, counts)
        for p, care_id, row in zip(patients, care_ids, care_rows, strict=True):
            for due in schedule(
                general.protocol,
                PlanEvents(first_dose_on=row["anchor_on"]),
                horizon=horizon,
                review_interval_months=review_months,
            ):
                items.append(_item_row(due, p, general.pk, care_plan_id=care_id))
    _settle(shape, rng, items, counts)


def _item_row(
    due: Any,
    patient: GenPatient,
    version_id: int,
    *,
    plan_id: int | None = None,
    care_plan_id: int | None = None,
) -> dict[str, Any]:
    return {
        "patient_id": patient.id,
        "plan_id": plan_id,
        "care_plan_id": care_plan_id,
        "protocol_version_id": version_id,
        "rule_key": due.rule_key,
        "investigation": due.investigation,
        "anchor": due.anchor,
        "anchor_on": due.anchor_on,
        "occurrence": due.occurrence,
        "due_on": due.due_on,
        "window_opens_on": due.window_opens_on,
        "window_closes_on": due.window_closes_on,
        "explanation": due.explanation,
        "source": due.source[:200],
        "survives_stop": due.survives_stop,
        "_nurse": patient.nurse_id,
    }


def _settle(
    shape: ClinicShape, rng: random.Random, items: list[dict[str, Any]], counts: Counts
) -> None:
    """Past duties: most done with a result (some late), a few waived, ~3% left overdue with an
    alert; a few due soon are booked. Results are written before the items that point at them."""
    today = shape.today
    results: list[dict[str, Any]] = []
    alerts: list[dict[str, Any]] = []
    item_ids = reserve_ids(MonitoringItem, len(items))
    past = [i for i, row in enumerate(items) if row["window_closes_on"] < today]
    result_ids = iter(reserve_ids(Result, len(past)))
    for index, row in enumerate(items):
        row["id"] = item_ids[index]
        nurse = row.pop("_nurse")
        if row["window_closes_on"] < today:
            roll = rng.random()
            if roll < 0.03:
                # Flagged the day after its window closed, as the overdue sweep would have: the
                # clinic is generated in the steady state a sweep leaves behind.
                row["overdue_since"] = row["window_closes_on"] + timedelta(days=1)
                alerts.append(
                    {
                        "patient_id": row["patient_id"],
                        "kind": "overdue_monitoring",
                        "grade": "warning",
                        "condition_key": f"overdue:item:{row['id']}",
                        "title": "Monitoring overdue",
                        "detail": "",
                        "raised_by_type": "treatments.monitoringitem",
                        "raised_by_id": str(row["id"]),
                        "owner_id": nurse,
                        "status": "open",
                        "created_at": timezone.now(),
                    }
                )
                continue
            if roll < 0.05:
                row["status"], row["waived_reason"] = (
                    "waived",
                    "Not clinically needed at this visit",
                )
                continue
            late = roll > 0.9
            taken = (
                row["window_closes_on"] + timedelta(days=rng.randint(1, 20))
                if late
                else row["due_on"]
            )
            taken = min(taken, today)
            abnormal = rng.random() < 0.02
            result_id = next(result_ids)
            results.append(
                {
                    "id": result_id,
                    "patient_id": row["patient_id"],
                    "investigation": row["investigation"],
                    "taken_on": taken,
                    "lab": "Hospital laboratory",
                    "qualitative": "abnormal" if abnormal else "normal",
                    "is_abnormal": abnormal,
                    "recorded_by_id": nurse,
                    "reviewed_by_id": nurse,
                    "reviewed_at": timezone.now(),
                }
            )
            row.update(
                status="done_late" if late else "done_in_window",
                completed_on=taken,
                result_id=result_id,
                settled_by_id=nurse,
            )
            if abnormal:
                alerts.append(
                    {
                        "patient_id": row["patient_id"],
                        "kind": "abnormal_result",
                        "grade": "warning",
                        "condition_key": f"abnormal:result:{result_id}:generated",
                        "title": "Abnormal result",
                        "detail": "",
                        "raised_by_type": "treatments.result",
                        "raised_by_id": str(result_id),
                        "owner_id": nurse,
                        "status": "resolved" if taken < today - timedelta(days=30) else "open",
                        "resolved_at": timezone.now()
                        if taken < today - timedelta(days=30)
                        else None,
                        "created_at": timezone.now(),
                    }
                )
        elif row["due_on"] <= today + timedelta(days=7) and rng.random() < 0.3:
            row["status"], row["booked_on"] = "booked", max(today, row["due_on"])
    copy_rows(Result, results, counts)
    copy_rows(MonitoringItem, items, counts)
    bulk_rows(Alert, alerts, counts)


def _referrals_and_rehab(
    shape: ClinicShape, rng: random.Random, patients: list[GenPatient], staff: Staff, counts: Counts
) -> None:
    referrals, sessions = [], []
    now = timezone.now()
    for p in patients:
        if rng.random() > 0.3:
            continue
        therapists = staff.therapists.get(p.team_id) or []
        if not therapists:
            continue
        therapist, discipline = rng.choice(therapists)
        sent = now - timedelta(days=rng.randint(1, 400))
        open_ = sent > now - timedelta(days=30)
        state = (
            rng.choice([ReferralState.SENT, ReferralState.ACCEPTED])
            if open_
            else ReferralState.COMPLETED
        )
        referrals.append(
            {
                "external_id": uuid.UUID(int=rng.getrandbits(128), version=4),
                "patient_id": p.id,
                "discipline": discipline,
                "urgency": Urgency.ROUTINE,
                "reason": "Mobility, fatigue and daily activities: assessment and advice",
                "referred_by_id": p.neurologist_id,
                "state": state,
                "sent_at": sent,
                "target_working_days": 15,
                "due_at": sent + timedelta(days=21),
                "responded_at": None if state == ReferralState.SENT else sent + timedelta(days=3),
                "completed_at": sent + timedelta(days=60)
                if state == ReferralState.COMPLETED
                else None,
                "summary": "Assessed; home programme agreed, review if it worsens"
                if state == ReferralState.COMPLETED
                else "",
            }
        )
        for n in range(rng.randint(0, 6)):
            held = (sent + timedelta(days=7 * (n + 1))).date()
            if held <= shape.today:
                sessions.append(
                    {
                        "external_id": uuid.UUID(int=rng.getrandbits(128), version=4),
                        "patient_id": p.id,
                        "therapist_id": therapist,
                        "held_on": held,
                        "duration_minutes": 45,
                        "discipline": discipline,
                        "setting": "clinic",
                        "interventions": [],
                        "goals": "",
                        "progress": "",
                        "notes": "",
                    }
                )
    bulk_rows(Referral, referrals, counts)
    bulk_rows(RehabSession, sessions, counts)


def _derive_status(patient_ids: list[int]) -> None:
    """The caseload's derived columns, in three set-based statements (the service's per-patient
    refresh would take minutes at this size): current course, latest and previous EDSS with the
    trend, last relapse onset."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE patients_patient p SET current_course = c.course FROM patients_coursestate c"
            " WHERE c.patient_id = p.id AND c.end_on IS NULL AND p.id = ANY(%s)",
            [patient_ids],
        )
        cursor.execute(
            "WITH ranked AS (SELECT patient_id, step, assessed_on, row_number() OVER"
            " (PARTITION BY patient_id ORDER BY assessed_on DESC) AS n FROM patients_edssassessment)"
            " UPDATE patients_patient p SET latest_edss = l.step, latest_edss_on = l.assessed_on,"
            " previous_edss = pr.step, edss_trend = CASE WHEN pr.step IS NULL THEN ''"
            " WHEN l.step > pr.step THEN 'up' WHEN l.step < pr.step THEN 'down' ELSE 'stable' END"
            " FROM ranked l LEFT JOIN ranked pr ON pr.patient_id = l.patient_id AND pr.n = 2"
            " WHERE l.n = 1 AND l.patient_id = p.id AND p.id = ANY(%s)",
            [patient_ids],
        )
        cursor.execute(
            "UPDATE patients_patient p SET last_relapse_onset_on = r.onset FROM"
            " (SELECT patient_id, max(onset_on) AS onset FROM patients_relapse GROUP BY patient_id) r"
            " WHERE r.patient_id = p.id AND p.id = ANY(%s)",
            [patient_ids],
        )


def generated_users(role: str) -> Iterator[User]:
    return (
        User.objects.filter(email__endswith="@bench.invalid", role=role).order_by("id").iterator()
    )
