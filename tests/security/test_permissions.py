"""The permission table itself: every role × every capability against the matrix written out in
tests/security/permission_matrix.py, the README's copy of it, the checks built on it, and that
every capability guards something."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.template import Context, Template

from clinic.accounts.models import Role, User
from clinic.permissions import (
    ALLOWED,
    ROLES,
    RULES,
    TABLE,
    Can,
    CapabilityDenied,
    Perm,
    denial,
    ensure,
    may,
)
from tests.security.permission_matrix import EXPECTED, expected_roles

ROOT = Path(__file__).resolve().parents[2]


def person(role: str, **fields: object) -> User:
    # may() reads the role only: an unsaved user is enough, and shows no database is involved.
    return User(username=f"someone.{role}", role=role, **fields)


@pytest.mark.parametrize("role", Role.values)
@pytest.mark.parametrize("perm", list(Perm), ids=str)
def test_each_role_has_exactly_the_capabilities_of_the_matrix(role, perm):
    assert may(person(role), perm) is (role in expected_roles(perm.value)), (
        f"{role} × {perm.value}: the table says {may(person(role), perm)}"
    )


def test_the_matrix_names_every_capability_and_no_other():
    assert set(EXPECTED) == {perm.value for perm in Perm}


def test_every_capability_has_one_row_in_the_table():
    rows = [rule.perm for section in TABLE for rule in section.rules]
    assert len(rows) == len(set(rows))
    assert set(rows) == set(Perm)


def test_the_table_knows_the_same_roles_as_the_accounts():
    assert set(ROLES) == set(Role.values)
    assert set(ALLOWED) == set(Role.values)


def test_a_user_with_no_role_anonymous_or_deactivated_may_nothing():
    from django.contrib.auth.models import AnonymousUser

    gone = person(Role.NEUROLOGIST, is_active=False)
    for perm in Perm:
        assert not may(AnonymousUser(), perm)
        assert not may(gone, perm)
        assert not may(person(""), perm)


def test_ensure_refuses_with_a_message_naming_who_may():
    with pytest.raises(CapabilityDenied, match=r"^Only neurologists may plan a DMT\.$"):
        ensure(person(Role.NURSE), Perm.PLAN_CREATE)
    ensure(person(Role.NEUROLOGIST), Perm.PLAN_CREATE)  # allowed: no exception


def test_a_refusal_is_a_permission_denied_so_a_view_answers_403():
    assert issubclass(CapabilityDenied, PermissionDenied)
    assert denial(Perm.ALERT_SAFETY_RESOLVE) == (
        "Only neurologists and MS nurses may resolve a safety alert."
    )
    assert denial(Perm.REFERRAL_SEND) == (
        "Only neurologists, MS nurses and therapists may send a referral."
    )


def test_templates_ask_can_and_a_misspelt_capability_is_an_error():
    template = Template("{% if can.patient_create %}New patient{% endif %}")
    assert template.render(Context({"can": Can(person(Role.NURSE))})) == "New patient"
    assert template.render(Context({"can": Can(person(Role.THERAPIST))})) == ""
    # A typo must not silently hide (or show) a button for everyone.
    with pytest.raises(ImproperlyConfigured):
        Template("{% if can.patient_creat %}x{% endif %}").render(
            Context({"can": Can(person(Role.NURSE))})
        )


def _readme_table() -> dict[str, set[str]]:
    """The README's "Who may do what" table: capability → the roles with a tick."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Who may do what", 1)[1].split("\n## ", 1)[0]
    header = next(line for line in section.splitlines() if line.startswith("| Action"))
    columns = [cell.strip() for cell in header.strip("|").split("|")][2:]
    labels = {
        "Neurologist": "neurologist",
        "MS nurse": "nurse",
        "Therapist": "therapist",
        "Clinic admin": "admin",
    }
    rows: dict[str, set[str]] = {}
    for line in section.splitlines():
        match = re.match(r"^\|[^|]+\| `([a-z_]+)` \|(.*)\|$", line)
        if not match:
            continue
        marks = [cell.strip() for cell in match.group(2).split("|")]
        assert set(marks) <= {"✓", "—"}, line
        assert match.group(1) not in rows, f"{match.group(1)} twice in the README"
        rows[match.group(1)] = {
            labels[c] for c, mark in zip(columns, marks, strict=True) if mark == "✓"
        }
    return rows


def test_the_readme_table_is_the_code_table():
    readme = _readme_table()
    code = {rule.perm.value: set(rule.roles) for rule in RULES.values()}
    assert readme == code


def test_the_readme_rows_say_what_the_table_says():
    text = (ROOT / "README.md").read_text()
    for rule in RULES.values():
        what = rule.what[0].upper() + rule.what[1:]
        assert f"| {what} | `{rule.perm.value}` |" in text, rule.perm.value


def test_every_capability_guards_something():
    """A capability no view or service checks is a promise the app does not keep (a template's
    `can.x` only hides a button; it does not count)."""
    sources = [
        path.read_text()
        for package in ("clinic", "patients", "treatments")
        for path in (ROOT / package).rglob("*.py")
        if path.name != "permissions.py" and "migrations" not in path.parts
    ]
    unused = [
        perm.value for perm in Perm if not any(f"Perm.{perm.name}" in text for text in sources)
    ]
    assert unused == []


def test_every_alert_kind_is_in_a_family_and_each_step_has_its_capability():
    from treatments.alerts.services import CAPABILITIES, VERBS
    from treatments.models import FAMILY_OF_KIND, AlertFamily, AlertKind

    assert set(FAMILY_OF_KIND) == set(AlertKind.values), "place every alert kind in a family"
    assert set(CAPABILITIES) == {(family, verb) for family in AlertFamily for verb in VERBS}
    # Only the referral workflow is open to therapists; everything clinical is not.
    therapist = person(Role.THERAPIST)
    for kind, family in FAMILY_OF_KIND.items():
        for verb in VERBS:
            assert may(therapist, CAPABILITIES[(family, verb)]) is (
                kind == AlertKind.REFERRAL_OVERDUE
            ), (kind, verb)
