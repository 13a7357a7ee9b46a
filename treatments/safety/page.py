"""What safety contributes to the patient page: side-effect timeline events and a panel with
the next dose's gates, the natalizumab PML category and recent side effects.

Each source runs a fixed number of queries whatever the patient's history (patients.records.timeline).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.urls import reverse

from patients.records.timeline import Panel, TimelineEvent, correction_line

if TYPE_CHECKING:
    from django.http import HttpRequest

    from patients.models import Patient


def side_effect_timeline(patient: Patient) -> Iterable[TimelineEvent]:
    from treatments.models import SideEffectReport

    url = reverse("safety:side_effects", kwargs={"external_id": patient.external_id})
    reports = SideEffectReport.objects.filter(patient=patient).select_related("corrected_by")
    for report in reports:
        serious = ", serious" if report.serious else ""
        drug = f" on {report.drug_name}" if report.drug_name else ""
        yield TimelineEvent(
            report.onset_on,
            "side-effect",
            f"Side effect{drug}: {report.description}",
            f"CTCAE grade {report.ctcae_grade}{serious}; {report.get_action_taken_display()}",
            url,
            correction=correction_line(report),
        )


def safety_panel(request: HttpRequest, patient: Patient) -> Panel:
    from treatments.models import DmtPlan, PlanStatus, PmlProfile, SideEffectReport
    from treatments.safety.gates import gate_status

    plans = list(
        DmtPlan.objects.filter(patient=patient)
        .exclude(status=PlanStatus.STOPPED)
        .select_related("protocol_version")
    )
    gate_plan = next((p for p in plans if p.is_current), None) or next(iter(plans), None)
    pml_plan = next((p for p in plans if p.drug_key.startswith("natalizumab")), None)
    if gate_plan is not None:
        gate_plan.patient = patient  # gate_status reads the patient's sex; no extra query
    context = {
        "panel_patient": patient,
        "panel_gate_plan": gate_plan,
        "panel_gates": gate_status(gate_plan) if gate_plan else [],
        "panel_pml_plan": pml_plan,
        "panel_pml": PmlProfile.objects.filter(plan=pml_plan).first() if pml_plan else None,
        "panel_reports": list(SideEffectReport.objects.standing().filter(patient=patient)[:3]),
    }
    return Panel(template="treatments/side_effects.html#safety-panel", context=context)
