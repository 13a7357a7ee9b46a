"""Demo patients with realistic histories for the demo clinic."""

from __future__ import annotations

from datetime import date

from clinic.accounts.models import CareTeam, User
from clinic.demo import TEAM_A, TEAM_B
from patients.models import Patient, PregnancyStatus, Sex, SmokingStatus

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


def seed(users: dict[str, User]) -> list[Patient]:
    patients = []
    for mrn, given, family, born, sex, team, neuro, nurse in DEMO_PATIENTS:
        patient, _ = Patient.objects.get_or_create(
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
            },
        )
        patients.append(patient)
    return patients
