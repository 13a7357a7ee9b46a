"""Demo patients with realistic histories for the demo clinic.

Every date is relative to today, so the demo always looks current: Daniel Osei shows a confirmed
disability progression and a move to SPMS, Hannah Whitfield is stable on NEDA-3, Sofia
Marchetti had a relapse a few weeks ago with an active MRI.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.utils import timezone

from clinic.accounts.models import CareTeam, User
from clinic.demo import TEAM_A, TEAM_B
from patients.models import DiseaseCourse, Patient, PregnancyStatus, Sex, SmokingStatus
from patients.records import services

DEMO_PATIENTS = [
    # mrn, given, family, born, sex, team, neurologist, nurse
    (
        "MS100001",
        "Hannah",
        "Whitfield",
        date(1988, 3, 14),
        Sex.FEMALE,
        TEAM_A,
        "dr.okafor",
        "nurse.patel",
    ),
    ("MS100002", "Daniel", "Osei", date(1979, 11, 2), Sex.MALE, TEAM_A, "dr.okafor", "nurse.patel"),
    (
        "MS100003",
        "Sofia",
        "Marchetti",
        date(1992, 6, 30),
        Sex.FEMALE,
        TEAM_A,
        "dr.okafor",
        "nurse.patel",
    ),
    (
        "MS100004",
        "Rhys",
        "Pritchard",
        date(1971, 1, 19),
        Sex.MALE,
        TEAM_A,
        "dr.hughes",
        "nurse.patel",
    ),
    (
        "MS100005",
        "Aisha",
        "Rahman",
        date(1995, 9, 8),
        Sex.FEMALE,
        TEAM_A,
        "dr.okafor",
        "nurse.patel",
    ),
    (
        "MS100006",
        "Margaret",
        "Doyle",
        date(1966, 4, 23),
        Sex.FEMALE,
        TEAM_A,
        "dr.hughes",
        "nurse.patel",
    ),
    (
        "MS200001",
        "Tomasz",
        "Kowalski",
        date(1984, 12, 5),
        Sex.MALE,
        TEAM_B,
        "dr.santos",
        "nurse.adeyemi",
    ),
    (
        "MS200002",
        "Ingrid",
        "Solberg",
        date(1990, 2, 17),
        Sex.FEMALE,
        TEAM_B,
        "dr.santos",
        "nurse.adeyemi",
    ),
]


def _scores(**grades: int) -> dict[str, int]:
    names = ("visual", "brainstem", "pyramidal", "cerebellar", "sensory", "bowel_bladder")
    return {**dict.fromkeys((*names, "cerebral", "ambulation"), 0), **grades}


# Raw Neurostatus scores that give each step (the step is computed, never typed in).
SCORES: dict[str, dict[str, int]] = {
    "1.0": _scores(sensory=1),
    "1.5": _scores(sensory=1, visual=1),
    "2.0": _scores(pyramidal=2, sensory=1),
    "2.5": _scores(pyramidal=2, sensory=2),
    "3.0": _scores(pyramidal=3, sensory=1),
    "3.5": _scores(pyramidal=3, sensory=2, cerebellar=1),
    "4.0": _scores(pyramidal=3, sensory=2, cerebellar=2, bowel_bladder=2),
    "4.5": _scores(pyramidal=3, sensory=2, cerebellar=2, ambulation=2),
    "5.5": _scores(pyramidal=3, sensory=3, cerebellar=2, ambulation=4),
    "6.0": _scores(pyramidal=3, sensory=3, cerebellar=2, ambulation=6),
    "6.5": _scores(pyramidal=4, sensory=3, cerebellar=3, bowel_bladder=3, ambulation=8),
}


@dataclass(frozen=True)
class DemoRelapse:
    days_ago: int
    lasted_days: int | None  # None: still active
    symptoms: str
    systems: tuple[str, ...]
    severity: str = "moderate"
    treatment: str = "iv_mp"
    recovery: str = "complete"


@dataclass(frozen=True)
class DemoHistory:
    courses: tuple[tuple[str, int], ...] = ()  # (course, days ago it started)
    edss: tuple[tuple[int, str], ...] = ()  # (days ago, step)
    relapses: tuple[DemoRelapse, ...] = ()
    mri: tuple[tuple[int, int, int | None, bool], ...] = ()  # (days ago, new T2, Gd+, baseline)
    extra: dict[str, str] = field(default_factory=dict)


Y = 365
HISTORIES: dict[str, DemoHistory] = {
    # Stable on treatment: NEDA-3 last year.
    "MS100001": DemoHistory(
        courses=((DiseaseCourse.CIS, 8 * Y), (DiseaseCourse.RRMS, 7 * Y)),
        edss=(
            (7 * Y, "2.0"),
            (5 * Y, "1.5"),
            (3 * Y, "1.5"),
            (2 * Y, "1.5"),
            (400, "1.5"),
            (60, "1.5"),
        ),
        relapses=(
            DemoRelapse(
                8 * Y, 42, "Blurred vision and pain on eye movement, right eye", ("visual",)
            ),
            DemoRelapse(7 * Y - 30, 60, "Numbness of both legs rising to the waist", ("sensory",)),
        ),
        mri=(
            (7 * Y, 6, 2, False),
            (6 * Y - 100, 0, 0, True),
            (3 * Y, 0, None, False),
            (400, 0, None, False),
            (150, 0, None, False),
        ),
        extra={"pregnancy_status": PregnancyStatus.PLANNING},
    ),
    # Confirmed disability progression, now secondary progressive.
    "MS100002": DemoHistory(
        courses=((DiseaseCourse.RRMS, 12 * Y), (DiseaseCourse.SPMS, 200)),
        edss=(
            (6 * Y, "3.0"),
            (4 * Y, "3.0"),
            (3 * Y, "3.5"),
            (2 * Y, "3.5"),
            (600, "4.5"),
            (420, "4.5"),
            (200, "5.5"),
            (30, "6.0"),
        ),
        relapses=(
            DemoRelapse(
                5 * Y,
                50,
                "Unsteady gait and slurred speech",
                ("cerebellar", "brainstem"),
                "severe",
                "iv_mp",
                "partial",
            ),
        ),
        mri=(
            (5 * Y, 3, 1, False),
            (4 * Y, 0, 0, True),
            (2 * Y, 1, None, False),
            (330, 0, None, False),
        ),
        extra={"allergies": "Penicillin (rash)", "smoking_status": SmokingStatus.CURRENT},
    ),
    # Relapse a few weeks ago, MRI activity.
    "MS100003": DemoHistory(
        courses=((DiseaseCourse.RRMS, 3 * Y),),
        edss=((3 * Y, "2.0"), (2 * Y, "1.5"), (Y, "1.5"), (20, "2.5")),
        relapses=(
            DemoRelapse(
                2 * Y + 60, 35, "Right arm weakness", ("pyramidal",), "mild", "oral_steroids"
            ),
            DemoRelapse(
                45,
                None,
                "Double vision and vertigo",
                ("brainstem",),
                "moderate",
                "iv_mp",
                "unknown",
            ),
        ),
        mri=(
            (3 * Y, 9, 3, False),
            (2 * Y + 200, 0, 0, True),
            (Y + 30, 1, None, False),
            (25, 3, 2, False),
        ),
    ),
    # Primary progressive: steady worsening, no relapses.
    "MS100004": DemoHistory(
        courses=((DiseaseCourse.PPMS, 6 * Y),),
        edss=(
            (6 * Y, "4.0"),
            (4 * Y, "4.5"),
            (3 * Y, "4.5"),
            (2 * Y, "5.5"),
            (Y + 60, "6.0"),
            (Y - 120, "6.0"),
            (90, "6.5"),
        ),
        mri=((6 * Y, 0, 0, True), (3 * Y, 1, None, False), (Y - 60, 0, None, False)),
    ),
    # Recently diagnosed: CIS, then RRMS on a new lesion.
    "MS100005": DemoHistory(
        courses=((DiseaseCourse.CIS, 2 * Y), (DiseaseCourse.RRMS, Y + 100)),
        edss=((2 * Y, "1.0"), (Y + 100, "1.5"), (100, "1.5")),
        relapses=(
            DemoRelapse(2 * Y + 10, 30, "Tingling of the left hand", ("sensory",), "mild", "none"),
        ),
        mri=(
            (2 * Y, 4, 1, False),
            (Y + 110, 2, None, False),
            (Y - 150, 0, 0, True),
            (120, 0, None, False),
        ),
    ),
    # Long-standing secondary progressive, walks with a stick.
    "MS100006": DemoHistory(
        courses=((DiseaseCourse.RRMS, 25 * Y), (DiseaseCourse.SPMS, 9 * Y)),
        edss=(
            (5 * Y, "6.0"),
            (3 * Y, "6.0"),
            (2 * Y, "6.0"),
            (Y, "6.5"),
            (Y - 150, "6.5"),
            (50, "6.5"),
        ),
        mri=((4 * Y, 0, None, True), (2 * Y, 0, None, False), (300, 0, None, False)),
    ),
    "MS200001": DemoHistory(
        courses=((DiseaseCourse.RRMS, 4 * Y),),
        edss=((4 * Y, "2.0"), (2 * Y, "2.0"), (200, "2.5")),
        relapses=(DemoRelapse(4 * Y + 20, 40, "Left optic neuritis", ("visual",)),),
        mri=((4 * Y, 5, 1, False), (3 * Y, 0, 0, True), (250, 0, None, False)),
    ),
    "MS200002": DemoHistory(
        courses=((DiseaseCourse.RIS, 3 * Y),),
        edss=((3 * Y, "1.0"), (Y, "1.0")),
        mri=((3 * Y, 0, 0, True), (Y + 20, 1, None, False)),
    ),
}


def seed_history(patient: Patient, history: DemoHistory, *, by: User, today: date) -> None:
    def ago(days: int) -> date:
        return today - timedelta(days=days)

    for course, days in history.courses:
        services.add_course_state(patient=patient, course=course, start_on=ago(days), by=by)
    for days, step in history.edss:
        services.record_edss(patient=patient, assessed_on=ago(days), scores=SCORES[step], by=by)
    for relapse in history.relapses:
        end_days = None if relapse.lasted_days is None else relapse.days_ago - relapse.lasted_days
        services.record_relapse(
            patient=patient,
            onset_on=ago(relapse.days_ago),
            end_on=None if end_days is None else ago(max(end_days, 0)),
            symptoms=relapse.symptoms,
            functional_systems=relapse.systems,
            severity=relapse.severity,
            objectively_confirmed=True,
            infection_excluded=True,
            recovery=relapse.recovery,
            treatment=relapse.treatment,
            by=by,
        )
    for days, t2, gad, baseline in history.mri:
        services.record_mri(
            patient=patient,
            study_on=ago(days),
            field_strength="3t",
            contrast_given=gad is not None,
            new_or_enlarging_t2=t2,
            gad_enhancing=gad,
            is_baseline=baseline,
            report=_report(t2, gad, baseline),
            by=by,
        )


def _report(t2: int, gad: int | None, baseline: bool) -> str:
    if baseline:
        return "Re-baseline brain MRI on treatment. Periventricular and juxtacortical T2 lesions as before."
    if t2 or gad:
        enhancing = f", {gad} enhancing after gadolinium" if gad else ""
        return (
            f"{t2} new or enlarging T2 lesion(s){enhancing}. Consistent with active demyelination."
        )
    return "No new or enlarging T2 lesions compared with the previous study."


def seed(users: dict[str, User]) -> list[Patient]:
    today = timezone.localdate()
    patients = []
    for mrn, given, family, born, sex, team, neuro, nurse in DEMO_PATIENTS:
        history = HISTORIES.get(mrn, DemoHistory())
        patient, created = Patient.objects.get_or_create(
            mrn=mrn,
            defaults={
                "given_name": given,
                "family_name": family,
                "date_of_birth": born,
                "sex": sex,
                "care_team": CareTeam.objects.get(name=team),
                "neurologist": users[neuro],
                "nurse": users[nurse],
                "pregnancy_status": PregnancyStatus.NOT_PLANNING
                if sex == Sex.FEMALE
                else PregnancyStatus.NOT_APPLICABLE,
                "smoking_status": SmokingStatus.NEVER,
                "phone": "01632 960" + mrn[-3:],
                "diagnosis_on": today - timedelta(days=max(d for _, d in history.courses))
                if history.courses
                else None,
                **history.extra,
            },
        )
        if created:
            seed_history(patient, history, by=users[neuro], today=today)
        patients.append(patient)
    return patients
