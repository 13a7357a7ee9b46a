"""Correcting a side-effect report: its alert follows at once (resolved when the report is
entered in error; resolved and raised again, graded by the corrected report, when amended)."""

from __future__ import annotations

from datetime import date

from django.db import transaction

from clinic.accounts.models import User
from clinic.audit.models import Category
from patients.corrections import engine
from treatments.alerts.services import resolve_raised_by
from treatments.errors import as_validation_error
from treatments.models import SideEffectReport
from treatments.safety.services import SafetyError, create_side_effect_report

REPORT_TYPE = "treatments.sideeffectreport"


def _resolve_alert(report: SideEffectReport, why: str) -> None:
    resolve_raised_by(
        raised_by_type=REPORT_TYPE,
        raised_by_ids=[report.pk],
        note=f"Closed automatically: the side-effect report was {why}.",
    )


def mark_report_in_error(*, record: SideEffectReport, reason: str, by: User) -> SideEffectReport:
    with transaction.atomic():
        marked = engine.mark_entered_in_error(
            record=record,
            reason=reason,
            by=by,
            patient_id=record.patient_id,
            category=Category.TREATMENT,
        )
        _resolve_alert(marked, "entered in error")
    return marked


def amend_report(
    *,
    report: SideEffectReport,
    effect: str,
    effect_other: str,
    onset_on: date,
    ctcae_grade: int,
    serious: bool,
    action_taken: str,
    notes: str,
    reason: str,
    by: User,
    onset_before_start_confirmed: bool = False,
) -> SideEffectReport:
    """Replace a report (same patient and drug), checked like a new one."""

    def build(original: SideEffectReport) -> SideEffectReport:
        _resolve_alert(original, "amended")
        try:
            return create_side_effect_report(
                patient=original.patient,
                plan=original.plan,
                effect=effect,
                effect_other=effect_other,
                onset_on=onset_on,
                ctcae_grade=ctcae_grade,
                serious=serious,
                action_taken=action_taken,
                notes=notes,
                by=by,
                onset_before_start_confirmed=onset_before_start_confirmed,
                amends=original,
            )
        except SafetyError as error:
            raised = as_validation_error(error)
            raised.confirm = error.confirm  # type: ignore[attr-defined]
            raise raised from None

    return engine.amend(
        record=report,
        reason=reason,
        by=by,
        patient_id=report.patient_id,
        category=Category.TREATMENT,
        build=build,
    )


def describe(report: SideEffectReport) -> str:
    drug = f" on {report.drug_name}" if report.drug_name else ""
    return (
        f"Side effect{drug} from {report.onset_on:%d %b %Y}: {report.description} "
        f"(CTCAE grade {report.ctcae_grade}{', serious' if report.serious else ''})"
    )
