"""The patient summary for a clinic letter: what a neurologist writes at the top of a letter,
read from the records (a fixed number of queries, whatever the history)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from patients.models import EdssAssessment, MriStudy, Patient, Relapse
from patients.records.services import clinical_history
from treatments.models import ACTIVE_STATUSES, CURRENT_STATUSES, Alert, DmtPlan, MonitoringItem

RECENT_YEARS = 2


@dataclass
class PatientSummary:
    patient: Patient
    on: date
    age: int
    plan: DmtPlan | None
    last_edss: EdssAssessment | None
    relapses: list[Relapse] = field(default_factory=list)
    mri: list[MriStudy] = field(default_factory=list)
    open_items: list[MonitoringItem] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)

    @property
    def since(self) -> date:
        return _years_before(self.on, RECENT_YEARS)


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def patient_summary(*, patient: Patient, on: date) -> PatientSummary:
    history = clinical_history(patient)
    since = _years_before(on, RECENT_YEARS)
    plan = (
        DmtPlan.objects.filter(patient=patient, status__in=CURRENT_STATUSES)
        .order_by("-started_on")
        .first()
    )
    items = list(MonitoringItem.objects.filter(patient=patient).open().order_by("due_on", "id"))
    MonitoringItem.annotate_status(items, on)
    alerts = list(
        Alert.objects.filter(patient=patient, status__in=ACTIVE_STATUSES).order_by("-created_at")
    )
    return PatientSummary(
        patient=patient,
        on=on,
        age=patient.age_on(on),
        plan=plan,
        last_edss=history.latest_edss,
        relapses=[r for r in history.relapses if r.onset_on >= since],
        mri=[m for m in history.mri if m.study_on >= since],
        open_items=items,
        alerts=alerts,
    )
