"""The access matrix: every route × every role × a patient in and out of scope.

Out of scope is a 404 with no patient data in the body; nothing is a server error; anonymous
users are sent to sign in; every state-changing request needs a CSRF token. A new route that is
not listed in ROUTES fails `test_every_route_is_in_the_matrix`, so nobody adds a page without
deciding who may see it.

The role layer: each route needs the capability CAPABILITIES names, every view declares exactly
that (`@requires`), and each role is answered 403 exactly where the permission matrix
(tests/security/permission_matrix.py) says it may not, on a patient in its own care team.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from clinic.permissions import capabilities_of
from patients.models import Referral
from tests.security.permission_matrix import expected_allowed
from tests.security.world import all_routes, build_side
from treatments.alerts import services as alerts
from treatments.models import Alert, AlertGrade, AlertKind, Result

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
    "accounts:token_new": (GLOBAL, ()),
    "accounts:token_revoke": (GLOBAL, ()),
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
    "corrections:amend": (PATIENT, ("external_id", "kind", "record_id")),
    "corrections:error": (PATIENT, ("external_id", "kind", "record_id")),
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
    "treatments:reference_ranges": (GLOBAL, ()),
    "treatments:golive": (GLOBAL, ()),
    "treatments:item": (PATIENT, ("item_id",)),
    "treatments:item_book": (PATIENT, ("item_id",)),
    "treatments:item_waive": (PATIENT, ("item_id",)),
    "treatments:result_review": (PATIENT, ("result_id",)),
    "treatments:patient": (PATIENT, ("external_id",)),
    "treatments:plan_new": (PATIENT, ("external_id",)),
    "treatments:plan_history": (PATIENT, ("external_id",)),
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
    "treatments:triage_new": (PATIENT, ("external_id",)),
    "treatments:triage_call": (PATIENT, ("call_id",)),
    "treatments:triage_act": (PATIENT, ("call_id", "step")),
    "treatments:infusion_day": (GLOBAL, ()),
    "treatments:infusion_new": (PATIENT, ("external_id",)),
    "treatments:infusion_visit": (PATIENT, ("visit_id",)),
    "treatments:symptomatic_stop": (PATIENT, ("external_id", "treatment_id")),
    "treatments:summary": (PATIENT, ("external_id",)),
    "treatments:summary_pdf": (PATIENT, ("external_id",)),
    "rehab:patient": (PATIENT, ("external_id",)),
    "rehab:new_session": (PATIENT, ("external_id",)),
    "rehab:new_plan": (PATIENT, ("external_id",)),
    "family:patient": (PATIENT, ("external_id",)),
    "family:plan": (PATIENT, ("external_id",)),
    "family:level": (PATIENT, ("external_id",)),
    "family:pregnancy": (PATIENT, ("external_id",)),
    "family:pregnancy_end": (PATIENT, ("external_id",)),
    "transplant:patient": (PATIENT, ("external_id",)),
    "transplant:record": (PATIENT, ("external_id",)),
    "safety:side_effects": (PATIENT, ("external_id",)),
    "safety:pml": (PATIENT, ("external_id",)),
    "alerts:inbox": (GLOBAL, ()),
    "alerts:acknowledge_many": (GLOBAL, ()),
    "notifications:page": (GLOBAL, ()),
    "alerts:acknowledge": (PATIENT, ("alert_id",)),
    "alerts:snooze": (PATIENT, ("alert_id",)),
    "alerts:resolve": (PATIENT, ("alert_id",)),
    "staff:users": (GLOBAL, ()),
    "staff:user_new": (GLOBAL, ()),
    "staff:user_edit": (GLOBAL, ("user_id",)),
    "staff:user_password": (GLOBAL, ("user_id",)),
    "staff:teams": (GLOBAL, ()),
    "staff:team_new": (GLOBAL, ()),
    "staff:team_edit": (GLOBAL, ("team_id",)),
    "labimport:queue": (GLOBAL, ()),
    "labimport:upload": (GLOBAL, ()),
    "labimport:messages": (GLOBAL, ()),
    "labimport:codes": (GLOBAL, ()),
    "labimport:code_delete": (GLOBAL, ("mapping_id",)),
    "labimport:review": (PATIENT, ("review_id",)),
    "labimport:reject": (PATIENT, ("review_id",)),
    "fhir:metadata": (PUBLIC, ()),
    "fhir:patient": (PATIENT, ("external_id",)),
    "fhir:everything": (PATIENT, ("external_id",)),
    "fhir:group_export": (GLOBAL, ("team_id",)),
    "quality:dashboard": (GLOBAL, ()),
    "quality:export": (GLOBAL, ()),
    "quality:drill": (GLOBAL, ("figure",)),
    "pro:send": (PATIENT, ("external_id",)),
    "pro:link": (PATIENT, ("link_id",)),
    "pro:revoke": (PATIENT, ("link_id",)),
    "mdt:meetings": (GLOBAL, ()),
    "mdt:meeting_new": (GLOBAL, ()),
    "mdt:actions": (GLOBAL, ()),
    # A meeting is its care team's: another team's meeting is a 404 like another team's patient.
    "mdt:meeting": (PATIENT, ("meeting_id",)),
    "mdt:case_add": (PATIENT, ("external_id",)),
    "mdt:case": (PATIENT, ("case_id",)),
    "mdt:action_new": (PATIENT, ("case_id",)),
    "mdt:action_done": (PATIENT, ("action_id",)),
    "supportive:overdue": (GLOBAL, ()),
    "supportive:patient": (PATIENT, ("external_id",)),
    "supportive:goal_new": (PATIENT, ("external_id",)),
    "supportive:goal": (PATIENT, ("goal_id",)),
    # The patient's questionnaire pages: public, opened only by a signed token.
    "pro:start": (PUBLIC, ()),
    "pro:answer": (PUBLIC, ()),
}
# The FHIR endpoint answers programs, not people: without credentials it says 401 (with an
# OperationOutcome) instead of sending them to the sign-in page, and it refuses anything but GET
# (405) before looking anything up.
API_ROUTES = {"fhir:patient", "fhir:everything", "fhir:group_export"}

# Pages only a clinic admin opens (200); every clinician is refused (403), before anything is
# looked up or changed.
ADMIN_ONLY = [
    "clinic:status",
    "audit:report",
    "audit:export",
    "staff:users",
    "staff:user_new",
    "staff:user_edit",
    "staff:user_password",
    "staff:teams",
    "staff:team_new",
    "staff:team_edit",
    "treatments:golive",
]
# What each route needs (capability names of clinic.permissions.Perm). OPEN: any signed-in user
# (their own account, the catalogue) or the public. A set: any one of them lets the user in, and
# the view checks the object (an alert's family, a referral's side). A pair: (to open the page,
# to post to it).
OPEN = "open"
CAPABILITIES: dict[str, str | set[str] | tuple[str, str]] = {
    "home": OPEN,
    "healthz": OPEN,
    "healthz_live": OPEN,
    "accounts:login": OPEN,
    "accounts:logout": OPEN,
    "accounts:password_change": OPEN,
    "accounts:profile": OPEN,
    "accounts:token_new": "fhir_export",
    # Anyone may revoke a token of their own (a token outlives a change of role).
    "accounts:token_revoke": OPEN,
    "accounts:mfa_setup": OPEN,
    "accounts:mfa_verify": OPEN,
    "treatments:catalogue": OPEN,
    "treatments:drug": OPEN,
    "clinic:status": "system_status_view",
    "emergency:access": "break_glass",
    "audit:report": "audit_view",
    "audit:export": "audit_view",
    "patients:list": "patient_view",
    "patients:create": "patient_create",
    "caseload:page": "caseload_view",
    "patients:detail": "patient_view",
    "patients:edit": "patient_edit",
    "patients:timeline": "patient_view",
    "patients:panel": "patient_view",
    "patients:course_add": "course_record",
    "patients:edss_add": "edss_record",
    "patients:edss_preview": "edss_record",
    "patients:relapse_add": "relapse_record",
    "patients:mri_add": "mri_record",
    "corrections:amend": {"record_amend_own", "record_amend_any"},
    "corrections:error": {"record_amend_own", "record_amend_any"},
    "referrals:board": "patient_view",
    "referrals:targets": "referral_targets",
    "referrals:patient": "patient_view",
    "referrals:new": "referral_send",
    "referrals:detail": "patient_view",
    "referrals:act": {
        "referral_respond_own",
        "referral_respond_external",
        "referral_close_own",
        "referral_close_team",
    },
    "treatments:worklist": "worklist_view",
    "treatments:settings": "catalogue_settings",
    "treatments:reference_ranges": "catalogue_settings",
    "treatments:golive": "golive_import",
    "treatments:item": "worklist_view",
    "treatments:item_book": "item_book",
    "treatments:item_waive": "item_waive",
    "treatments:result_review": "result_review",
    "treatments:patient": "patient_view",
    "treatments:plan_new": "plan_create",
    "treatments:plan_history": "history_record",
    "treatments:plan": "patient_view",
    "treatments:plan_start": "plan_start",
    "treatments:plan_dose": "dose_record",
    "treatments:plan_suspend": "plan_suspend",
    "treatments:plan_resume": "plan_resume",
    "treatments:plan_stop": "plan_stop",
    "treatments:plan_switch": "plan_switch",
    "treatments:plan_conditions": "plan_conditions",
    "treatments:plan_baseline": "baseline_tick",
    "treatments:result_new": "result_record",
    "treatments:symptomatic_new": "symptomatic_record",
    "treatments:symptomatic_stop": "symptomatic_stop",
    "treatments:triage_new": "triage_log",
    "treatments:triage_call": "triage_log",
    "treatments:triage_act": "triage_log",
    "treatments:infusion_day": "infusion_checklist",
    "treatments:infusion_new": "infusion_checklist",
    "treatments:infusion_visit": "infusion_checklist",
    "rehab:patient": "patient_view",
    "rehab:new_session": "rehab_session_log",
    "rehab:new_plan": "therapy_plan_manage",
    "family:patient": "patient_view",
    "family:plan": "family_plan_record",
    "family:level": "family_plan_record",
    "family:pregnancy": "pregnancy_record",
    "family:pregnancy_end": "pregnancy_record",
    "transplant:patient": "patient_view",
    "transplant:record": "transplant_record",
    "safety:side_effects": ("patient_view", "side_effect_report"),
    "safety:pml": ("patient_view", "pml_inputs_edit"),
    "alerts:inbox": "patient_view",
    "alerts:acknowledge_many": "alert_bulk_acknowledge",
    "notifications:page": "notifications_view",
    "alerts:acknowledge": {"alert_safety_acknowledge", "alert_referral_acknowledge"},
    "alerts:snooze": {"alert_safety_snooze", "alert_referral_snooze"},
    "alerts:resolve": {"alert_safety_resolve", "alert_referral_resolve"},
    "treatments:summary": "patient_view",
    "treatments:summary_pdf": "patient_view",
    "staff:users": "user_manage",
    "staff:user_new": "user_manage",
    "staff:user_edit": "user_manage",
    "staff:user_password": "user_manage",
    "staff:teams": "user_manage",
    "staff:team_new": "user_manage",
    "staff:team_edit": "user_manage",
    "labimport:queue": "lab_review",
    "labimport:review": "lab_review",
    "labimport:reject": "lab_review",
    "labimport:upload": "lab_upload",
    "labimport:messages": "lab_upload",
    "labimport:codes": "catalogue_settings",
    "labimport:code_delete": "catalogue_settings",
    "fhir:metadata": OPEN,
    "fhir:patient": "fhir_export",
    "fhir:everything": "fhir_export",
    "fhir:group_export": "fhir_export",
    "quality:dashboard": "quality_view",
    "quality:export": "quality_view",
    "quality:drill": "quality_drilldown",
    "pro:send": "questionnaire_send",
    "pro:link": "questionnaire_send",
    "pro:revoke": "questionnaire_send",
    "pro:start": OPEN,
    "pro:answer": OPEN,
    "mdt:meetings": "patient_view",
    "mdt:meeting_new": "mdt_meeting_plan",
    "mdt:actions": "patient_view",
    "mdt:meeting": "patient_view",
    "mdt:case_add": "mdt_case_add",
    "mdt:case": ("patient_view", "mdt_outcome_record"),
    "mdt:action_new": "mdt_outcome_record",
    "mdt:action_done": "mdt_action_done",
    "supportive:overdue": "patient_view",
    "supportive:patient": "patient_view",
    "supportive:goal_new": "supportive_care_edit",
    "supportive:goal": ("patient_view", "supportive_care_edit"),
}
# The alert routes check the alert's family after the role: the matrix walks them once per family.
ALERT_STEPS = {
    "alerts:acknowledge": "acknowledge",
    "alerts:snooze": "snooze",
    "alerts:resolve": "resolve",
}


def needs(name: str, method: str) -> set[str]:
    """The capabilities of which a `method` request to route `name` needs one."""
    wanted = CAPABILITIES[name]
    if isinstance(wanted, tuple):
        return {wanted[1] if method == "POST" else wanted[0]}
    return set(wanted) if isinstance(wanted, set) else {wanted}


TEAM_A_ROLES = ["neurologist", "nurse", "therapist"]
PATIENT_ROUTES = sorted(name for name, (kind, _) in ROUTES.items() if kind == PATIENT)
SIGNED_IN_ROUTES = sorted(name for name, (kind, _) in ROUTES.items() if kind != PUBLIC)
B_MARKERS = ("Baker", "BBB00001")


GLOBAL_KWARGS = {"drug_key": "ocrelizumab_iv", "mapping_id": 1, "figure": "monitoring"}


def url_for(name: str, side: Any, world: dict[str, Any] | None = None) -> str:
    _, params = ROUTES[name]
    if side is not None:
        kwargs = side.kwargs()
    else:
        kwargs = {**GLOBAL_KWARGS, **(world or {}).get("staff", {})}
    return reverse(name, kwargs={key: kwargs[key] for key in params})


def staff_objects(cast: dict[str, Any], team_id: int) -> dict[str, Any]:
    """The user and the team that the admin pages are opened for."""
    return {"staff": {"user_id": cast["nurse"].pk, "team_id": team_id}}


def route_url(name: str, world: dict[str, Any]) -> str:
    """The route for team A's patient, or with no patient at all."""
    return url_for(name, world["a"] if ROUTES[name][0] == PATIENT else None, world)


@pytest.fixture
def world(cast, patient_a, patient_b) -> dict[str, Any]:
    return {
        "a": build_side(patient_a, cast["neurologist"], "a"),
        "b": build_side(patient_b, cast["other_neurologist"], "b"),
        **staff_objects(cast, patient_a.care_team_id),
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
        if method == "get" or name in API_ROUTES:
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
        response = client.get(route_url(name, world))
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
        response = client.get(route_url(name, world), headers=headers)
        if name in API_ROUTES:
            assert response.status_code == 401, name
            assert response.json()["resourceType"] == "OperationOutcome", name
            continue
        if htmx:
            assert response.headers.get("HX-Redirect", "").startswith("/accounts/login/"), name
        else:
            assert response.status_code == 302, name
            assert response["Location"].startswith("/accounts/login/"), name


def test_every_state_changing_request_needs_a_csrf_token(cast, world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast["neurologist"])
    for name in sorted(ROUTES):
        response = client.post(route_url(name, world), {"anything": "x"})
        assert response.status_code == 403, f"{name} accepted a POST without a CSRF token"


@pytest.mark.parametrize("role", [*TEAM_A_ROLES, "admin"])
def test_admin_pages_open_for_clinic_admins_only(role, cast, world, signed_in):
    client = signed_in(cast[role])
    expected = 200 if role == "admin" else 403
    for name in ADMIN_ONLY:
        assert client.get(route_url(name, world)).status_code == expected, f"{name} as {role}"


@pytest.mark.parametrize("role", TEAM_A_ROLES)
def test_clinicians_cannot_change_users_or_teams(role, cast, world, signed_in):
    client = signed_in(cast[role])
    me = cast[role]
    # A clinician giving themselves team B and the break-glass right is refused outright.
    response = client.post(
        reverse("staff:user_edit", kwargs={"user_id": me.pk}),
        {
            "first_name": "X",
            "last_name": "Y",
            "role": "neurologist",
            "care_teams": [world["b"].patient.care_team_id],
            "can_break_glass": "on",
            "is_active": "on",
        },
    )
    assert response.status_code == 403
    assert client.post(reverse("staff:user_password", kwargs={"user_id": me.pk})).status_code == 403
    assert client.post(reverse("staff:team_new"), {"name": "Mine"}).status_code == 403
    me.refresh_from_db()
    assert not me.can_break_glass
    assert not me.care_teams.filter(pk=world["b"].patient.care_team_id).exists()


def test_public_routes_show_no_patient_data(world):
    from treatments.pro.services import public_path

    client = Client()
    # A genuine questionnaire link of each patient opens on its date-of-birth form only.
    urls = [
        reverse(name) for name in ["healthz", "healthz_live", "accounts:login", "fhir:metadata"]
    ]
    urls += [public_path(world[side].link) for side in ("a", "b")]
    for url in urls:
        body = client.get(url).content.decode()
        for marker in ("Archer", "AAA00001", *B_MARKERS):
            assert marker not in body, url


# ---------------------------------------------------------------------------------------------
# The role layer: who may use each route, by the permission table
# ---------------------------------------------------------------------------------------------


def test_every_route_declares_the_capability_of_the_matrix():
    """A route is open to every signed-in user only by a decision written here; any other view
    that forgets `@requires` (or declares something else than the matrix expects) fails."""
    assert set(CAPABILITIES) == set(ROUTES)
    for name, pattern in all_routes():
        for method in ("GET", "POST"):
            declared = capabilities_of(pattern.callback, method)
            if CAPABILITIES[name] == OPEN:
                assert declared is None, (
                    f"{name} is open to all in the matrix but declares {declared}"
                )
                continue
            assert declared is not None, f"{name} declares no capability (@requires)"
            assert {str(c) for c in declared} == needs(name, method), f"{name} {method}"


@pytest.fixture
def referral_alert(world) -> Alert:
    """A referral past its deadline, alerted to the neurologist who sent it."""
    referral: Referral = world["a"].referral
    alerts.raise_alerts(
        [
            alerts.AlertSpec(
                patient_id=referral.patient_id,
                kind=AlertKind.REFERRAL_OVERDUE,
                grade=AlertGrade.WARNING,
                condition_key=f"referral_overdue:referral:{referral.pk}",
                title="Referral not answered by its deadline",
                owner_id=referral.referred_by_id,
            )
        ]
    )
    return Alert.objects.get(kind=AlertKind.REFERRAL_OVERDUE)


def _check(client: Any, role: str, url: str, method: str, capabilities: set[str]) -> None:
    response = getattr(client, method.lower())(url)
    if method == "GET" and response.status_code == 405:
        return  # a POST-only route: a GET changes nothing and shows nothing
    # Still signed in (a sign-in redirect would pass for "not refused" and prove nothing).
    assert not response.get("Location", "").startswith("/accounts/login/"), url
    allowed = expected_allowed(role, capabilities)
    if allowed:
        assert response.status_code != 403, f"{role} was refused {method} {url}"
    else:
        assert response.status_code == 403, f"{role} got {response.status_code} at {method} {url}"
        assert "Only " in response.content.decode(), "the refusal should say who may"


@pytest.mark.parametrize("role", [*TEAM_A_ROLES, "admin"])
def test_each_role_is_refused_exactly_where_the_table_says(
    role, cast, world, referral_alert, signed_in
):
    """Every route that needs a capability, as every role, on a patient of their own team: 403
    where the matrix says no, anything else (a page, a redirect, a form error) where it says
    yes. An empty POST is enough: the role is decided before any input is read."""
    user = cast[role]
    if role != "admin":  # a clinic admin may never hold the right (a database constraint)
        user.can_break_glass = True  # the person is pre-authorised: only the role decides here
        user.save(update_fields=["can_break_glass"])
    # The correction pages also ask whether the user recorded the record (record_amend_own):
    # make them its author, so that only the role decides here too (the author rule has tests
    # of its own in tests/patients/test_correction_pages.py).
    Result.objects.filter(pk=world["a"].result.pk).update(recorded_by=user)
    client = signed_in(user)
    client.raise_request_exception = True  # a server error fails the test, with its trace
    checked = 0
    for name in sorted(CAPABILITIES):
        if CAPABILITIES[name] == OPEN:
            continue
        if name in ALERT_STEPS:
            step = ALERT_STEPS[name]
            for alert, family in ((world["a"].alert, "safety"), (referral_alert, "referral")):
                url = reverse(name, kwargs={"alert_id": alert.pk})
                for method in ("GET", "POST"):
                    _check(client, role, url, method, {f"alert_{family}_{step}"})
                    checked += 1
            continue
        url = route_url(name, world)
        for method in ("GET", "POST"):
            _check(client, role, url, method, needs(name, method))
            checked += 1
    assert checked > 100  # the walk really covered the routes
