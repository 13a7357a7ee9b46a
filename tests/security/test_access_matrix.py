"""The access matrix: every route × every role × a patient in and out of scope.

Out of scope is a 404 with no patient data in the body; nothing is a server error; anonymous
users are sent to sign in; every state-changing request needs a CSRF token. A new route that is
not listed in ROUTES fails `test_every_route_is_in_the_matrix`, so nobody adds a page without
deciding who may see it.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.security.world import all_routes, build_side

PUBLIC = "public"  # no sign-in needed
GLOBAL = "global"  # signed-in page with no patient in its URL
PATIENT = "patient"  # names a patient, or an object that belongs to one

# Route → (kind, URL kwargs it takes). Every named route must be here.
ROUTES: dict[str, tuple[str, tuple[str, ...]]] = {
    "home": (GLOBAL, ()),
    "healthz": (PUBLIC, ()),
    "healthz_live": (PUBLIC, ()),
    "clinic:status": (GLOBAL, ()),
    "accounts:login": (PUBLIC, ()),
    "accounts:logout": (GLOBAL, ()),
    "accounts:password_change": (GLOBAL, ()),
    "accounts:profile": (GLOBAL, ()),
    "accounts:mfa_setup": (GLOBAL, ()),
    "accounts:mfa_verify": (GLOBAL, ()),
    "emergency:access": (GLOBAL, ()),
    "audit:report": (GLOBAL, ()),
    "audit:export": (GLOBAL, ()),
    "patients:list": (GLOBAL, ()),
    "patients:create": (GLOBAL, ()),
    "caseload:page": (GLOBAL, ()),
    "patients:detail": (PATIENT, ("external_id",)),
    "patients:edit": (PATIENT, ("external_id",)),
    "patients:timeline": (PATIENT, ("external_id",)),
    "patients:panel": (PATIENT, ("external_id", "key")),
    "patients:course_add": (PATIENT, ("external_id",)),
    "patients:edss_add": (PATIENT, ("external_id",)),
    "patients:edss_preview": (PATIENT, ("external_id",)),
    "patients:relapse_add": (PATIENT, ("external_id",)),
    "patients:mri_add": (PATIENT, ("external_id",)),
    "referrals:board": (GLOBAL, ()),
    "referrals:targets": (GLOBAL, ()),
    "referrals:patient": (PATIENT, ("external_id",)),
    "referrals:new": (PATIENT, ("external_id",)),
    "referrals:detail": (PATIENT, ("referral_id",)),
    "referrals:act": (PATIENT, ("referral_id", "action")),
    "treatments:worklist": (GLOBAL, ()),
    "treatments:catalogue": (GLOBAL, ()),
    "treatments:drug": (GLOBAL, ("drug_key",)),
    "treatments:settings": (GLOBAL, ()),
    "treatments:item": (PATIENT, ("item_id",)),
    "treatments:item_book": (PATIENT, ("item_id",)),
    "treatments:item_waive": (PATIENT, ("item_id",)),
    "treatments:result_review": (PATIENT, ("result_id",)),
    "treatments:patient": (PATIENT, ("external_id",)),
    "treatments:plan_new": (PATIENT, ("external_id",)),
    "treatments:plan": (PATIENT, ("external_id", "plan_id")),
    "treatments:plan_start": (PATIENT, ("external_id", "plan_id")),
    "treatments:plan_dose": (PATIENT, ("external_id", "plan_id")),
    "treatments:plan_suspend": (PATIENT, ("external_id", "plan_id")),
    "treatments:plan_resume": (PATIENT, ("external_id", "plan_id")),
    "treatments:plan_stop": (PATIENT, ("external_id", "plan_id")),
    "treatments:plan_switch": (PATIENT, ("external_id", "plan_id")),
    "treatments:plan_conditions": (PATIENT, ("external_id", "plan_id")),
    "treatments:plan_baseline": (PATIENT, ("external_id", "plan_id")),
    "treatments:result_new": (PATIENT, ("external_id",)),
    "treatments:symptomatic_new": (PATIENT, ("external_id",)),
    "treatments:symptomatic_stop": (PATIENT, ("external_id", "treatment_id")),
    "rehab:patient": (PATIENT, ("external_id",)),
    "rehab:new_session": (PATIENT, ("external_id",)),
    "rehab:new_plan": (PATIENT, ("external_id",)),
    "safety:side_effects": (PATIENT, ("external_id",)),
    "safety:pml": (PATIENT, ("external_id",)),
    "alerts:inbox": (GLOBAL, ()),
    "alerts:acknowledge": (PATIENT, ("alert_id",)),
    "alerts:snooze": (PATIENT, ("alert_id",)),
    "alerts:resolve": (PATIENT, ("alert_id",)),
    "quality:dashboard": (GLOBAL, ()),
    "quality:export": (GLOBAL, ()),
    "quality:drill": (GLOBAL, ("figure",)),
    "pro:send": (PATIENT, ("external_id",)),
    "pro:link": (PATIENT, ("link_id",)),
    "pro:revoke": (PATIENT, ("link_id",)),
    # The patient's questionnaire pages: public, opened only by a signed token.
    "pro:start": (PUBLIC, ()),
    "pro:answer": (PUBLIC, ()),
}

TEAM_A_ROLES = ["neurologist", "nurse", "therapist"]
PATIENT_ROUTES = sorted(name for name, (kind, _) in ROUTES.items() if kind == PATIENT)
SIGNED_IN_ROUTES = sorted(name for name, (kind, _) in ROUTES.items() if kind != PUBLIC)
B_MARKERS = ("Baker", "BBB00001")


GLOBAL_KWARGS = {"drug_key": "ocrelizumab_iv", "figure": "monitoring"}


def url_for(name: str, side: Any) -> str:
    _, params = ROUTES[name]
    kwargs = side.kwargs() if side is not None else GLOBAL_KWARGS
    return reverse(name, kwargs={key: kwargs[key] for key in params})


@pytest.fixture
def world(cast, patient_a, patient_b) -> dict[str, Any]:
    return {
        "a": build_side(patient_a, cast["neurologist"], "a"),
        "b": build_side(patient_b, cast["other_neurologist"], "b"),
    }


def test_every_route_is_in_the_matrix():
    names = {name for name, _ in all_routes()}
    assert names - set(ROUTES) == set(), "add new routes to ROUTES, deciding who may use them"
    assert set(ROUTES) - names == set(), "remove routes that no longer exist"


@pytest.mark.parametrize("role", [*TEAM_A_ROLES, "admin"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_another_teams_patient_is_a_404_with_no_data_on_every_route(
    role, method, cast, world, signed_in
):
    client = signed_in(cast[role])
    for name in PATIENT_ROUTES:
        response = getattr(client, method)(url_for(name, world["b"]))
        if response.status_code == 403:
            # A role refusal (this role may not use this route at all) is fine only if it is the
            # same for the team's own patient: then it says nothing about the other patient.
            same_for_own = getattr(client, method)(url_for(name, world["a"])).status_code
            assert same_for_own == 403, f"{name} {method.upper()} as {role}: 403 only out of scope"
            continue
        # An admin may be refused for their role before scope is checked, and a POST-only route
        # answers a GET with 405 before looking anything up; either way, no data.
        allowed = {404} if role != "admin" else {403, 404}
        if method == "get":
            allowed |= {405}
        assert response.status_code in allowed, (
            f"{name} {method.upper()} as {role}: {response.status_code}"
        )
        body = response.content.decode(errors="replace")
        for marker in B_MARKERS:
            assert marker not in body, f"{name} leaked {marker} to {role}"


@pytest.mark.parametrize("role", [*TEAM_A_ROLES, "admin"])
def test_no_route_is_a_server_error_for_any_role(role, cast, world, signed_in):
    client = signed_in(cast[role])
    client.raise_request_exception = True
    for name in SIGNED_IN_ROUTES:
        if name == "accounts:logout":
            continue
        kind, _ = ROUTES[name]
        response = client.get(url_for(name, world["a"] if kind == PATIENT else None))
        assert response.status_code in {200, 302, 403, 404, 405}, (
            f"{name} as {role}: {response.status_code}"
        )
        if role == "admin" and kind == PATIENT:
            assert response.status_code in {403, 404, 405}, f"admin reached patient data at {name}"


def test_in_scope_pages_open_for_the_care_team(cast, world, signed_in):
    client = signed_in(cast["nurse"])
    for name in [
        "patients:detail",
        "treatments:patient",
        "referrals:patient",
        "rehab:patient",
        "treatments:item",
    ]:
        assert client.get(url_for(name, world["a"])).status_code == 200, name


@pytest.mark.parametrize("htmx", [False, True])
def test_anonymous_users_are_sent_to_sign_in_everywhere(htmx, world):
    client = Client()
    headers = {"HX-Request": "true"} if htmx else {}
    for name in SIGNED_IN_ROUTES:
        kind, _ = ROUTES[name]
        response = client.get(
            url_for(name, world["a"] if kind == PATIENT else None), headers=headers
        )
        if htmx:
            assert response.headers.get("HX-Redirect", "").startswith("/accounts/login/"), name
        else:
            assert response.status_code == 302, name
            assert response["Location"].startswith("/accounts/login/"), name


def test_every_state_changing_request_needs_a_csrf_token(cast, world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast["neurologist"])
    for name in sorted(ROUTES):
        kind, _ = ROUTES[name]
        response = client.post(
            url_for(name, world["a"] if kind == PATIENT else None), {"anything": "x"}
        )
        assert response.status_code == 403, f"{name} accepted a POST without a CSRF token"


def test_public_routes_show_no_patient_data(world):
    from treatments.pro.services import public_path

    client = Client()
    # A genuine questionnaire link of each patient opens on its date-of-birth form only.
    urls = [reverse(name) for name in ["healthz", "healthz_live", "accounts:login"]]
    urls += [public_path(world[side].link) for side in ("a", "b")]
    for url in urls:
        body = client.get(url).content.decode()
        for marker in ("Archer", "AAA00001", *B_MARKERS):
            assert marker not in body, url
