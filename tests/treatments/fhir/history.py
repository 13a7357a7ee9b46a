"""A patient's years of MS care, recorded through the real workflows: every kind of record the
FHIR export reads, so a test can export a long history and compare it with a short one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from clinic.accounts.models import User
from patients.models import Patient
from patients.records import services as records
from patients.referrals import services as referrals
from treatments.models import DmtPlan
from treatments.monitoring import services as monitoring
from treatments.plans import services as plans
from treatments.rehab import services as rehab
from treatments.symptomatic import services as symptomatic

FS_CALM = {
    "visual": 1,
    "brainstem": 1,
    "pyramidal": 2,
    "cerebellar": 1,
    "sensory": 1,
    "bowel_bladder": 1,
    "cerebral": 0,
    "ambulation": 0,
}


@dataclass
class Cast:
    neurologist: User
    nurse: User
    therapist: User


def _lft(taken_on: date, patient: Patient, by: User, alt: str) -> None:
    monitoring.record_result(
        patient=patient,
        investigation="lft",
        taken_on=taken_on,
        values=[
            monitoring.EnteredValue("alt", Decimal(alt), "U/L", Decimal("7"), Decimal("56")),
            monitoring.EnteredValue("ast", Decimal("25"), "U/L", Decimal("8"), Decimal("48")),
            monitoring.EnteredValue("alp", Decimal("80"), "U/L", Decimal("40"), Decimal("129")),
            monitoring.EnteredValue(
                "bilirubin", Decimal("0.8"), "mg/dL", Decimal("0.1"), Decimal("1.2")
            ),
        ],
        lab="City Hospital Laboratory",
        by=by,
    )


def build_history(patient: Patient, cast: Cast, *, years: int) -> Patient:
    """`years` of care for `patient`, ending today: course states, an EDSS every six months, a
    relapse every other year, a yearly MRI, liver tests twice a year and a JCV test yearly, DMT
    plans started, switched and stopped, treatments, rehab outcome measures, referrals in
    several states, and allergies."""
    today = timezone.localdate()
    start = today - timedelta(days=365 * years)
    n, u, t = cast.neurologist, cast.nurse, cast.therapist
    patient.diagnosis_on = start + timedelta(days=200)
    patient.allergies = "Penicillin (rash)\nLatex"
    patient.save(update_fields=["diagnosis_on", "allergies"])

    records.add_course_state(patient=patient, course="cis", start_on=start, by=n)
    records.add_course_state(
        patient=patient, course="rrms", start_on=start + timedelta(days=200), by=n
    )
    if years > 3:
        records.add_course_state(
            patient=patient, course="spms", start_on=today - timedelta(days=400), by=n
        )

    for half_year in range(years * 2):
        day = start + timedelta(days=182 * half_year + 10)
        if day >= today:
            break
        scores = dict(FS_CALM, pyramidal=min(2 + half_year // 8, 5))
        records.record_edss(patient=patient, assessed_on=day, scores=scores, by=n)
        _lft(day + timedelta(days=3), patient, u, alt=str(30 + half_year % 5))
        if half_year % 2 == 0:
            records.record_mri(
                patient=patient,
                study_on=day + timedelta(days=20),
                field_strength="3t",
                contrast_given=half_year % 4 == 0,
                new_or_enlarging_t2=half_year % 3,
                gad_enhancing=1 if half_year % 8 == 0 else (0 if half_year % 4 == 0 else None),
                is_baseline=half_year == 0,
                report="Stable periventricular lesions.",
                by=n,
            )
            monitoring.record_result(
                patient=patient,
                investigation="jcv_antibody",
                taken_on=day + timedelta(days=5),
                qualitative="positive" if half_year > 4 else "negative",
                index_value=Decimal("0.35") + Decimal(half_year) / 10,
                by=u,
            )
        if half_year % 4 == 1:
            records.record_relapse(
                patient=patient,
                onset_on=day + timedelta(days=40),
                end_on=day + timedelta(days=70),
                symptoms="Numbness of the left leg",
                functional_systems=["sensory", "pyramidal"],
                severity="moderate",
                objectively_confirmed=True,
                infection_excluded=True,
                recovery="partial",
                treatment="iv_mp",
                by=n,
            )
        if half_year % 2 == 1:
            rehab.log_session(
                patient=patient,
                by=t,
                held_on=day + timedelta(days=30),
                duration_minutes=45,
                discipline="physiotherapy",
                setting="clinic",
                interventions=["balance", "gait"],
                measurements={
                    "t25fw": {"trial_1": "6.1", "trial_2": str(6 + half_year / 10)},
                    "msis29": {"physical": "30", "psychological": "20"},
                },
            )

    first = _plan(patient, "dimethyl_fumarate", start + timedelta(days=220), n)
    # A switch, as switch_dmt_plan makes it, but dated in the past: stop, then plan the next.
    switched_on = start + timedelta(days=365 * years // 2)
    stopped = plans.stop_dmt_plan(
        plan=first,
        stopped_on=switched_on,
        reason="lack_of_efficacy",
        note="Two relapses in a year.",
        by=n,
    )
    second = plans.plan_dmt(
        patient=patient,
        drug_key="ocrelizumab_iv",
        by=n,
        planned_on=switched_on,
        switched_from=stopped,
    )
    plans.start_dmt_plan(
        plan=second,
        started_on=switched_on + timedelta(days=30),
        override_reason="Baseline done at the referring hospital.",
        by=n,
    )
    if years > 3:
        plans.plan_dmt(patient=patient, drug_key="ofatumumab", by=n)

    monitoring.record_result(
        patient=patient,
        investigation="eye_exam",
        taken_on=today - timedelta(days=30),
        macular_oedema=False,
        note="Fundi normal.",
        by=u,
    )
    monitoring.record_result(
        patient=patient,
        investigation="skin_exam",
        taken_on=today - timedelta(days=20),
        note="No suspicious lesions.",
        by=n,
    )
    symptomatic.record_symptomatic_treatment(
        patient=patient,
        kind="symptomatic",
        drug="Baclofen",
        indication="spasticity",
        dose="10 mg three times daily",
        started_on=start + timedelta(days=400),
        stopped_on=None,
        note="",
        by=n,
    )
    symptomatic.record_symptomatic_treatment(
        patient=patient,
        kind="relapse",
        drug="Methylprednisolone",
        indication="relapse",
        dose="1 g IV daily for 3 days",
        started_on=start + timedelta(days=300),
        stopped_on=start + timedelta(days=302),
        note="For the first relapse.",
        by=n,
    )

    physio = referrals.send_referral(
        patient=patient, discipline="physiotherapy", urgency="soon", reason="Gait", by=n
    )
    referrals.accept_referral(referral=physio, by=t)
    referrals.start_referral(referral=physio, by=t)
    referrals.complete_referral(referral=physio, by=t, summary="Six sessions; walks further.")
    eyes = referrals.send_referral(
        patient=patient, discipline="ophthalmology", urgency="urgent", reason="Blurred vision", by=n
    )
    referrals.cancel_referral(referral=eyes, by=n, reason="Resolved before the appointment.")
    referrals.send_referral(
        patient=patient, discipline="ms_nurse", urgency="routine", reason="Injection teaching", by=n
    )
    return patient


def _plan(patient: Patient, drug_key: str, started_on: date, by: User) -> DmtPlan:
    plan = plans.plan_dmt(patient=patient, drug_key=drug_key, by=by, planned_on=started_on)
    return plans.start_dmt_plan(
        plan=plan,
        started_on=started_on,
        override_reason="Baseline done at the referring hospital.",
        by=by,
    )
