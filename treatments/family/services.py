"""Family planning and pregnancy: the conception planner over the current DMT, teriflunomide's
elimination levels, pregnancies and their end, and the monitoring a pregnancy defers.

The rules are the catalogue's (treatments.protocols.family); these workflows store the dated
events, keep the patient record's pregnancy status in step (so the label gates that refuse a
drug in pregnancy see it), and write their audit entries. Every function is keyword-only, runs
in one transaction, and refuses bad input with `TreatmentError` naming its form field.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone

from clinic.audit import services as audit
from clinic.audit.models import Action, Category
from clinic.permissions import Perm, ensure
from patients.models import Patient, PregnancyStatus
from treatments.errors import TreatmentError
from treatments.models import (
    DmtAdministration,
    DmtPlan,
    EliminationLevel,
    FamilyPlan,
    ItemStatus,
    MonitoringItem,
    Pregnancy,
    PregnancyOutcome,
)
from treatments.plans.schedule import close_item_alerts
from treatments.protocols import family as rules
from treatments.protocols import family_dates

if TYPE_CHECKING:
    from clinic.accounts.models import User

# A plasma level above this is a typo, not a patient (steady state on 14 mg is about 30-60 mg/L).
LEVEL_CEILING_MG_L = Decimal("200")


def _editable(patient: Patient, by: User) -> None:
    # Emergency access to a patient is read-only: it records nothing.
    if not Patient.objects.editable_by(by).filter(pk=patient.pk).exists():
        raise TreatmentError("This patient is not in your care teams.")


def _first_problem(problems: dict[str, str]) -> None:
    for field, message in problems.items():
        raise TreatmentError(message, field=field)


def _set_pregnancy_status(patient: Patient, status: str, *, by: User, why: str) -> None:
    if patient.pregnancy_status == status:
        return
    patient.pregnancy_status = status
    patient.save(update_fields=["pregnancy_status", "updated_at"])
    audit.record(
        user=by,
        patient=patient,
        action=Action.UPDATE,
        category=Category.FAMILY_PLANNING,
        obj=patient,
        detail=f"pregnancy status {status} ({why})",
    )


# --- the DMT the rules are read for ----------------------------------------------------------------


def dmt_for_planning(patient: Patient) -> DmtPlan | None:
    """The DMT a plan is made against: the current one, else the one most recently stopped
    (stopped for the pregnancy, it is the one to restart after the delivery)."""
    plans = DmtPlan.objects.filter(patient=patient, started_on__isnull=False).select_related(
        "protocol_version"
    )
    current = next((p for p in plans if p.is_current), None)
    if current is not None:
        return current
    return max(plans, key=lambda p: (p.stopped_on or date.min, p.pk), default=None)


def rule_for(plan: DmtPlan | None) -> rules.FamilyRule | None:
    """The catalogue's rule for the plan's drug, named as the plan names it."""
    if plan is None:
        return None
    rule = rules.family_rule(plan.drug_key, plan.protocol_version.region)
    return dataclasses.replace(rule, drug_name=plan.drug_name) if rule is not None else None


def _last_dose_on(plan: DmtPlan) -> date | None:
    return (
        DmtAdministration.objects.filter(plan=plan)
        .order_by("-given_on")
        .values_list("given_on", flat=True)
        .first()
    )


@dataclass(frozen=True)
class Planner:
    """Everything the family-planning page shows for one patient."""

    plan: DmtPlan | None
    rule: rules.FamilyRule | None
    family_plan: FamilyPlan | None
    advice: rules.ConceptionAdvice | None
    levels: list[EliminationLevel]
    elimination_confirmed_on: date | None
    ongoing: Pregnancy | None
    restart: tuple[rules.Step, ...]
    delivered: Pregnancy | None

    @property
    def needs_levels(self) -> bool:
        return (
            self.rule is not None
            and self.rule.before == rules.BeforeConception.ACCELERATED_ELIMINATION
            and self.family_plan is not None
        )


def planner(*, patient: Patient, today: date) -> Planner:
    """The planner: what to do before the intended conception, and after the last delivery.
    A fixed number of queries whatever the history."""
    plan = dmt_for_planning(patient)
    rule = rule_for(plan)
    family_plan = FamilyPlan.objects.filter(patient=patient, closed_on__isnull=True).first()
    levels = list(EliminationLevel.objects.filter(family_plan=family_plan)) if family_plan else []
    confirmed = rules.elimination_confirmed_on(
        [(level.taken_on, float(level.value_mg_l)) for level in levels]
    )
    advice = None
    if family_plan is not None:
        advice = rules.plan_conception(
            rule if plan is not None and plan.is_current else None,
            conceive_on=family_plan.intended_conception_on,
            today=today,
            last_dose_on=_last_dose_on(plan) if plan is not None and plan.is_current else None,
            confirmed_on=confirmed,
            father=patient.sex == "male",
        )
    pregnancies = list(Pregnancy.objects.filter(patient=patient))
    ongoing = next((p for p in pregnancies if p.is_ongoing), None)
    delivered = next((p for p in pregnancies if p.outcome == PregnancyOutcome.DELIVERED), None)
    restart: tuple[rules.Step, ...] = ()
    if delivered is not None and delivered.ended_on is not None:
        restart = rules.restart_after_delivery(
            rule, delivered_on=delivered.ended_on, breastfeeding=delivered.breastfeeding
        )
    return Planner(plan, rule, family_plan, advice, levels, confirmed, ongoing, restart, delivered)


# --- workflows ---------------------------------------------------------------------------------


def save_family_plan(
    *,
    patient: Patient,
    intended_conception_on: date,
    breastfeeding_intended: bool,
    note: str = "",
    by: User,
) -> FamilyPlan:
    """A new intended conception date (it replaces the open plan, whose levels stay on it)."""
    ensure(by, Perm.FAMILY_PLAN_RECORD)
    _editable(patient, by)
    today = timezone.localdate()
    _first_problem(
        family_dates.conception_date_problems(conceive_on=intended_conception_on, today=today)
    )
    if Pregnancy.objects.filter(patient=patient, outcome=PregnancyOutcome.ONGOING).exists():
        raise TreatmentError(
            "This patient has an ongoing pregnancy: record its end before planning another.",
            field="intended_conception_on",
        )
    current = DmtPlan.objects.current().filter(patient=patient).first()
    with transaction.atomic():
        FamilyPlan.objects.filter(patient=patient, closed_on__isnull=True).update(closed_on=today)
        plan = FamilyPlan.objects.create(
            patient=patient,
            intended_conception_on=intended_conception_on,
            breastfeeding_intended=breastfeeding_intended,
            note=note.strip(),
            drug_key=current.drug_key if current is not None else "",
            created_by=by,
            created_on=today,
        )
        audit.record(
            user=by,
            patient=patient,
            action=Action.CREATE,
            category=Category.FAMILY_PLANNING,
            obj=plan,
            detail="conception planned",
        )
        if patient.sex != "male":
            _set_pregnancy_status(patient, PregnancyStatus.PLANNING, by=by, why="family plan")
    return plan


def record_elimination_level(
    *, family_plan: FamilyPlan, taken_on: date, value_mg_l: Decimal, by: User
) -> EliminationLevel:
    """A plasma teriflunomide level on the open plan (the planner confirms the elimination from
    two levels below the target taken at least 14 days apart)."""
    ensure(by, Perm.FAMILY_PLAN_RECORD)
    _editable(family_plan.patient, by)
    if not family_plan.is_open:
        raise TreatmentError("This plan has been replaced; record levels on the current one.")
    if family_plan.drug_key != "teriflunomide":
        raise TreatmentError(
            "Elimination levels are for a plan made on teriflunomide.", field="value_mg_l"
        )
    if taken_on > timezone.localdate():
        raise TreatmentError("A level cannot be taken in the future.", field="taken_on")
    if taken_on < family_plan.created_on - timedelta(days=90):
        raise TreatmentError(
            "This is more than 3 months before the plan was made: record levels of this "
            "elimination only.",
            field="taken_on",
        )
    if value_mg_l < 0 or value_mg_l > LEVEL_CEILING_MG_L:
        raise TreatmentError(
            f"A plasma level is between 0 and {LEVEL_CEILING_MG_L} mg/L.", field="value_mg_l"
        )
    try:
        with transaction.atomic():
            level = EliminationLevel.objects.create(
                patient=family_plan.patient,
                family_plan=family_plan,
                taken_on=taken_on,
                value_mg_l=value_mg_l,
                recorded_by=by,
            )
            audit.record(
                user=by,
                patient=family_plan.patient,
                action=Action.CREATE,
                category=Category.FAMILY_PLANNING,
                obj=level,
                detail="teriflunomide elimination level",
            )
    except IntegrityError:
        raise TreatmentError("A level is already recorded on that day.", field="taken_on") from None
    return level


def record_pregnancy(
    *, patient: Patient, conceived_on: date, note: str = "", by: User
) -> tuple[Pregnancy, int]:
    """A pregnancy from its (estimated) conception date: the patient record says pregnant (the
    label gates refuse a drug contraindicated in pregnancy), the open family plan is closed, and
    the monitoring the catalogue defers in pregnancy is waived with its reason. Returns the
    pregnancy and how many items were deferred."""
    ensure(by, Perm.PREGNANCY_RECORD)
    _editable(patient, by)
    today = timezone.localdate()
    _first_problem(
        family_dates.pregnancy_date_problems(
            sex=patient.sex, born_on=patient.date_of_birth, conceived_on=conceived_on, today=today
        )
    )
    expected = conceived_on + timedelta(days=rules.GESTATION_DAYS)
    try:
        with transaction.atomic():
            pregnancy = Pregnancy.objects.create(
                patient=patient,
                conceived_on=conceived_on,
                expected_delivery_on=expected,
                note=note.strip(),
                recorded_by=by,
            )
            audit.record(
                user=by,
                patient=patient,
                action=Action.CREATE,
                category=Category.FAMILY_PLANNING,
                obj=pregnancy,
                detail="pregnancy recorded",
            )
            FamilyPlan.objects.filter(patient=patient, closed_on__isnull=True).update(
                closed_on=today
            )
            _set_pregnancy_status(patient, PregnancyStatus.PREGNANT, by=by, why="pregnancy")
            deferred = defer_monitoring(pregnancy=pregnancy, by=by)
    except IntegrityError as error:
        if "one_ongoing_pregnancy" in str(error):
            raise TreatmentError(
                "This patient already has an ongoing pregnancy.", field="conceived_on"
            ) from None
        raise
    return pregnancy, deferred


def defer_monitoring(*, pregnancy: Pregnancy, by: User) -> int:
    """Waive, with the catalogue's reason, the open items it defers in pregnancy (routine MRI)
    that fall due between the conception and the expected delivery."""
    deferred = 0
    for investigation, why, source in rules.DEFERRED_IN_PREGNANCY:
        items = list(
            MonitoringItem.objects.filter(
                patient=pregnancy.patient,
                investigation=investigation,
                window_closes_on__gte=pregnancy.conceived_on,
                due_on__lte=pregnancy.expected_delivery_on,
            )
            .open()
            .select_for_update()
        )
        for item in items:
            item.status = ItemStatus.WAIVED
            item.waived_reason = f"{why} ({source})"
            item.settled_by = by
            item.save(update_fields=["status", "waived_reason", "settled_by", "updated_at"])
            audit.record(
                user=by,
                patient=pregnancy.patient,
                action=Action.UPDATE,
                category=Category.MONITORING,
                obj=item,
                detail="deferred: pregnancy",
            )
        close_item_alerts(
            [item.pk for item in items], "Closed automatically: deferred in pregnancy."
        )
        deferred += len(items)
    return deferred


def end_pregnancy(
    *, pregnancy: Pregnancy, outcome: str, ended_on: date, breastfeeding: bool, by: User
) -> Pregnancy:
    """The delivery (or a pregnancy loss) as a dated event; the record says post-partum."""
    ensure(by, Perm.PREGNANCY_RECORD)
    patient = pregnancy.patient
    _editable(patient, by)
    if not pregnancy.is_ongoing:
        raise TreatmentError("This pregnancy has already ended.")
    if outcome not in (PregnancyOutcome.DELIVERED, PregnancyOutcome.LOSS):
        raise TreatmentError("Choose a delivery or a pregnancy loss.", field="outcome")
    if outcome == PregnancyOutcome.LOSS and breastfeeding:
        raise TreatmentError("Breast-feeding goes with a delivery.", field="breastfeeding")
    _first_problem(
        {
            field: message
            for field, message in family_dates.pregnancy_date_problems(
                sex=patient.sex,
                born_on=patient.date_of_birth,
                conceived_on=pregnancy.conceived_on,
                today=timezone.localdate(),
                ended_on=ended_on,
            ).items()
            if field == "ended_on"
        }
    )
    with transaction.atomic():
        pregnancy.outcome = outcome
        pregnancy.ended_on = ended_on
        pregnancy.breastfeeding = breastfeeding
        pregnancy.save(update_fields=["outcome", "ended_on", "breastfeeding", "updated_at"])
        audit.record(
            user=by,
            patient=patient,
            action=Action.UPDATE,
            category=Category.FAMILY_PLANNING,
            obj=pregnancy,
            detail=f"pregnancy ended: {outcome}",
        )
        status = (
            PregnancyStatus.POSTPARTUM
            if outcome == PregnancyOutcome.DELIVERED
            else PregnancyStatus.NOT_PLANNING
        )
        _set_pregnancy_status(patient, status, by=by, why=outcome)
    return pregnancy
