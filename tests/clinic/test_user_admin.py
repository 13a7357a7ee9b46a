"""The clinic admin's user pages: accounts, roles, teams, the break-glass right, password resets.

The story: Ann Admin runs the clinic's accounts. She can create and change clinicians' accounts
but can never make herself (or any admin) a clinician with patients; a password she sets is
temporary and comes with a fresh two-step enrolment; everything she does is in the
hash-chained trail.
"""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.accounts.models import Role, User
from clinic.accounts.staff import services
from clinic.audit.models import AccessEvent, Action, Category
from clinic.audit.services import verify_chain
from tests.conftest import sign_in
from tests.factories import UserFactory, totp_code, totp_code_for_key


def trail(subject) -> list[str]:
    """The administration events about one account or team, oldest first."""
    return list(
        AccessEvent.objects.filter(
            category=Category.ADMINISTRATION,
            object_type=subject._meta.label_lower,
            object_id=str(subject.pk),
        )
        .order_by("id")
        .values_list("detail", flat=True)
    )


def temporary_password_on(response) -> str:
    match = re.search(r'data-testid="temporary-password">([^<]+)<', response.content.decode())
    assert match, "no temporary password on the page"
    return match.group(1)


def account_form(user: User, **changes) -> dict:
    data = {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "role": user.role,
        "discipline": user.discipline,
        "care_teams": [team.pk for team in user.care_teams.all()],
        "is_active": "on" if user.is_active else "",
        "can_break_glass": "on" if user.can_break_glass else "",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value not in ("", None)}


@pytest.fixture
def admin(signed_in, admin_user) -> Client:
    return signed_in(admin_user)


def test_an_admin_creates_a_clinician_whose_temporary_password_is_shown_once(
    admin, admin_user, team_a
):
    response = admin.post(
        "/staff/users/new/",
        {
            "username": "nurse.new",
            "first_name": "Nia",
            "last_name": "New",
            "email": "nia@example.org",
            "role": Role.NURSE,
            "care_teams": [team_a.pk],
        },
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    password = temporary_password_on(response)
    user = User.objects.get(username="nurse.new")
    assert user.check_password(password)
    assert user.must_change_password
    assert list(user.care_teams.all()) == [team_a]
    assert password not in admin.get("/staff/users/").content.decode()
    assert trail(user) == [
        "account created",
        "role: nurse",
        f"added to care team {team_a.pk} (Team A)",
        "temporary password set; must change it at first sign-in",
    ]
    assert set(
        AccessEvent.objects.filter(object_id=str(user.pk)).values_list("user", flat=True)
    ) == {admin_user.pk}


def test_a_new_user_must_choose_their_own_password_before_any_page(admin, team_a, patient_a):
    password = temporary_password_on(
        admin.post(
            "/staff/users/new/",
            {
                "username": "dr.new",
                "first_name": "D",
                "last_name": "N",
                "role": Role.NEUROLOGIST,
                "care_teams": [team_a.pk],
            },
        )
    )
    newcomer = Client()
    assert (
        newcomer.post("/accounts/login/", {"username": "dr.new", "password": password}).status_code
        == 302
    )
    for url in ["/patients/", patient_a.get_absolute_url(), "/accounts/profile/"]:
        response = newcomer.get(url)
        assert response.status_code == 302
        assert response["Location"] == "/accounts/password/"
    htmx = newcomer.get("/patients/", headers={"HX-Request": "true"})
    assert htmx["HX-Redirect"] == "/accounts/password/"
    page = newcomer.get("/accounts/password/").content.decode()
    assert "Your password was set by a clinic admin" in page
    same = newcomer.post(
        "/accounts/password/",
        {"old_password": password, "new_password1": password, "new_password2": password},
    )
    assert same.status_code == 200
    assert "Choose a password different from your current one." in same.content.decode()
    changed = newcomer.post(
        "/accounts/password/",
        {
            "old_password": password,
            "new_password1": "a-brand-new-passphrase-9",
            "new_password2": "a-brand-new-passphrase-9",
        },
    )
    assert changed.status_code == 302
    assert newcomer.get(patient_a.get_absolute_url()).status_code == 200
    user = User.objects.get(username="dr.new")
    assert not user.must_change_password
    assert AccessEvent.objects.filter(user=user, detail="password changed").exists()


def test_a_password_reset_ends_sessions_and_forces_a_new_password_and_mfa_enrolment(
    settings, admin, admin_user, nurse
):
    settings.MFA_REQUIRED = True
    old_device = TOTPDevice.objects.create(user=nurse, name="old phone", confirmed=True)
    nurses_pc = sign_in(Client(), nurse)
    assert nurses_pc.get("/treatments/worklist/")["Location"] == "/accounts/mfa/verify/"
    # Ann signs in with her own second factor too.
    TOTPDevice.objects.filter(user=admin_user).delete()
    admin_device = TOTPDevice.objects.create(user=admin_user, name="phone", confirmed=True)
    admin.post("/accounts/mfa/verify/", {"token": totp_code(admin_device)})

    assert admin.get(f"/staff/users/{nurse.pk}/password/").status_code == 200  # confirm first
    assert TOTPDevice.objects.filter(user=nurse).exists()
    response = admin.post(f"/staff/users/{nurse.pk}/password/")
    assert "no-store" in response["Cache-Control"]
    password = temporary_password_on(response)

    nurse.refresh_from_db()
    assert nurse.must_change_password
    assert nurse.check_password(password)
    assert not TOTPDevice.objects.filter(pk=old_device.pk).exists()
    assert nurses_pc.get("/treatments/worklist/")["Location"].startswith("/accounts/login/")
    event = AccessEvent.objects.get(action=Action.PASSWORD_RESET, object_id=str(nurse.pk))
    assert event.user == admin_user
    assert "1 MFA device(s) removed" in event.detail

    # The nurse (or anyone holding the temporary password) enrols a new app, then changes it.
    client = Client()
    response = client.post("/accounts/login/", {"username": nurse.username, "password": password})
    assert response["Location"].startswith("/accounts/mfa/setup/")
    setup = client.get("/accounts/mfa/setup/").content.decode()
    key = re.search(r'data-testid="manual-key">([A-Z2-7 ]+)<', setup).group(1)
    assert client.post("/accounts/mfa/setup/", {"token": totp_code_for_key(key)}).status_code == 302
    assert client.get("/treatments/worklist/")["Location"] == "/accounts/password/"


def test_a_clinic_admin_cannot_be_given_a_care_team_or_the_break_glass_right(admin, team_a):
    colleague = UserFactory(username="admin.bo", role=Role.ADMIN)
    response = admin.post(
        f"/staff/users/{colleague.pk}/",
        account_form(colleague, care_teams=[team_a.pk], can_break_glass="on"),
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "A clinic admin cannot be in a care team." in page
    assert "A clinic admin cannot hold the break-glass right." in page
    colleague.refresh_from_db()
    assert not colleague.care_teams.exists()
    assert not colleague.can_break_glass
    assert trail(colleague) == []


def test_a_clinician_made_admin_leaves_their_teams_and_rights_in_the_same_change(
    admin, nurse, team_a
):
    nurse.can_break_glass = True
    nurse.save()
    kept = admin.post(f"/staff/users/{nurse.pk}/", account_form(nurse, role=Role.ADMIN))
    assert kept.status_code == 422  # still ticked: team A and break glass
    response = admin.post(
        f"/staff/users/{nurse.pk}/",
        account_form(nurse, role=Role.ADMIN, care_teams=[], can_break_glass=""),
    )
    assert response.status_code == 302
    nurse.refresh_from_db()
    assert nurse.role == Role.ADMIN
    assert not nurse.care_teams.exists()
    assert not nurse.can_break_glass
    assert trail(nurse) == [
        "role: nurse → admin",
        f"removed from care team {team_a.pk} (Team A)",
        "break-glass right revoked",
    ]


def test_an_admin_cannot_change_their_own_role_teams_or_rights(admin, admin_user, team_a):
    response = admin.post(
        f"/staff/users/{admin_user.pk}/",
        account_form(
            admin_user,
            role=Role.NEUROLOGIST,
            care_teams=[team_a.pk],
            can_break_glass="on",
            first_name="Annie",
        ),
    )
    # Those fields are fixed on her own page; only her name changed.
    assert response.status_code == 302
    admin_user.refresh_from_db()
    assert admin_user.role == Role.ADMIN
    assert admin_user.first_name == "Annie"
    assert not admin_user.care_teams.exists()
    assert not admin_user.can_break_glass
    with pytest.raises(PermissionDenied):
        services.update_user(
            user=admin_user,
            account=services.Account(
                first_name="Ann",
                last_name="Admin",
                email="",
                role=Role.NEUROLOGIST,
                discipline="",
                care_teams=frozenset({team_a}),
                can_break_glass=False,
            ),
            by=admin_user,
        )
    assert admin.post(f"/staff/users/{admin_user.pk}/password/").status_code == 403
    admin_user.refresh_from_db()
    assert admin_user.role == Role.ADMIN


def test_every_change_of_an_account_is_in_the_hash_chained_trail(
    admin, admin_user, nurse, team_a, team_b
):
    admin.post(
        f"/staff/users/{nurse.pk}/",
        account_form(nurse, role=Role.NEUROLOGIST, care_teams=[team_b.pk], can_break_glass="on"),
    )
    nurse.refresh_from_db()
    admin.post(f"/staff/users/{nurse.pk}/", account_form(nurse, is_active="", email="n@x.org"))
    assert trail(nurse)[-6:] == [
        "role: nurse → neurologist",
        f"removed from care team {team_a.pk} (Team A)",
        f"added to care team {team_b.pk} (Team B)",
        "break-glass right granted",
        "deactivated",
        "details changed: email",
    ]
    assert set(
        AccessEvent.objects.filter(category=Category.ADMINISTRATION).values_list("user", flat=True)
    ) == {admin_user.pk}
    assert verify_chain() == []


def test_deactivating_an_account_ends_its_sessions(admin, nurse):
    nurses_pc = sign_in(Client(), nurse)
    assert nurses_pc.get("/treatments/worklist/").status_code == 200
    admin.post(f"/staff/users/{nurse.pk}/", account_form(nurse, is_active=""))
    assert nurses_pc.get("/treatments/worklist/").status_code == 302


@pytest.mark.parametrize(
    ("changes", "field_error"),
    [
        ({"role": Role.THERAPIST, "discipline": ""}, "A therapist needs a discipline."),
        ({"role": Role.NURSE, "discipline": "psychology"}, "Only therapists have a discipline."),
        ({"email": "not-an-address"}, "Enter a valid email address."),
        ({"role": "superuser"}, "Select a valid choice."),
        ({"first_name": ""}, "This field is required."),
    ],
)
def test_bad_input_gets_a_message_next_to_the_field(admin, nurse, changes, field_error):
    response = admin.post(f"/staff/users/{nurse.pk}/", account_form(nurse, **changes))
    assert response.status_code == 422
    assert re.search(rf'class="error"[^>]*>{re.escape(field_error)}', response.content.decode())


def test_a_taken_username_is_refused_at_the_field(admin, nurse):
    response = admin.post(
        "/staff/users/new/",
        {"username": nurse.username.upper(), "first_name": "A", "last_name": "B", "role": "nurse"},
    )
    assert response.status_code == 422
    assert "That username is taken." in response.content.decode()


def test_a_team_lead_keeps_their_role_and_team_until_someone_else_leads(admin, neurologist, team_a):
    team_a.lead_neurologist = neurologist
    team_a.save()
    response = admin.post(
        f"/staff/users/{neurologist.pk}/", account_form(neurologist, role="nurse")
    )
    assert response.status_code == 422
    assert "They lead Team A: choose another lead for it first." in response.content.decode()
    response = admin.post(
        f"/staff/users/{neurologist.pk}/", account_form(neurologist, care_teams=[])
    )
    assert response.status_code == 422


def test_the_user_list_shows_who_enrolled_mfa_but_never_a_secret(admin, nurse, neurologist):
    device = TOTPDevice.objects.create(user=nurse, name="phone", confirmed=True)
    page = admin.get("/staff/users/").content.decode()
    row = re.search(r'data-username="nurse.kim">(.*?)</tr>', page, re.S).group(1)
    assert "Enrolled" in row
    assert device.key not in page
    assert "no-store" in admin.get("/staff/users/")["Cache-Control"]


def test_the_user_list_query_count_does_not_grow_with_users(
    admin, team_a, django_assert_max_num_queries
):
    admin.get("/staff/users/")
    with django_assert_max_num_queries(8) as few:
        admin.get("/staff/users/")
    for n in range(15):
        UserFactory(username=f"extra{n}", role=Role.NURSE, teams=[team_a])
    with django_assert_max_num_queries(len(few.captured_queries)):
        admin.get("/staff/users/")


def test_there_is_no_django_admin(admin):
    assert admin.get("/django-admin/").status_code == 404


def test_names_with_markup_are_escaped_on_the_admin_pages(admin, nurse, team_a):
    nurse.first_name = '<img src=x onerror="alert(1)">'
    nurse.save()
    team_a.name = "<script>alert('team')</script>"
    team_a.save()
    for url in [
        "/staff/users/",
        f"/staff/users/{nurse.pk}/",
        f"/staff/users/{nurse.pk}/password/",
        "/staff/teams/",
        f"/staff/teams/{team_a.pk}/",
    ]:
        body = admin.get(url).content.decode()
        assert "<img src=x" not in body, url
        assert "<script>alert('team')" not in body, url
