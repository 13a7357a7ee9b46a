"""Treatments' correctable records, for the correction pages (`settings.CORRECTABLE_RECORDS`):
results, side-effect reports, doses, symptomatic and relapse treatments, rehab sessions. Each
is amended with its own record form, filled in from the record."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.forms import BaseForm
from django.urls import reverse

from clinic.accounts.models import User
from clinic.audit.models import Category
from patients.corrections.registry import CorrectableKind
from patients.models import Patient
from treatments.corrections import doses, rehab, results, side_effects, symptomatic
from treatments.models import DmtAdministration, RehabSession, Result, SideEffectReport
from treatments.models import SymptomaticTreatment as Symptomatic
from treatments.monitoring.forms import ResultForm
from treatments.plans.forms import AdministrationForm, dose_entry
from treatments.rehab.forms import RehabSessionForm
from treatments.safety.forms import SideEffectForm
from treatments.symptomatic.forms import SymptomaticForm


def _initial(record: Any, names: Iterable[str]) -> dict[str, Any]:
    return {name: getattr(record, name) for name in names}


def _page(name: str, anchor: str = "") -> Any:
    def url(patient: Patient, record: Any) -> str:
        return reverse(name, kwargs={"external_id": patient.external_id}) + anchor

    return url


# --- results -------------------------------------------------------------------------------


def _result_form(record: Result, data: Mapping[str, Any] | None) -> BaseForm:
    initial: dict[str, Any] = _initial(
        record,
        ("taken_on", "lab", "note", "qualitative", "genotype", "index_value", "mri_study_ref"),
    )
    if record.macular_oedema is not None:
        initial["macular_oedema"] = "yes" if record.macular_oedema else "no"
    for value in record.values.all():
        initial |= {
            f"{value.analyte}_value": value.value.normalize(),
            f"{value.analyte}_unit": value.unit,
            f"{value.analyte}_low": value.lln.normalize() if value.lln is not None else None,
            f"{value.analyte}_high": value.uln.normalize() if value.uln is not None else None,
        }
    return ResultForm(
        data, investigation=record.investigation, initial=initial, patient=record.patient
    )


def _amend_result(*, record: Result, form: Any, reason: str, by: User) -> Result:
    data = form.cleaned_data
    return results.amend_result(
        result=record,
        taken_on=data["taken_on"],
        values=form.entered_values(),
        qualitative=data.get("qualitative") or "",
        genotype=data.get("genotype") or "",
        index_value=data.get("index_value"),
        macular_oedema=data.get("macular_oedema"),
        mri_study_ref=data.get("mri_study_ref") or "",
        lab=data["lab"],
        note=data["note"],
        reason=reason,
        by=by,
    )


RESULT = CorrectableKind(
    key="result",
    label="Result",
    model=Result,
    patient_path="patient",
    category=Category.MONITORING,
    related=("patient",),
    return_url=_page("treatments:patient", "#results"),
    describe=results.describe,
    mark_in_error=results.mark_result_in_error,
    amend=_amend_result,
    amend_form=_result_form,
)


# --- side-effect reports -------------------------------------------------------------------

SIDE_EFFECT_FIELDS = (
    "effect",
    "effect_other",
    "onset_on",
    "ctcae_grade",
    "serious",
    "action_taken",
    "notes",
)


def _side_effect_form(record: SideEffectReport, data: Mapping[str, Any] | None) -> BaseForm:
    listed = record.plan.protocol_version.protocol.side_effects if record.plan else ()
    if record.effect and record.effect not in listed:
        listed = (*listed, record.effect)  # the catalogue changed since: keep what was chosen
    return SideEffectForm(
        data,
        side_effects=listed,
        initial=_initial(record, SIDE_EFFECT_FIELDS),
        patient=record.patient,
    )


def _amend_side_effect(*, record: SideEffectReport, form: BaseForm, reason: str, by: User) -> Any:
    return side_effects.amend_report(report=record, **form.cleaned_data, reason=reason, by=by)


SIDE_EFFECT = CorrectableKind(
    key="side-effect",
    label="Side-effect report",
    model=SideEffectReport,
    patient_path="patient",
    category=Category.TREATMENT,
    related=("patient", "plan__protocol_version"),
    return_url=_page("safety:side_effects", "#side-effect-list"),
    describe=side_effects.describe,
    mark_in_error=side_effects.mark_report_in_error,
    amend=_amend_side_effect,
    amend_form=_side_effect_form,
)


# --- doses -----------------------------------------------------------------------------------


def _dose_url(patient: Patient, record: DmtAdministration) -> str:
    return record.plan.get_absolute_url() + "#history"


DOSE_FIELDS = ("kind", "given_on", "note", "dose_mg_m2", "height_cm", "weight_kg", "bsa_m2")


def _dose_form(record: DmtAdministration, data: Mapping[str, Any] | None) -> BaseForm:
    """The dose form without the override (an amendment overrides nothing), with the dose in
    mg/m² for a drug dosed by body-surface area."""
    return AdministrationForm(
        data,
        initial=_initial(record, DOSE_FIELDS),
        patient=record.plan.patient,
        can_override=False,
        by_bsa=record.plan.protocol_version.protocol.bsa_dosing,
    )


def _amend_dose(*, record: DmtAdministration, form: BaseForm, reason: str, by: User) -> Any:
    data = form.cleaned_data
    return doses.amend_dose(
        given=record,
        kind=data["kind"],
        given_on=data["given_on"],
        note=data["note"],
        dose=dose_entry(data),
        reason=reason,
        by=by,
    )


DOSE = CorrectableKind(
    key="dose",
    label="Dose or course",
    model=DmtAdministration,
    patient_path="plan__patient",
    category=Category.TREATMENT,
    related=("plan__patient", "plan__protocol_version"),
    return_url=_dose_url,
    describe=doses.describe,
    mark_in_error=doses.mark_dose_in_error,
    amend=_amend_dose,
    amend_form=_dose_form,
    refusal=doses.refusal,
)


# --- symptomatic and relapse treatments ------------------------------------------------------

SYMPTOMATIC_FIELDS = (
    "kind",
    "drug",
    "indication",
    "dose",
    "started_on",
    "stopped_on",
    "note",
)

SYMPTOMATIC = CorrectableKind(
    key="symptomatic",
    label="Symptomatic or relapse treatment",
    model=Symptomatic,
    patient_path="patient",
    category=Category.TREATMENT,
    related=("patient",),
    return_url=_page("treatments:patient", "#symptomatic"),
    describe=symptomatic.describe,
    mark_in_error=symptomatic.mark_treatment_in_error,
    amend=lambda *, record, form, reason, by: symptomatic.amend_treatment(
        treatment=record, **form.cleaned_data, reason=reason, by=by
    ),
    amend_form=lambda record, data: SymptomaticForm(
        data, initial=_initial(record, SYMPTOMATIC_FIELDS), patient=record.patient
    ),
)


# --- rehab sessions --------------------------------------------------------------------------

SESSION_FIELDS = (
    "held_on",
    "duration_minutes",
    "discipline",
    "setting",
    "interventions",
    "goals",
    "progress",
    "notes",
)


def _session_form(record: RehabSession, data: Mapping[str, Any] | None) -> BaseForm:
    initial = {**_initial(record, SESSION_FIELDS), "referral": record.referral_id}
    return RehabSessionForm(data, patient=record.patient, initial=initial)


REHAB_SESSION = CorrectableKind(
    key="rehab-session",
    label="Rehab session",
    model=RehabSession,
    patient_path="patient",
    category=Category.REHAB,
    related=("patient", "therapist"),
    return_url=_page("rehab:patient"),
    describe=rehab.describe,
    mark_in_error=rehab.mark_session_in_error,
    amend=lambda *, record, form, reason, by: rehab.amend_session(
        session=record, **form.cleaned_data, reason=reason, by=by
    ),
    amend_form=_session_form,
)
