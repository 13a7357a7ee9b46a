"""Care teams on the admin's pages, and the rule under every page: a clinic admin holds no
clinical right, kept by the model, the services and the database itself."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test import Client

from clinic.accounts.models import CareTeam, Role, User
from clinic.audit.models import AccessEvent, Category
from clinic.audit.services import verify_chain
from tests.factories import UserFactory


def admin_events(**filters) -> list[str]:
    return list(
        AccessEvent.objects.filter(category=Category.ADMINISTRATION, **filters)
        .order_by("id")
        .values_list("detail", flat=True)
    )


@pytest.fixture
def admin(signed_in, admin_user) -> Client:
    return signed_in(admin_user)


def test_an_admin_creates_a_care_team_with_members_and_a_lead(
    admin, admin_user, neurologist, nurse
):
    response = admin.post(
        "/staff/teams/new/",
        {
            "name": "East MS Team",
            "lead_neurologist": neurologist.pk,
            "members": [neurologist.pk, nurse.pk],
        },
    )
    assert response.status_code == 302
    team = CareTeam.objects.get(name="East MS Team")
    assert team.lead_neurologist == neurologist
    assert set(team.members.all()) == {neurologist, nurse}
    assert admin_events(object_type="accounts.careteam", object_id=str(team.pk)) == [
        "care team created: East MS Team",
        f"lead: user {neurologist.pk}",
    ]
    # Each member's own history says they joined.
    for member in (neurologist, nurse):
        assert admin_events(object_type="accounts.user", object_id=str(member.pk)) == [
            f"added to care team {team.pk} (East MS Team)"
        ]
    assert set(
        AccessEvent.objects.filter(category=Category.ADMINISTRATION).values_list("user", flat=True)
    ) == {admin_user.pk}
    assert "East MS Team" in admin.get("/staff/teams/").content.decode()


def test_changing_a_team_records_the_lead_the_name_and_who_joined_or_left(
    admin, team_a, neurologist, nurse, therapist
):
    other = UserFactory(username="dr.ito", role=Role.NEUROLOGIST, teams=[team_a])
    team_a.lead_neurologist = neurologist
    team_a.save()
    response = admin.post(
        f"/staff/teams/{team_a.pk}/",
        {
            "name": "Team A North",
            "lead_neurologist": other.pk,
            "members": [neurologist.pk, other.pk, therapist.pk],
        },
    )
    assert response.status_code == 302
    assert admin_events(object_type="accounts.careteam") == [
        "renamed: Team A → Team A North",
        f"lead: user {neurologist.pk} → user {other.pk}",
    ]
    assert admin_events(object_type="accounts.user", object_id=str(nurse.pk)) == [
        f"removed from care team {team_a.pk} (Team A North)"
    ]
    assert verify_chain() == []


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"name": "Team B"}, "A care team with this name already exists."),
        ({"name": ""}, "This field is required."),
        (
            {"name": "X", "lead_neurologist": "LEAD", "members": []},
            "The lead neurologist must be a member of the team.",
        ),
        (
            {"name": "X", "lead_neurologist": "NURSE", "members": ["NURSE"]},
            "Select a valid choice.",
        ),
        ({"name": "X", "members": ["ADMIN"]}, "Select a valid choice."),
    ],
)
def test_bad_team_input_gets_a_message_next_to_the_field(
    admin, admin_user, team_b, neurologist, nurse, form, message
):
    ids = {"LEAD": neurologist.pk, "NURSE": nurse.pk, "ADMIN": admin_user.pk}
    data = {
        key: ([ids[v] for v in value] if isinstance(value, list) else ids.get(value, value))
        for key, value in form.items()
    }
    response = admin.post("/staff/teams/new/", data)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not CareTeam.objects.filter(name="X").exists()


def test_the_model_refuses_an_admin_with_the_break_glass_right(admin_user):
    admin_user.can_break_glass = True
    with pytest.raises(ValidationError) as refused:
        admin_user.full_clean()
    assert "can_break_glass" in refused.value.error_dict


def test_the_model_refuses_to_make_a_team_member_an_admin(nurse):
    nurse.role = Role.ADMIN
    with pytest.raises(ValidationError) as refused:
        nurse.full_clean()
    assert refused.value.error_dict["role"][0].message.startswith(
        "A clinic admin cannot be in or lead a care team"
    )


def test_the_database_refuses_a_clinic_admin_with_the_break_glass_right(admin_user):
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=admin_user.pk).update(can_break_glass=True)


def test_the_database_refuses_a_clinic_admin_in_a_care_team(admin_user, team_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        admin_user.care_teams.add(team_a)


def test_the_database_refuses_a_clinic_admin_leading_a_care_team(admin_user, team_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        CareTeam.objects.filter(pk=team_a.pk).update(lead_neurologist=admin_user)


def test_the_database_refuses_making_a_team_member_an_admin(nurse):
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=nurse.pk).update(role=Role.ADMIN)
    # Once off the team, the same change is allowed.
    nurse.care_teams.clear()
    User.objects.filter(pk=nurse.pk).update(role=Role.ADMIN)


def test_the_database_refuses_an_account_without_a_known_role(db):
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="nobody", role="")


Statement = tuple[str, list[int]]


def _concurrently(first: Statement, second: Statement) -> str:
    """Run two statements in two transactions, the second while the first is still open, and
    say what became of the second."""
    db = connection.settings_dict
    dsn = {"host": db["HOST"], "port": db["PORT"], "user": db["USER"], "dbname": db["NAME"]}
    outcome: dict[str, str] = {}
    with psycopg.connect(**dsn) as one, psycopg.connect(**dsn) as two:
        one.execute(*first)

        def run_second() -> None:
            try:
                two.execute(*second)
                two.commit()
                outcome["second"] = "committed"
            except psycopg.errors.CheckViolation:
                two.rollback()
                outcome["second"] = "refused"

        thread = threading.Thread(target=run_second)
        thread.start()
        time.sleep(0.3)  # the second statement is now waiting for the first transaction
        one.commit()
        thread.join()
    return outcome["second"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("membership_first", [True, False])
def test_joining_a_team_and_becoming_an_admin_at_once_cannot_both_succeed(membership_first):
    team = CareTeam.objects.create(name="Race team")
    user = UserFactory(username="nurse.race", role=Role.NURSE)
    join = (
        "INSERT INTO accounts_user_care_teams (user_id, careteam_id) VALUES (%s, %s)",
        [user.pk, team.pk],
    )
    promote = ("UPDATE accounts_user SET role = 'admin' WHERE id = %s", [user.pk])
    first, second = (join, promote) if membership_first else (promote, join)
    assert _concurrently(first, second) == "refused"
    user.refresh_from_db()
    assert not (user.role == Role.ADMIN and user.care_teams.exists())
