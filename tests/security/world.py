"""One of everything, for patient A (team A) and patient B (team B), to walk every URL with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from patients.mdt import services as mdt
from patients.referrals import services as referral_services
from tests.labimport.messages import lft_panel, oru
from treatments.alerts import services as alerts
from treatments.labimport.services import receive
from treatments.models import Alert, AlertGrade, AlertKind, Channel, InfusionVisit
from treatments.models.monitoring import ItemStatus, MonitoringItem
from treatments.models.results import Result
from treatments.plans.services import plan_dmt
from treatments.pro.services import create_link
from treatments.supportive import services as supportive
from treatments.symptomatic.services import record_symptomatic_treatment
from treatments.triage.services import CallReport, log_call


@dataclass
class Side:
    patient: Any
    plan: Any
    item: Any
    result: Any
    treatment: Any
    referral: Any
    alert: Any
    review: Any
    link: Any
    call: Any
    visit: Any
    # MDT meeting of the patient's team, the patient's case on it and an action; a supportive
    # care goal.
    meeting: Any = None
    mdt_case: Any = None
    mdt_action: Any = None
    goal: Any = None

    def kwargs(self) -> dict[str, Any]:
        return {
            "external_id": self.patient.external_id,
            "plan_id": self.plan.pk,
            "item_id": self.item.pk,
            "result_id": self.result.pk,
            "treatment_id": self.treatment.pk,
            "referral_id": self.referral.external_id,
            "alert_id": self.alert.pk,
            "review_id": self.review.pk,
            "link_id": self.link.pk,
            "call_id": self.call.pk,
            "visit_id": self.visit.pk,
            "step": "close",
            "action": "triage",
            "key": "safety-panel",
            # The correction pages, walked on the result (recorded by the team's clinician).
            "kind": "result",
            "record_id": self.result.pk,
            "drug_key": "ocrelizumab_iv",
            "meeting_id": self.meeting.pk,
            "case_id": self.mdt_case.pk,
            "action_id": self.mdt_action.pk,
            "goal_id": self.goal.pk,
        }


def build_side(patient: Any, clinician: Any, tag: str) -> Side:
    today = timezone.localdate()
    plan = plan_dmt(
        patient=patient,
        drug_key="ocrelizumab_iv",
        by=clinician,
        planned_on=today - timedelta(days=30),
    )
    item = MonitoringItem.objects.create(
        patient=patient,
        plan=plan,
        protocol_version=plan.protocol_version,
        rule_key=f"security.{tag}",
        investigation="lft",
        due_on=today - timedelta(days=20),
        window_opens_on=today - timedelta(days=27),
        window_closes_on=today - timedelta(days=13),
        anchor="first_dose",
        anchor_on=today - timedelta(days=30),
        occurrence=0,
        status=ItemStatus.SCHEDULED,
        explanation="Liver tests (security walk)",
    )
    result = Result.objects.create(
        patient=patient, investigation="lft", taken_on=today, recorded_by=clinician
    )
    treatment = record_symptomatic_treatment(
        patient=patient,
        kind="symptomatic",
        drug="Baclofen",
        indication="spasticity",
        dose="10 mg",
        started_on=today - timedelta(days=10),
        stopped_on=None,
        note="",
        by=clinician,
    )
    referral = referral_services.send_referral(
        patient=patient,
        discipline="physiotherapy",
        urgency="routine",
        reason="Walking worse",
        by=clinician,
    )
    alerts.raise_alerts(
        [
            alerts.AlertSpec(
                patient_id=patient.pk,
                kind=AlertKind.OVERDUE_MONITORING,
                grade=AlertGrade.WARNING,
                condition_key=f"security:{tag}",
                title="Liver tests overdue",
            )
        ]
    )
    alert = Alert.objects.get(condition_key=f"security:{tag}")
    # A lab message for this patient whose date of birth does not match: held for review,
    # with the patient as the candidate.
    held = receive(
        text=oru(*lft_panel(), mrn=patient.mrn, born="19000101", control_id=f"SEC-{tag}"),
        channel=Channel.UPLOAD,
        by=clinician,
    )
    review = held.outcomes[0].message.review
    link = create_link(patient=patient, keys=["msis29", "mfis"], by=clinician)
    call = log_call(
        patient=patient,
        report=CallReport(onset_on=today, duration_hours=2, symptoms="Numb left hand"),
        called_at=timezone.now(),
        by=clinician,
    )
    visit = InfusionVisit.objects.create(
        patient=patient, plan=plan, infusion_on=today, created_by=clinician
    )
    meeting = mdt.plan_meeting(
        care_team=patient.care_team,
        held_on=today - timedelta(days=1),
        title="MDT",
        attendees=[clinician],
        by=clinician,
    )
    mdt_case = mdt.add_case(meeting=meeting, patient=patient, question="Escalate?", by=clinician)
    # Decided, so every page that shows a case shows its decision (and a poisoned decision still
    # has who and when, as the table requires).
    mdt_case = mdt.record_outcome(
        case=mdt_case, discussion="New lesions", decision="Escalate therapy", by=clinician
    )
    mdt_action = mdt.add_action(
        case=mdt_case,
        description="Book MRI",
        assigned_to=clinician,
        due_on=today + timedelta(days=7),
        by=clinician,
    )
    goal = supportive.set_goal(
        patient=patient,
        area="exercise",
        goal="Walk 20 minutes a day",
        owner=clinician,
        started_on=today,
        review_on=today + timedelta(days=30),
        by=clinician,
    )
    return Side(
        patient,
        plan,
        item,
        result,
        treatment,
        referral,
        alert,
        review,
        link,
        call,
        visit,
        meeting,
        mdt_case,
        mdt_action,
        goal,
    )


def all_routes() -> list[tuple[str, URLPattern]]:
    """Every named route of the app."""

    def walk(patterns: list[Any], namespace: str | None) -> list[tuple[str, URLPattern]]:
        found: list[tuple[str, URLPattern]] = []
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                ns = pattern.namespace or namespace
                found += walk(pattern.url_patterns, ns)
            elif pattern.name:
                found.append(
                    (f"{namespace}:{pattern.name}" if namespace else pattern.name, pattern)
                )
        return found

    return walk(get_resolver().url_patterns, None)


def today() -> date:
    return timezone.localdate()
