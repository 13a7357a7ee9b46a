"""The role policy as the tests expect it, written out by hand: capability → who may.

Deliberately a second copy of clinic.permissions.TABLE. Changing who may do something means
changing the table, the README and this matrix; the tests compare all three, so a one-line slip
in the table (a therapist given `alert_safety_resolve`) fails here instead of reaching a ward.
Columns: N neurologist, U MS nurse, T therapist, A clinic admin.
"""

from __future__ import annotations

ROLE_COLUMNS = {"N": "neurologist", "U": "nurse", "T": "therapist", "A": "admin"}

EXPECTED: dict[str, str] = {
    # Patients and the clinical record
    "patient_view": "N U T",
    "patient_create": "N U",
    "patient_edit": "N U",
    "course_record": "N",
    "edss_record": "N U",
    "relapse_record": "N U",
    "mri_record": "N U",
    "break_glass": "N U T",
    "caseload_view": "N",
    "fhir_export": "N U",
    "record_amend_own": "N U T",
    "record_amend_any": "N",
    # DMT plans
    "plan_create": "N",
    "plan_start": "N U",
    "override_gate": "N",
    "baseline_tick": "N U",
    "dose_record": "N U",
    "plan_suspend": "N",
    "plan_resume": "N",
    "plan_stop": "N",
    "plan_switch": "N",
    "plan_conditions": "N",
    "history_record": "N",
    "family_plan_record": "N U",
    "pregnancy_record": "N U",
    "transplant_record": "N",
    # Monitoring, results and safety
    "worklist_view": "N U",
    "item_book": "N U",
    "item_waive": "N U",
    "result_record": "N U",
    "result_review": "N U",
    "side_effect_report": "N U",
    "pml_inputs_edit": "N U",
    "symptomatic_record": "N U",
    "symptomatic_stop": "N U",
    "lab_review": "N U",
    "questionnaire_send": "N U T",
    "quality_view": "N U A",
    "quality_drilldown": "N U",
    "lab_upload": "N U A",
    "triage_log": "N U",
    "infusion_checklist": "N U",
    # Alerts
    "alert_safety_acknowledge": "N U",
    "alert_safety_snooze": "N U",
    "alert_safety_resolve": "N U",
    "alert_referral_acknowledge": "N U T",
    "alert_referral_snooze": "N U T",
    "alert_referral_resolve": "N U T",
    "alert_bulk_acknowledge": "N U T",
    "notifications_view": "N U T",
    # Referrals and rehabilitation
    "referral_send": "N U T",
    "referral_respond_own": "U T",
    "referral_respond_external": "N U",
    "referral_close_own": "N U T",
    "referral_close_team": "N U",
    "rehab_session_log": "T",
    "therapy_plan_manage": "T",
    # MDT meetings and supportive care
    "mdt_meeting_plan": "N U",
    "mdt_case_add": "N U T",
    "mdt_outcome_record": "N U",
    "mdt_action_done": "N U T",
    "supportive_care_edit": "N U T",
    # Running the clinic
    "catalogue_settings": "A",
    "referral_targets": "A",
    "user_manage": "A",
    "audit_view": "A",
    "system_status_view": "A",
    "golive_import": "A",
}


def expected_roles(capability: str) -> set[str]:
    return {ROLE_COLUMNS[letter] for letter in EXPECTED[capability].split()}


def expected_allowed(role: str, capabilities: frozenset[str] | set[str]) -> bool:
    """A view that needs any one of `capabilities` is open to `role`."""
    return any(role in expected_roles(str(c)) for c in capabilities)
