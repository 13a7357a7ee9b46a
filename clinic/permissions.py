"""Who may do what: the one role × capability table, and the checks every view and service use.

`TABLE` is the whole policy, one row per capability with the roles that have it; the README's
"Who may do what" table is written from it (a test compares the two). Views declare what they
need with `@requires(Perm.X)` (403 with a message naming who may); services call
`ensure(by, Perm.X)` before they change anything (defence in depth: a task, a shell or a future
view that forgets its decorator is still refused); templates ask `{% if can.x %}` (the `can`
context variable, see `clinic.context_processors.permissions`) so nobody is shown a button they
may not press.

The table is about roles. What depends on the object — the patient's care team (scoping, 404),
the referral's discipline and who sent it, the alert's family — is checked next to the object,
but always through a capability of this table.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured, PermissionDenied

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

    from clinic.accounts.models import User


class Perm(StrEnum):
    """A capability: one thing a user may be allowed to do. Values are the names templates use
    (`can.patient_create`) and the README shows."""

    # Patients and their clinical record
    PATIENT_VIEW = "patient_view"
    PATIENT_CREATE = "patient_create"
    PATIENT_EDIT = "patient_edit"
    COURSE_RECORD = "course_record"
    EDSS_RECORD = "edss_record"
    RELAPSE_RECORD = "relapse_record"
    MRI_RECORD = "mri_record"
    BREAK_GLASS = "break_glass"
    CASELOAD_VIEW = "caseload_view"
    FHIR_EXPORT = "fhir_export"
    RECORD_AMEND_OWN = "record_amend_own"
    RECORD_AMEND_ANY = "record_amend_any"
    # DMT plans
    PLAN_CREATE = "plan_create"
    PLAN_START = "plan_start"
    OVERRIDE_GATE = "override_gate"
    BASELINE_TICK = "baseline_tick"
    DOSE_RECORD = "dose_record"
    PLAN_SUSPEND = "plan_suspend"
    PLAN_RESUME = "plan_resume"
    PLAN_STOP = "plan_stop"
    PLAN_SWITCH = "plan_switch"
    PLAN_CONDITIONS = "plan_conditions"
    HISTORY_RECORD = "history_record"
    # Family planning, pregnancy and stem-cell transplantation
    FAMILY_PLAN_RECORD = "family_plan_record"
    PREGNANCY_RECORD = "pregnancy_record"
    TRANSPLANT_RECORD = "transplant_record"
    # Monitoring, results, safety, other treatments
    WORKLIST_VIEW = "worklist_view"
    ITEM_BOOK = "item_book"
    ITEM_WAIVE = "item_waive"
    RESULT_RECORD = "result_record"
    RESULT_REVIEW = "result_review"
    SIDE_EFFECT_REPORT = "side_effect_report"
    PML_INPUTS_EDIT = "pml_inputs_edit"
    SYMPTOMATIC_RECORD = "symptomatic_record"
    SYMPTOMATIC_STOP = "symptomatic_stop"
    LAB_REVIEW = "lab_review"
    QUESTIONNAIRE_SEND = "questionnaire_send"
    QUALITY_VIEW = "quality_view"
    QUALITY_DRILLDOWN = "quality_drilldown"
    LAB_UPLOAD = "lab_upload"
    TRIAGE_LOG = "triage_log"
    INFUSION_CHECKLIST = "infusion_checklist"
    # Alerts, by family (treatments.alerts.families says which kind is in which family)
    ALERT_SAFETY_ACKNOWLEDGE = "alert_safety_acknowledge"
    ALERT_SAFETY_SNOOZE = "alert_safety_snooze"
    ALERT_SAFETY_RESOLVE = "alert_safety_resolve"
    ALERT_REFERRAL_ACKNOWLEDGE = "alert_referral_acknowledge"
    ALERT_REFERRAL_SNOOZE = "alert_referral_snooze"
    ALERT_REFERRAL_RESOLVE = "alert_referral_resolve"
    ALERT_BULK_ACKNOWLEDGE = "alert_bulk_acknowledge"
    NOTIFICATIONS_VIEW = "notifications_view"
    # Referrals and rehab
    REFERRAL_SEND = "referral_send"
    REFERRAL_RESPOND_OWN = "referral_respond_own"
    REFERRAL_RESPOND_EXTERNAL = "referral_respond_external"
    REFERRAL_CLOSE_OWN = "referral_close_own"
    REFERRAL_CLOSE_TEAM = "referral_close_team"
    REHAB_SESSION_LOG = "rehab_session_log"
    THERAPY_PLAN_MANAGE = "therapy_plan_manage"
    # MDT meetings and supportive care
    MDT_MEETING_PLAN = "mdt_meeting_plan"
    MDT_CASE_ADD = "mdt_case_add"
    MDT_OUTCOME_RECORD = "mdt_outcome_record"
    MDT_ACTION_DONE = "mdt_action_done"
    SUPPORTIVE_CARE_EDIT = "supportive_care_edit"
    # Running the clinic
    CATALOGUE_SETTINGS = "catalogue_settings"
    REFERRAL_TARGETS = "referral_targets"
    USER_MANAGE = "user_manage"
    AUDIT_VIEW = "audit_view"
    SYSTEM_STATUS_VIEW = "system_status_view"
    GOLIVE_IMPORT = "golive_import"


@dataclass(frozen=True)
class Rule:
    perm: Perm
    what: str  # a verb phrase: "Only <roles> may <what>."
    roles: frozenset[str]


@dataclass(frozen=True)
class Section:
    title: str
    rules: tuple[Rule, ...]


# The roles of clinic.accounts.models.Role, by value (this module is below accounts, which
# uses it; a test checks the two lists are the same), in the README's column order, with the
# words a refusal uses for each.
ROLE_PLURALS: dict[str, str] = {
    "neurologist": "neurologists",
    "nurse": "MS nurses",
    "therapist": "therapists",
    "admin": "clinic admins",
}
ROLES: tuple[str, ...] = tuple(ROLE_PLURALS)

_N, _U, _T, _A = ROLES


def _rule(perm: Perm, what: str, *roles: str) -> Rule:
    return Rule(perm, what, frozenset(roles))


# The policy. Change a row here, in the README table, and in the expected matrix of
# tests/security/permission_matrix.py: the three are compared, so none can drift alone.
TABLE: tuple[Section, ...] = (
    Section(
        "Patients and the clinical record",
        (
            _rule(
                Perm.PATIENT_VIEW,
                "see the patients of their care teams (record, treatments, referrals, rehab, "
                "alerts)",
                _N,
                _U,
                _T,
            ),
            _rule(Perm.PATIENT_CREATE, "create a patient record", _N, _U),
            _rule(
                Perm.PATIENT_EDIT,
                "edit a patient's record (demographics, care team, named neurologist and "
                "nurse, allergies, comorbidities)",
                _N,
                _U,
            ),
            _rule(Perm.COURSE_RECORD, "record the disease course", _N),
            _rule(Perm.EDSS_RECORD, "record an EDSS assessment", _N, _U),
            _rule(Perm.RELAPSE_RECORD, "record a relapse", _N, _U),
            _rule(Perm.MRI_RECORD, "record an MRI study", _N, _U),
            _rule(
                Perm.BREAK_GLASS,
                "open a patient outside their care teams in an emergency (the user must also "
                "be pre-authorised)",
                _N,
                _U,
                _T,
            ),
            _rule(Perm.CASELOAD_VIEW, "use the caseload page", _N),
            _rule(
                Perm.FHIR_EXPORT,
                "export patient records as FHIR (one patient, or a care team in bulk) and hold "
                "an API token for it",
                _N,
                _U,
            ),
            _rule(
                Perm.RECORD_AMEND_OWN,
                "amend, or mark entered in error, a clinical record they recorded (with a reason)",
                _N,
                _U,
                _T,
            ),
            _rule(
                Perm.RECORD_AMEND_ANY,
                "amend, or mark entered in error, any clinical record of their care teams (with "
                "a reason)",
                _N,
            ),
        ),
    ),
    Section(
        "DMT plans",
        (
            _rule(Perm.PLAN_CREATE, "plan a DMT", _N),
            _rule(Perm.PLAN_START, "start a DMT whose baseline checks are complete", _N, _U),
            _rule(
                Perm.OVERRIDE_GATE,
                "override a clinical gate (start a DMT with baseline checks outstanding)",
                _N,
            ),
            _rule(Perm.BASELINE_TICK, "tick a baseline check as done", _N, _U),
            _rule(Perm.DOSE_RECORD, "record a dose, infusion or course", _N, _U),
            _rule(Perm.PLAN_SUSPEND, "suspend a DMT", _N),
            _rule(Perm.PLAN_RESUME, "resume a suspended DMT", _N),
            _rule(Perm.PLAN_STOP, "stop a DMT or abandon a plan", _N),
            _rule(Perm.PLAN_SWITCH, "switch a DMT to another drug", _N),
            _rule(Perm.PLAN_CONDITIONS, "change the conditions of a DMT plan", _N),
            _rule(
                Perm.HISTORY_RECORD,
                "record past therapy (a DMT started before Myelin, with its past doses and stop)",
                _N,
            ),
            _rule(
                Perm.FAMILY_PLAN_RECORD,
                "plan a conception around the DMT (and record teriflunomide elimination levels)",
                _N,
                _U,
            ),
            _rule(
                Perm.PREGNANCY_RECORD, "record a pregnancy, a delivery or a pregnancy loss", _N, _U
            ),
            _rule(
                Perm.TRANSPLANT_RECORD,
                "record a stem-cell transplant (which starts its post-transplant monitoring)",
                _N,
            ),
        ),
    ),
    Section(
        "Monitoring, results and safety",
        (
            _rule(Perm.WORKLIST_VIEW, "use the monitoring worklist", _N, _U),
            _rule(Perm.ITEM_BOOK, "book a monitoring test", _N, _U),
            _rule(Perm.ITEM_WAIVE, "waive a monitoring test with a reason", _N, _U),
            _rule(Perm.RESULT_RECORD, "record a result", _N, _U),
            _rule(Perm.RESULT_REVIEW, "mark a result as reviewed", _N, _U),
            _rule(Perm.SIDE_EFFECT_REPORT, "report a side effect", _N, _U),
            _rule(Perm.PML_INPUTS_EDIT, "change the PML risk inputs", _N, _U),
            _rule(Perm.SYMPTOMATIC_RECORD, "record a symptomatic or relapse treatment", _N, _U),
            _rule(Perm.SYMPTOMATIC_STOP, "stop a symptomatic or relapse treatment", _N, _U),
            _rule(
                Perm.LAB_REVIEW,
                "work the lab review queue (match a held result to its patient, or reject it)",
                _N,
                _U,
            ),
            _rule(
                Perm.QUESTIONNAIRE_SEND,
                "send a patient a questionnaire link (MSIS-29, MFIS, PHQ-9) and withdraw it",
                _N,
                _U,
                _T,
            ),
            _rule(
                Perm.QUALITY_VIEW,
                "see the quality dashboard (their teams; the clinic admin: the clinic, totals only)",
                _N,
                _U,
                _A,
            ),
            _rule(
                Perm.QUALITY_DRILLDOWN,
                "open the patients behind a quality figure",
                _N,
                _U,
            ),
            _rule(
                Perm.LAB_UPLOAD,
                "upload laboratory result files and read the lab message log",
                _N,
                _U,
                _A,
            ),
            _rule(
                Perm.TRIAGE_LOG,
                "log a relapse triage call and act on its outcome (book the urgent review, "
                "close the call)",
                _N,
                _U,
            ),
            _rule(
                Perm.INFUSION_CHECKLIST,
                "fill in an infusion day checklist and see the day's infusions",
                _N,
                _U,
            ),
        ),
    ),
    Section(
        "Alerts",
        (
            _rule(Perm.ALERT_SAFETY_ACKNOWLEDGE, "acknowledge a safety alert", _N, _U),
            _rule(Perm.ALERT_SAFETY_SNOOZE, "snooze a safety alert", _N, _U),
            _rule(Perm.ALERT_SAFETY_RESOLVE, "resolve a safety alert", _N, _U),
            _rule(Perm.ALERT_REFERRAL_ACKNOWLEDGE, "acknowledge a referral alert", _N, _U, _T),
            _rule(Perm.ALERT_REFERRAL_SNOOZE, "snooze a referral alert", _N, _U, _T),
            _rule(Perm.ALERT_REFERRAL_RESOLVE, "resolve a referral alert", _N, _U, _T),
            _rule(
                Perm.ALERT_BULK_ACKNOWLEDGE,
                "acknowledge several alerts at once (each still needs its family's right)",
                _N,
                _U,
                _T,
            ),
            _rule(
                Perm.NOTIFICATIONS_VIEW,
                "read the alert emails and digests sent to them, and set their digest",
                _N,
                _U,
                _T,
            ),
        ),
    ),
    Section(
        "Referrals and rehabilitation",
        (
            _rule(Perm.REFERRAL_SEND, "send a referral", _N, _U, _T),
            _rule(
                Perm.REFERRAL_RESPOND_OWN,
                "work referrals to their own service (a therapist's discipline, the MS nurse "
                "service): triage, accept, decline, schedule, start, complete",
                _U,
                _T,
            ),
            _rule(
                Perm.REFERRAL_RESPOND_EXTERNAL,
                "record the response of a service outside the team (ophthalmology, continence, "
                "...)",
                _N,
                _U,
            ),
            _rule(
                Perm.REFERRAL_CLOSE_OWN,
                "cancel a referral they sent, or acknowledge its summary",
                _N,
                _U,
                _T,
            ),
            _rule(
                Perm.REFERRAL_CLOSE_TEAM,
                "cancel any referral of their care teams, or acknowledge its summary",
                _N,
                _U,
            ),
            _rule(Perm.REHAB_SESSION_LOG, "log a rehab session", _T),
            _rule(Perm.THERAPY_PLAN_MANAGE, "create or end a therapy plan", _T),
        ),
    ),
    Section(
        "MDT meetings and supportive care",
        (
            _rule(
                Perm.MDT_MEETING_PLAN,
                "plan an MDT meeting of their care team (date, attendees)",
                _N,
                _U,
            ),
            _rule(
                Perm.MDT_CASE_ADD,
                "put a patient on an MDT meeting's list with a question",
                _N,
                _U,
                _T,
            ),
            _rule(
                Perm.MDT_OUTCOME_RECORD,
                "record an MDT discussion, decision and actions",
                _N,
                _U,
            ),
            _rule(Perm.MDT_ACTION_DONE, "mark an MDT action done", _N, _U, _T),
            _rule(
                Perm.SUPPORTIVE_CARE_EDIT,
                "set, review and close supportive care goals",
                _N,
                _U,
                _T,
            ),
        ),
    ),
    Section(
        "Running the clinic",
        (
            _rule(
                Perm.CATALOGUE_SETTINGS,
                "change the catalogue settings (label region, review interval, go-live date, "
                "default reference ranges, local laboratory codes)",
                _A,
            ),
            _rule(Perm.REFERRAL_TARGETS, "set the referral response targets", _A),
            _rule(Perm.USER_MANAGE, "manage users, roles and care teams", _A),
            _rule(Perm.AUDIT_VIEW, "read and export the audit trail", _A),
            _rule(Perm.SYSTEM_STATUS_VIEW, "see the system status", _A),
            _rule(
                Perm.GOLIVE_IMPORT,
                "import patients and their DMT history at go-live (CSV)",
                _A,
            ),
        ),
    ),
)

RULES: dict[Perm, Rule] = {rule.perm: rule for section in TABLE for rule in section.rules}

# The same table by role: role → the capabilities it has.
ALLOWED: Mapping[str, frozenset[Perm]] = {
    role: frozenset(rule.perm for rule in RULES.values() if role in rule.roles) for role in ROLES
}


# ---------------------------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------------------------


class CapabilityDenied(PermissionDenied):
    """Refused by the table. Its message names who may, and is safe to show (no patient data);
    the 403 page shows it."""


def may(user: Any, perm: Perm) -> bool:
    """Whether `user` (any user object, anonymous included) has `perm` by their role."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return False
    return perm in ALLOWED.get(getattr(user, "role", ""), frozenset())


def may_any(user: Any, perms: Iterable[Perm]) -> bool:
    return any(may(user, perm) for perm in perms)


def _people(roles: Iterable[str]) -> str:
    names = [ROLE_PLURALS[role] for role in ROLES if role in set(roles)]
    if not names:
        return "nobody"
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " and " + names[-1]


def denial(perm: Perm) -> str:
    """The refusal for `perm`, from the table: "Only neurologists may plan a DMT." """
    rule = RULES[perm]
    return f"Only {_people(rule.roles)} may {rule.what}."


def ensure(user: User, perm: Perm) -> None:
    """For services: refuse (CapabilityDenied) unless `user` has `perm`."""
    if not may(user, perm):
        raise CapabilityDenied(denial(perm))


def requires(
    *perms: Perm, what: str = "", post: Perm | None = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A view decorator: 403 (with the table's message) unless the user has one of `perms`.

    With several capabilities the view checks which one applies to its object itself (an alert's
    family, a referral's side); `what` then words the refusal. `post` is what a POST needs on
    top, for a page that shows something to many and changes it for fewer (the side-effect
    list, the PML inputs). What a view declared is kept on it (`view.capabilities`,
    `view.post_capability`), so the access matrix can find a route that declares nothing."""
    if not perms:
        raise ImproperlyConfigured("requires() needs at least one capability")
    if len(perms) > 1 and not what:
        raise ImproperlyConfigured("requires() with several capabilities needs `what`")
    message = (
        denial(perms[0])
        if len(perms) == 1
        else f"Only {_people(set().union(*(RULES[p].roles for p in perms)))} may {what}."
    )

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not may_any(request.user, perms):
                raise CapabilityDenied(message)
            if post is not None and request.method == "POST":
                ensure(request.user, post)  # type: ignore[arg-type]
            return view(request, *args, **kwargs)

        wrapped.capabilities = frozenset(perms)  # type: ignore[attr-defined]
        wrapped.post_capability = post  # type: ignore[attr-defined]
        return wrapped

    return decorator


def capabilities_of(view: Callable[..., Any], method: str = "GET") -> frozenset[Perm] | None:
    """What a (decorated) view declared with `requires` for a request of `method` (any one of
    the set suffices), or None if it declared nothing."""
    declared: frozenset[Perm] | None = getattr(view, "capabilities", None)
    post: Perm | None = getattr(view, "post_capability", None)
    if declared is not None and method == "POST" and post is not None:
        return frozenset({post})
    return declared


class Can:
    """Templates ask `{% if can.patient_create %}`. An unknown name is an error, not a silent
    "no": a typo must not hide a button for everyone (or show one)."""

    def __init__(self, user: Any) -> None:
        self._user = user

    def __getitem__(self, name: str) -> bool:
        try:
            perm = Perm(name)
        except ValueError:
            raise ImproperlyConfigured(f"No capability named {name!r}") from None
        return may(self._user, perm)

    def __getattr__(self, name: str) -> bool:
        if name.startswith("_"):
            raise AttributeError(name)
        return self[name]
