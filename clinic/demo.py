"""The demo clinic's staff: two care teams and one login per role.

Each app adds its own demo data (patients/demo.py, treatments/demo.py); `manage.py seed_demo`
calls them in order, once.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from clinic.accounts.models import CareTeam, Discipline, Role, User

TEAM_A = "North MS Team"
TEAM_B = "South MS Team"


@dataclass(frozen=True)
class DemoUser:
    username: str
    first_name: str
    last_name: str
    role: str
    discipline: str = ""
    team: str | None = TEAM_A
    can_break_glass: bool = False


DEMO_USERS = [
    DemoUser("dr.okafor", "Amara", "Okafor", Role.NEUROLOGIST, can_break_glass=True),
    DemoUser("dr.hughes", "Gareth", "Hughes", Role.NEUROLOGIST),
    DemoUser("nurse.patel", "Priya", "Patel", Role.NURSE),
    DemoUser("physio.lindqvist", "Erik", "Lindqvist", Role.THERAPIST, Discipline.PHYSIOTHERAPY),
    DemoUser("ot.byrne", "Siobhan", "Byrne", Role.THERAPIST, Discipline.OCCUPATIONAL_THERAPY),
    DemoUser("psych.moreau", "Claire", "Moreau", Role.THERAPIST, Discipline.PSYCHOLOGY),
    DemoUser("admin.chen", "Wei", "Chen", Role.ADMIN, team=None),
    DemoUser("dr.santos", "Lucia", "Santos", Role.NEUROLOGIST, team=TEAM_B),
    DemoUser("nurse.adeyemi", "Tunde", "Adeyemi", Role.NURSE, team=TEAM_B),
]


def demo_password() -> str:
    return settings.MYELIN_DEMO_PASSWORD


def seed_staff() -> dict[str, User]:
    teams = {name: CareTeam.objects.get_or_create(name=name)[0] for name in (TEAM_A, TEAM_B)}
    users: dict[str, User] = {}
    password = demo_password()
    for spec in DEMO_USERS:
        user, created = User.objects.get_or_create(
            username=spec.username,
            defaults={
                "first_name": spec.first_name,
                "last_name": spec.last_name,
                "role": spec.role,
                "discipline": spec.discipline,
                "email": f"{spec.username}@myelin.example",
                "can_break_glass": spec.can_break_glass,
            },
        )
        if created:
            user.set_password(password)
            user.save(update_fields=["password"])
            if spec.team:
                user.care_teams.add(teams[spec.team])
        users[spec.username] = user
    teams[TEAM_A].lead_neurologist = users["dr.okafor"]
    teams[TEAM_A].save(update_fields=["lead_neurologist"])
    teams[TEAM_B].lead_neurologist = users["dr.santos"]
    teams[TEAM_B].save(update_fields=["lead_neurologist"])
    return users
