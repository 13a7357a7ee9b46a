"""User, role and care-team administration: the clinic admin's workflows.

Every change of an account (created, role, discipline, care teams, break-glass right, active,
details, password reset) and of a care team (created, renamed, lead) is an event in the
hash-chained access trail, category "administration", written in the same transaction as the
change. Events name users and teams by id; the actor is the event's user.

Rules that hold whoever calls these functions:
- a clinic admin holds no clinical right: no care team (member or lead), no break-glass right
  (also a check constraint and database triggers, accounts migration 0004);
- nobody changes their own role, teams, break-glass right or active status, or resets their own
  password here, so no admin can make themselves a clinician;
- a password set by an admin (a new account's or a reset) is temporary: the user must choose a
  new one at the next sign-in, and a reset removes their authenticator so MFA is enrolled again.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django_otp import devices_for_user

from clinic.accounts.models import CareTeam, Role, User
from clinic.accounts.services import end_all_sessions
from clinic.accounts.tokens import revoke_all_tokens
from clinic.audit import services as audit
from clinic.audit.models import Action, Category
from clinic.permissions import Perm, ensure

# No 0/O, 1/l/I: read aloud or copied from a screen without mistakes.
_UNAMBIGUOUS_CHARACTERS = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


@dataclass(frozen=True)
class Account:
    """What an admin sets on an account."""

    first_name: str
    last_name: str
    email: str
    role: str
    discipline: str
    care_teams: frozenset[CareTeam]
    can_break_glass: bool
    is_active: bool = True


def temporary_password(user: User | None = None) -> str:
    """Four groups of four: about 93 bits, and it passes the password validators."""
    while True:
        raw = "".join(secrets.choice(_UNAMBIGUOUS_CHARACTERS) for _ in range(16))
        candidate = "-".join(raw[i : i + 4] for i in range(0, 16, 4))
        try:
            validate_password(candidate, user)
        except ValidationError:
            continue
        return candidate


def create_user(*, username: str, account: Account, by: User) -> tuple[User, str]:
    """A new account with a temporary password, which is returned to be shown once."""
    ensure(by, Perm.USER_MANAGE)
    _check_clinical_rights(account)
    password = temporary_password()
    with transaction.atomic():
        user = User(
            username=username,
            first_name=account.first_name,
            last_name=account.last_name,
            email=account.email,
            role=account.role,
            discipline=account.discipline,
            can_break_glass=account.can_break_glass,
            must_change_password=True,
        )
        user.set_password(password)
        user.full_clean()
        user.save()
        user.care_teams.set(account.care_teams)
        _record(by=by, obj=user, action=Action.CREATE, details=["account created"])
        _record(
            by=by,
            obj=user,
            details=[
                f"role: {account.role}",
                *([f"discipline: {account.discipline}"] if account.discipline else []),
                *(_joined(team) for team in _by_id(account.care_teams)),
                *(["break-glass right granted"] if account.can_break_glass else []),
                "temporary password set; must change it at first sign-in",
            ],
        )
    return user, password


def update_user(*, user: User, account: Account, by: User) -> list[str]:
    """Apply an admin's changes; returns what changed, as written to the trail."""
    ensure(by, Perm.USER_MANAGE)
    _check_clinical_rights(account)
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        teams_before = set(user.care_teams.all())
        if user.pk == by.pk and (
            account.role != user.role
            or account.can_break_glass != user.can_break_glass
            or account.is_active != user.is_active
            or set(account.care_teams) != teams_before
        ):
            raise PermissionDenied(
                "You cannot change your own role, care teams, break-glass right or whether your "
                "account is active: ask another clinic admin."
            )
        _check_team_leads(user, account)
        details: list[str] = []
        if account.role != user.role:
            details.append(f"role: {user.role} → {account.role}")
        if account.discipline != user.discipline:
            details.append(f"discipline: {user.discipline or '-'} → {account.discipline or '-'}")
        details += [_left(team) for team in _by_id(teams_before - account.care_teams)]
        details += [_joined(team) for team in _by_id(account.care_teams - teams_before)]
        if account.can_break_glass != user.can_break_glass:
            details.append(
                "break-glass right granted"
                if account.can_break_glass
                else "break-glass right revoked"
            )
        if account.is_active != user.is_active:
            details.append("reactivated" if account.is_active else "deactivated")
        changed = [
            name
            for name in ("first_name", "last_name", "email")
            if getattr(account, name) != getattr(user, name)
        ]
        if changed:
            details.append("details changed: " + ", ".join(changed))
        if not details:
            return []
        # Teams first: an account leaves its teams before it may become an admin's.
        user.care_teams.set(account.care_teams)
        for name in (
            "first_name",
            "last_name",
            "email",
            "role",
            "discipline",
            "can_break_glass",
            "is_active",
        ):
            setattr(user, name, getattr(account, name))
        user.full_clean()
        user.save()
        if not account.is_active:
            end_all_sessions(user=user)
        _record(by=by, obj=user, details=details)
    return details


def reset_password(*, user: User, by: User) -> str:
    """A temporary password, returned to be shown once. The user must change it at the next
    sign-in and enrol their authenticator again; every session and API token of theirs ends
    now."""
    ensure(by, Perm.USER_MANAGE)
    if user.pk == by.pk:
        raise PermissionDenied("Change your own password from your account page.")
    password = temporary_password(user)
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        user.set_password(password)
        user.must_change_password = True
        user.save(update_fields=["password", "must_change_password"])
        devices = list(devices_for_user(user, confirmed=None))
        for device in devices:
            device.delete()
        end_all_sessions(user=user)
        tokens = revoke_all_tokens(user=user)
        _record(
            by=by,
            obj=user,
            action=Action.PASSWORD_RESET,
            details=[
                "temporary password set; must change it at next sign-in; "
                f"{len(devices)} MFA device(s) removed, MFA to be enrolled again; "
                f"{tokens} API token(s) revoked"
            ],
        )
    return password


def create_team(*, name: str, lead: User | None, members: Iterable[User], by: User) -> CareTeam:
    ensure(by, Perm.USER_MANAGE)
    members = set(members)
    _check_team(lead=lead, members=members)
    with transaction.atomic():
        team = CareTeam(name=name, lead_neurologist=lead)
        team.full_clean()
        team.save()
        team.members.set(members)
        _record(
            by=by,
            obj=team,
            action=Action.CREATE,
            details=[f"care team created: {name}"] + ([f"lead: user {lead.pk}"] if lead else []),
        )
        _record_memberships(by=by, team=team, joined=members, left=set())
    return team


def update_team(
    *, team: CareTeam, name: str, lead: User | None, members: Iterable[User], by: User
) -> None:
    ensure(by, Perm.USER_MANAGE)
    members = set(members)
    _check_team(lead=lead, members=members)
    with transaction.atomic():
        team = CareTeam.objects.select_for_update().get(pk=team.pk)
        before = set(team.members.all())
        details: list[str] = []
        if name != team.name:
            details.append(f"renamed: {team.name} → {name}")
        if lead != team.lead_neurologist:
            old = f"user {team.lead_neurologist_id}" if team.lead_neurologist_id else "none"
            details.append(f"lead: {old} → {f'user {lead.pk}' if lead else 'none'}")
        team.name = name
        team.lead_neurologist = lead
        team.full_clean()
        team.save()
        team.members.set(members)
        _record(by=by, obj=team, details=details)
        _record_memberships(by=by, team=team, joined=members - before, left=before - members)


def _check_clinical_rights(account: Account) -> None:
    if account.role == Role.ADMIN:
        errors = {}
        if account.care_teams:
            errors["care_teams"] = "A clinic admin cannot be in a care team."
        if account.can_break_glass:
            errors["can_break_glass"] = "A clinic admin cannot hold the break-glass right."
        if errors:
            raise ValidationError(errors)


def _check_team_leads(user: User, account: Account) -> None:
    for team in user.led_teams.all():
        if account.role != Role.NEUROLOGIST:
            raise ValidationError(
                {"role": f"They lead {team.name}: choose another lead for it first."}
            )
        if team not in account.care_teams:
            raise ValidationError(
                {"care_teams": f"They lead {team.name}: choose another lead for it first."}
            )


def _check_team(*, lead: User | None, members: set[User]) -> None:
    if any(member.role == Role.ADMIN for member in members):
        raise ValidationError({"members": "A clinic admin cannot be in a care team."})
    if lead is not None:
        if lead.role != Role.NEUROLOGIST:
            raise ValidationError({"lead_neurologist": "The lead must be a neurologist."})
        if lead not in members:
            raise ValidationError(
                {"lead_neurologist": "The lead neurologist must be a member of the team."}
            )


def _by_id(teams: Iterable[CareTeam]) -> list[CareTeam]:
    return sorted(teams, key=lambda team: team.pk)


def _joined(team: CareTeam) -> str:
    return f"added to care team {team.pk} ({team.name})"


def _left(team: CareTeam) -> str:
    return f"removed from care team {team.pk} ({team.name})"


def _record_memberships(*, by: User, team: CareTeam, joined: set[User], left: set[User]) -> None:
    """Membership events are written on the member's account, so each account's history is
    complete whichever page made the change."""
    entries = [
        audit.Entry(None, Action.UPDATE, Category.ADMINISTRATION, "accounts.user", str(u.pk), text)
        for users, text in ((left, _left(team)), (joined, _joined(team)))
        for u in sorted(users, key=lambda u: u.pk)
    ]
    audit.record_many(user=by, entries=entries)


def _record(
    *, by: User, obj: User | CareTeam, details: list[str], action: str = Action.UPDATE
) -> None:
    object_type, object_id = obj._meta.label_lower, str(obj.pk)
    audit.record_many(
        user=by,
        entries=[
            audit.Entry(None, action, Category.ADMINISTRATION, object_type, object_id, detail)
            for detail in details
        ],
    )
