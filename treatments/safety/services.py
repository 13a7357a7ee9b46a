"""Safety workflows: side-effect reports and natalizumab PML risk, with the alerts they raise.

Every function is keyword-only, runs in one transaction and writes its audit entry; bad input is
refused with `SafetyError`, which names the form field it belongs to.

Grades (documented choices, §0.3):

* A side effect of CTCAE grade 3 or more, or one marked serious, is CRITICAL (owned by the
  neurologist, emailed at once). Grade 2 is a WARNING and grade 1 INFO; both go to the
  neurologist too, because what to do about a drug's side effect is the prescriber's decision.
* A PML category change is graded by `PmlRisk.grade` (§4.2). The first category a plan gets is
  recorded silently when it is INFO (a JCV-negative start is not news) and alerts otherwise
  (a patient who starts at high risk must be noticed). The key `pml:plan:<id>:category:<new>`
  means one alert per category per plan: returning to a category already alerted raises nothing.
"""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from clinic.accounts.models import User
from clinic.audit import services as audit
from clinic.audit.models import Action, Category
from clinic.permissions import Perm, ensure
from patients.models import Patient
from treatments.alerts.services import AlertSpec, raise_alerts
from treatments.models import (
    CURRENT_STATUSES,
    AdministrationKind,
    AlertGrade,
    AlertKind,
    DmtAdministration,
    DmtPlan,
    PlanStatus,
    PmlCategoryChange,
    PmlProfile,
    PriorImmunosuppressant,
    Result,
    SideEffectAction,
    SideEffectReport,
)
from treatments.safety import pml
from treatments.safety.signals import pml_surveillance_changed

logger = logging.getLogger("myelin.safety")

NATALIZUMAB_PREFIX = "natalizumab"


class SafetyError(ValueError):
    """A refused request; `field` names the form field. `confirm` names a checkbox the user may
    tick to save anyway (a plausibility warning, not a rule)."""

    def __init__(self, message: str, *, field: str | None = None, confirm: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.confirm = confirm


# ---------------------------------------------------------------------------------------------
# Side-effect reports
# ---------------------------------------------------------------------------------------------
def side_effect_grade(report: SideEffectReport) -> str:
    if report.is_severe:
        return AlertGrade.CRITICAL
    return AlertGrade.WARNING if report.ctcae_grade == 2 else AlertGrade.INFO


def report_side_effect(
    *,
    patient: Patient,
    plan: DmtPlan | None,
    effect: str,
    effect_other: str,
    onset_on: date,
    ctcae_grade: int,
    serious: bool,
    action_taken: str,
    notes: str,
    by: User,
    onset_before_start_confirmed: bool = False,
) -> SideEffectReport:
    """Record a side effect on the patient (and the drug), and raise its alert."""
    ensure(by, Perm.SIDE_EFFECT_REPORT)
    with transaction.atomic():
        report = create_side_effect_report(
            patient=patient,
            plan=plan,
            effect=effect,
            effect_other=effect_other,
            onset_on=onset_on,
            ctcae_grade=ctcae_grade,
            serious=serious,
            action_taken=action_taken,
            notes=notes,
            by=by,
            onset_before_start_confirmed=onset_before_start_confirmed,
        )
        audit.record(
            user=by,
            patient=patient,
            action=Action.CREATE,
            category=Category.TREATMENT,
            obj=report,
            detail=f"side effect grade {ctcae_grade}",
        )
    return report


CONFIRM_ONSET = "onset_before_start_confirmed"


def create_side_effect_report(
    *,
    patient: Patient,
    plan: DmtPlan | None,
    effect: str,
    effect_other: str,
    onset_on: date,
    ctcae_grade: int,
    serious: bool,
    action_taken: str,
    notes: str,
    by: User,
    onset_before_start_confirmed: bool = False,
    amends: SideEffectReport | None = None,
) -> SideEffectReport:
    """Validate and save a report and raise its alert (shared by reporting and amending; no
    permission check, no audit). An onset before the drug was started is saved only once the
    reporter confirms it (an effect of the previous drug, or a date typed wrong?)."""
    effect, effect_other = effect.strip(), effect_other.strip()
    if onset_on > timezone.localdate():
        raise SafetyError("The onset date cannot be in the future.", field="onset_on")
    if not 1 <= ctcae_grade <= 5:
        raise SafetyError("The CTCAE grade is 1 to 5.", field="ctcae_grade")
    if not effect and not effect_other:
        raise SafetyError("Choose a listed side effect or describe it.", field="effect_other")
    if plan is not None and plan.patient_id != patient.pk:
        raise SafetyError("This DMT plan belongs to another patient.", field="plan")
    if action_taken not in SideEffectAction.values:
        raise SafetyError("Choose what was done.", field="action_taken")
    started = plan.started_on if plan is not None else None
    if started is not None and onset_on < started and not onset_before_start_confirmed:
        raise SafetyError(
            f"The onset ({onset_on:%d %b %Y}) is before {plan.drug_name} was started "  # type: ignore[union-attr]
            f"({started:%d %b %Y}). Check the date; if it is right, confirm below to save it.",
            field="onset_on",
            confirm=CONFIRM_ONSET,
        )
    with transaction.atomic():
        report = SideEffectReport.objects.create(
            patient=patient,
            plan=plan,
            drug_name=plan.drug_name if plan else "",
            effect=effect[:200],
            effect_other=effect_other[:200],
            onset_on=onset_on,
            ctcae_grade=ctcae_grade,
            serious=serious,
            action_taken=action_taken,
            notes=notes.strip(),
            reported_by=by,
            amends=amends,
        )
        raise_alerts([side_effect_alert(report)])
    return report


def side_effect_alert(report: SideEffectReport) -> AlertSpec:
    drug = f" on {report.drug_name}" if report.drug_name else ""
    serious = ", serious" if report.serious else ""
    return AlertSpec(
        patient_id=report.patient_id,
        kind=AlertKind.SIDE_EFFECT,
        grade=side_effect_grade(report),
        condition_key=f"side_effect:report:{report.pk}",
        title=f"Side effect{drug}: {report.description} (grade {report.ctcae_grade}{serious})"[
            :200
        ],
        detail=(
            f"Onset {report.onset_on:%d %b %Y}. Action taken: "
            f"{report.get_action_taken_display().lower()}. {report.notes}"
        ).strip(),
        action="Review the report; decide whether to continue, interrupt or stop the drug.",
        source="Side-effect report (CTCAE v5 grade)",
        raised_by_type="treatments.sideeffectreport",
        raised_by_id=str(report.pk),
        ctcae_grade=report.ctcae_grade,
    )


# ---------------------------------------------------------------------------------------------
# Natalizumab PML risk
# ---------------------------------------------------------------------------------------------
def is_natalizumab(plan: DmtPlan) -> bool:
    return plan.drug_key.startswith(NATALIZUMAB_PREFIX)


def exposure_months(plan: DmtPlan, on: date) -> int | None:
    """Whole months on natalizumab from the first dose to `on` (or to the stop)."""
    if plan.started_on is None:
        return 0 if plan.status == PlanStatus.PLANNED else None
    end = min(on, plan.stopped_on) if plan.stopped_on else on
    months = (end.year - plan.started_on.year) * 12 + end.month - plan.started_on.month
    if end.day < plan.started_on.day:
        months -= 1
    return max(0, months)


def jcv_results(patient_id: int) -> list[pml.JcvResult]:
    readings: list[pml.JcvResult] = []
    for result_id, taken_on, qualitative, index in (
        Result.objects.standing()
        .filter(patient_id=patient_id, investigation="jcv_antibody")
        .values_list("pk", "taken_on", "qualitative", "index_value")
    ):
        status = qualitative if qualitative in ("positive", "negative") else None
        if status is None and index is None:
            continue
        try:
            readings.append(
                pml.JcvResult(
                    tested_on=taken_on,
                    index=Decimal(index) if index is not None else None,
                    status=pml.JcvReading(status) if status else None,
                )
            )
        except ValueError:
            # A status contradicting its index: left out of the assessment, kept in the record.
            logger.warning("JCV result %s has a status that contradicts its index", result_id)
    return readings


def natalizumab_exposure(plan: DmtPlan, on: date) -> tuple[int | None, int]:
    """(months, infusions) of natalizumab up to `on`, over all the patient's natalizumab plans
    (§4.1.2: exposure is cumulative, so a course stopped years ago still counts), by the real
    dates: each plan from its first dose to its stop, and the infusions given on or before `on`
    (a history entered afterwards has its real dates too). Two queries."""
    plans = [
        p
        for p in DmtPlan.objects.filter(
            patient_id=plan.patient_id,
            drug_key__startswith=NATALIZUMAB_PREFIX,
            started_on__isnull=False,
            started_on__lte=on,
        )
        if p.pk != plan.pk
    ]
    own = exposure_months(plan, on)
    months = None if own is None else own + sum(exposure_months(p, on) or 0 for p in plans)
    infusions = (
        DmtAdministration.objects.standing()
        .filter(
            plan_id__in=[plan.pk, *(p.pk for p in plans)],
            kind=AdministrationKind.DOSE,
            given_on__lte=on,
        )
        .count()
    )
    return months, infusions


def assess_plan(plan: DmtPlan, profile: PmlProfile, *, on: date) -> pml.PmlRisk:
    months, infusions = natalizumab_exposure(plan, on)
    return pml.assess_pml_risk(
        jcv_results=jcv_results(plan.patient_id),
        prior_immunosuppressant=profile.prior_is,
        exposure_months=months,
        infusions=infusions,
        extended_interval_dosing=profile.extended_interval_dosing,
    )


def reassess_pml_risk(
    *, plan: DmtPlan, reason: str, on: date | None = None, by: User | None = None
) -> PmlProfile:
    """Recompute the plan's PML category; record and alert a change. Idempotent."""
    on = on or timezone.localdate()
    with transaction.atomic():
        profile, _ = PmlProfile.objects.get_or_create(plan=plan)
        profile = PmlProfile.objects.select_for_update().get(pk=profile.pk)
        risk = assess_plan(plan, profile, on=on)
        previous = profile.category
        profile.category = risk.category
        profile.label = risk.label
        profile.grade = risk.grade.lower()
        profile.mri_interval_months = risk.mri_interval_months
        profile.jcv_retest_months = risk.jcv_retest_months
        surveillance_changed = profile.schedule_condition != risk.schedule_condition
        if surveillance_changed:
            profile.schedule_condition = risk.schedule_condition
            profile.schedule_condition_since = on if risk.schedule_condition else None
        profile.estimated_risk_per_1000 = risk.estimated_risk_per_1000[:40]
        profile.exposure_months = risk.exposure_months
        profile.index_used = risk.index_used
        profile.explanation = risk.explanation
        profile.source = risk.source[:200]
        profile.assessed_on = on
        profile.save()
        if previous != risk.category:
            PmlCategoryChange.objects.create(
                plan=plan,
                category=risk.category,
                previous_category=previous,
                label=risk.label[:200],
                grade=risk.grade.lower(),
                mri_interval_months=risk.mri_interval_months,
                changed_on=on,
                reason=reason[:300],
            )
            audit.record(
                user=by,
                patient=plan.patient_id,
                action=Action.UPDATE,
                category=Category.TREATMENT,
                obj=profile,
                detail=f"PML category {risk.category}",
            )
            if previous or risk.grade != pml.INFO:
                raise_alerts([pml_alert(plan, risk, previous=previous, reason=reason)])
        if surveillance_changed and plan.started_on is not None:
            # The category sets the MRI the worklist schedules, not only the panel's text: the
            # plan's schedule re-synchronises it (a change nobody received is an error).
            resynced = pml_surveillance_changed.send(sender=PmlProfile, plan=plan, on=on)
            if not resynced:
                raise RuntimeError("Nothing re-synchronised the plan's monitoring.")
    return profile


def pml_alert(plan: DmtPlan, risk: pml.PmlRisk, *, previous: str, reason: str) -> AlertSpec:
    mri = (
        f"Surveillance MRI every {risk.mri_interval_months} months."
        if risk.mri_interval_months
        else "Surveillance MRI interval cannot be set until the missing data are recorded."
    )
    was = f" (was: {pml.CATEGORIES.get(previous, previous)})" if previous else ""
    return AlertSpec(
        patient_id=plan.patient_id,
        kind=AlertKind.PML_RISK,
        grade=AlertGrade(risk.grade.lower()),
        condition_key=f"pml:plan:{plan.pk}:category:{risk.category}",
        title=f"PML risk on {plan.drug_name}: {risk.label}"[:200],
        detail=f"{reason}{was}. {risk.explanation} {mri}",
        action=mri,
        source=risk.source,
        raised_by_type="treatments.dmtplan",
        raised_by_id=str(plan.pk),
    )


def natalizumab_plan(patient_id: int) -> DmtPlan | None:
    """The patient's current (else planned) natalizumab plan."""
    plans = DmtPlan.objects.filter(
        patient_id=patient_id, drug_key__startswith=NATALIZUMAB_PREFIX
    ).exclude(status=PlanStatus.STOPPED)
    return plans.filter(status__in=CURRENT_STATUSES).first() or plans.first()


def reassess_pml_for_patient(*, patient_id: int, reason: str) -> PmlProfile | None:
    plan = natalizumab_plan(patient_id)
    if plan is None:
        return None
    return reassess_pml_risk(plan=plan, reason=reason)


def reassess_all_pml_risk(*, on: date | None = None) -> int:
    """Daily: every current natalizumab plan (exposure grows with time). Returns the changes."""
    on = on or timezone.localdate()
    changed = 0
    for plan in DmtPlan.objects.current().filter(drug_key__startswith=NATALIZUMAB_PREFIX):
        before = PmlProfile.objects.filter(plan=plan).values_list("category", flat=True).first()
        try:
            profile = reassess_pml_risk(plan=plan, reason="Daily reassessment", on=on)
        except ValueError:
            logger.exception("PML reassessment of plan %s failed", plan.pk)
            continue
        changed += int(profile.category != before)
    return changed


def update_pml_inputs(
    *,
    plan: DmtPlan,
    prior_immunosuppressant: str,
    extended_interval_dosing: bool,
    by: User,
) -> PmlProfile:
    """A clinician records the inputs that are not results; the category is recomputed."""
    ensure(by, Perm.PML_INPUTS_EDIT)
    if not is_natalizumab(plan):
        raise SafetyError("PML risk is stratified for natalizumab plans only.")
    if prior_immunosuppressant not in PriorImmunosuppressant.values:
        raise SafetyError("Choose yes, no or not recorded.", field="prior_immunosuppressant")
    with transaction.atomic():
        profile, _ = PmlProfile.objects.get_or_create(plan=plan)
        profile.prior_immunosuppressant = prior_immunosuppressant
        profile.extended_interval_dosing = extended_interval_dosing
        profile.save(
            update_fields=["prior_immunosuppressant", "extended_interval_dosing", "updated_at"]
        )
        audit.record(
            user=by,
            patient=plan.patient_id,
            action=Action.UPDATE,
            category=Category.TREATMENT,
            obj=profile,
            detail="PML risk inputs",
        )
        label = PriorImmunosuppressant(prior_immunosuppressant).label.lower()
        return reassess_pml_risk(
            plan=plan, reason=f"Prior immunosuppressant recorded as {label}", by=by
        )
