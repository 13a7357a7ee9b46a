"""Autologous stem-cell transplantation (aHSCT): the eligibility the catalogue states, the
referral to a transplant centre (a discipline outside the team, in the referral machinery with
its states), and the transplant as a dated event that starts the catalogue's post-transplant
monitoring through the same plan engine as any DMT."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from clinic.audit import services as audit
from clinic.audit.models import Action, Category
from clinic.permissions import Perm, ensure
from patients.models import (
    Patient,
    PregnancyStatus,
    Referral,
    ReferralDiscipline,
    ReferralState,
    Sex,
)
from treatments.errors import TreatmentError
from treatments.models import Conditioning, DmtPlan, MonitoringItem, Transplant
from treatments.plans import services as plans
from treatments.protocols import transplant as rules
from treatments.protocols.drugs.ahsct import DRUG_KEY

if TYPE_CHECKING:
    from clinic.accounts.models import User

DISCIPLINE = ReferralDiscipline.TRANSPLANT_CENTRE
# The centre has taken the patient on: a transplant may be recorded against the referral.
ACCEPTED_STATES = frozenset(
    {
        ReferralState.ACCEPTED,
        ReferralState.SCHEDULED,
        ReferralState.IN_PROGRESS,
        ReferralState.COMPLETED,
        ReferralState.ACKNOWLEDGED,
    }
)


def eligibility(patient: Patient, *, today: date) -> list[rules.Finding]:
    diagnosed = patient.diagnosis_on
    return rules.eligibility_findings(
        age_years=patient.age_on(today),
        edss=float(patient.latest_edss) if patient.latest_edss is not None else None,
        disease_years=(today - diagnosed).days / 365.25 if diagnosed else None,
        course=patient.current_course,
    )


@dataclass(frozen=True)
class TransplantPage:
    findings: list[rules.Finding]
    referrals: list[Referral]
    transplants: list[Transplant]
    next_items: list[MonitoringItem]
    current_dmt: DmtPlan | None

    @property
    def accepted_referrals(self) -> list[Referral]:
        return [r for r in self.referrals if r.state in ACCEPTED_STATES]


def transplant_page(*, patient: Patient, today: date) -> TransplantPage:
    referrals = list(Referral.objects.filter(patient=patient, discipline=DISCIPLINE))
    transplants = list(
        Transplant.objects.filter(patient=patient).select_related("plan", "referral")
    )
    items = list(
        MonitoringItem.objects.filter(patient=patient, plan__drug_key=DRUG_KEY)
        .open()
        .order_by("due_on")[:12]
    )
    current = DmtPlan.objects.current().filter(patient=patient).exclude(drug_key=DRUG_KEY).first()
    return TransplantPage(eligibility(patient, today=today), referrals, transplants, items, current)


def record_transplant(
    *,
    patient: Patient,
    referral: Referral | None,
    centre: str,
    conditioning: str,
    transplanted_on: date,
    mobilised_on: date | None = None,
    note: str = "",
    contraception_confirmed: bool = False,
    by: User,
) -> Transplant:
    """The stem-cell reinfusion (day 0) as a dated event. The catalogue's aHSCT protocol is
    planned and started on that day, so its monitoring materialises like any DMT's; a current
    DMT must be stopped first (its washout is the transplant centre's work-up)."""
    ensure(by, Perm.TRANSPLANT_RECORD)
    if not Patient.objects.editable_by(by).filter(pk=patient.pk).exists():
        raise TreatmentError("This patient is not in your care teams.")
    today = timezone.localdate()
    if referral is None:
        raise TreatmentError("Choose the transplant-centre referral.", field="referral")
    if referral.patient_id != patient.pk or referral.discipline != DISCIPLINE:
        raise TreatmentError(
            "Choose a referral of this patient to a transplant centre.", field="referral"
        )
    if referral.state not in ACCEPTED_STATES:
        raise TreatmentError(
            f"This referral is {referral.get_state_display().lower()}: a transplant needs a "
            "referral the centre accepted.",
            field="referral",
        )
    if transplanted_on > today:
        raise TreatmentError("The transplant cannot be in the future.", field="transplanted_on")
    if transplanted_on < referral.sent_at.date():
        raise TreatmentError(
            f"The transplant cannot be before the referral was sent ({referral.sent_at:%d %b %Y}).",
            field="transplanted_on",
        )
    if mobilised_on is not None and mobilised_on > transplanted_on:
        raise TreatmentError(
            "Mobilisation comes before the reinfusion (day 0).", field="mobilised_on"
        )
    if conditioning not in Conditioning.values:
        raise TreatmentError("Choose the conditioning regimen.", field="conditioning")
    if conditioning == Conditioning.OTHER and not note.strip():
        raise TreatmentError("Describe the regimen in the note.", field="note")
    if not centre.strip():
        raise TreatmentError("Name the transplant centre.", field="centre")
    if patient.pregnancy_status == PregnancyStatus.PREGNANT:
        raise TreatmentError(
            "The patient is recorded as pregnant: aHSCT is to be avoided in pregnancy (EBMT-2019).",
            field="transplanted_on",
        )
    if patient.sex != Sex.MALE and not contraception_confirmed:
        raise TreatmentError(
            "Confirm the contraception the transplant centre asks for.",
            field="contraception_confirmed",
        )
    current = DmtPlan.objects.current().filter(patient=patient).first()
    if current is not None:
        raise TreatmentError(
            f"{current.drug_name} is still current: stop it on its plan (on or before the "
            "transplant) before recording the transplant.",
            field="transplanted_on",
        )
    if Transplant.objects.filter(patient=patient, transplanted_on=transplanted_on).exists():
        raise TreatmentError(
            "A transplant is already recorded on that day.", field="transplanted_on"
        )
    with transaction.atomic():
        plan = plans.plan_dmt(patient=patient, drug_key=DRUG_KEY, by=by, planned_on=transplanted_on)
        plan = plans.start_dmt_plan(
            plan=plan,
            started_on=transplanted_on,
            by=by,
            contraception_confirmed=contraception_confirmed,
        )
        transplant = Transplant.objects.create(
            patient=patient,
            referral=referral,
            plan=plan,
            centre=centre.strip(),
            mobilised_on=mobilised_on,
            transplanted_on=transplanted_on,
            conditioning=conditioning,
            note=note.strip(),
            recorded_by=by,
        )
        audit.record(
            user=by,
            patient=patient,
            action=Action.CREATE,
            category=Category.TRANSPLANT,
            obj=transplant,
            detail="stem-cell transplant recorded; post-transplant monitoring started",
        )
    return transplant
