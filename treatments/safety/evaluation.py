"""Result evaluation: a saved result against the plan's pinned alert rules and dose gates.

`evaluate_result(result_id=...)` runs after the result's transaction commits (queued by
`services.record_result` through `evaluation_tasks.evaluate_result`). It is level-triggered and
idempotent: every alert it raises has a condition key naming the rule and the result (or, for
persistence rules, the start of the episode), so evaluating the same result again raises nothing
new, and auto-resolution only touches alerts raised by *earlier* results.

Deliberate choices (each is also stated where it is applied):

* **Which plan.** The plan whose monitoring item the result closed; else the plan the patient
  was on when the sample was taken; else the current plan; else the latest planned one (its
  baseline and first-dose gates). Hy's law needs no plan at all.
* **Baseline** (rules relative to baseline, CTCAE grades of ALT/AST/bilirubin/creatinine): the
  last value of the analyte taken on or before the plan's first dose (a sample taken on the
  morning of the first dose is a pre-dose sample). No pre-dose value, or a plan not started: no
  baseline, and baseline rules are not evaluated (shown as such, never guessed).
* **Criteria on other analytes** (``AlertRule.also``) are read from values taken the same day. A
  missing one that only narrows a band (``lt``/``le``, e.g. "bilirubin ≤ 1×ULN") counts as met,
  so the milder alert still fires; a missing one that would make it worse (``gt``/``ge``) counts
  as not met. Missing data never silences an alert that the value alone justifies.
* **Confirmed on repeat**: the first value beyond the threshold raises a WARNING ("repeat to
  confirm", routed to the nurse who books the repeat); a second consecutive value beyond it
  raises the rule's own grade and supersedes the warning. Its key is the episode start.
* **Persistence over days** (``> 6 months`` = 183 days): every value of the analyte from the
  episode start (the first of the consecutive values beyond the threshold) to this one is beyond
  it, and this one is at least ``persistence_days`` after the start. Key: the episode start.
* **Hy's law** (ALT or AST > 3×ULN and bilirubin > 2×ULN, same day; §0.4 as corrected) is
  CRITICAL on any drug, or none; one alert per patient and day, never resolved automatically (a
  clinician closes it).
* **GATE grade** (§0.3): a failed gate is CRITICAL while the plan is active or suspended (a dose
  could be given; the label says do not dose) and WARNING while the plan is only planned (no drug
  has been given; the plan page shows the blocked start). Alert rules graded GATE whose analyte a
  protocol dose gate already checks are left to the gate, so one failure raises one alert.
* **When a rule applies** (``AlertRule.applies``, ``at_rule``): a baseline rule judges samples
  taken on or before the first dose only (the fumarates' low count before starting); a
  cardiotoxicity rule judges samples taken after it, on treatment and after stopping
  (mitoxantrone's LVEF); a rule tied to one monitoring rule judges the result that closed that
  item, or one taken within an item's window (cladribine's month-2 count). For a drug given in
  courses, the alert names the course the sample belongs to.
* **JCV rules** of natalizumab depend on exposure and prior immunosuppressants, which a value rule
  cannot see: the PML risk engine (`reassess_pml_risk`) evaluates them and raises `pml_risk`.
* **Auto-resolution**: an abnormal alert is resolved when a later value of the same analyte no
  longer meets the rule, with a note naming the value and date; gate alerts when a later result
  passes the gate. Nothing is resolved by a value that cannot be evaluated (no reference range).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from treatments.alerts.services import auto_resolve, raise_alerts
from treatments.models import (
    DmtPlan,
    Result,
    ResultValue,
)
from treatments.safety.applies import reading_context, rule_applies
from treatments.safety.gates import gate_outcome
from treatments.safety.hys_law import hys_law_spec
from treatments.safety.inputs import Inputs
from treatments.safety.rules import (
    JCV,
    Evaluation,
    History,
    readings_of,
    resolutions_for_normal,
    rule_specs,
    value_rules,
)

if TYPE_CHECKING:
    pass

logger = logging.getLogger("myelin.evaluation")


# ---------------------------------------------------------------------------------------------
# The entry point
# ---------------------------------------------------------------------------------------------
def _store_ctcae_grades(
    values: Sequence[ResultValue], history: History, plan: DmtPlan | None
) -> int:
    """Grade each value again with the patient's baseline (ALT/AST/bilirubin above ULN at
    baseline, creatinine × baseline); `record_result` graded them without it."""
    changed = []
    for row in values:
        baseline = history.baseline(row.analyte, plan.started_on) if plan else None
        if baseline is None or baseline.result_id == row.result_id or baseline.value is None:
            continue
        grade = row.graded_ctcae(baseline=baseline.value)
        if grade is not None and grade != row.ctcae_grade:
            row.ctcae_grade = grade
            changed.append(row)
    if changed:
        ResultValue.objects.bulk_update(changed, ["ctcae_grade"])
    return len(changed)


def evaluate(result: Result, *, on: date | None = None, inputs: Inputs | None = None) -> Evaluation:
    """Decide what a result raises and resolves (no writes except CTCAE grades)."""
    on = on or timezone.localdate()
    inputs = inputs or Inputs.load(result)
    values, plan, answered, history = inputs.values, inputs.plan, inputs.answered, inputs.history
    protocol = plan.protocol_version.protocol if plan else None
    _store_ctcae_grades(values, history, plan)
    # This result's readings carry the re-graded rows (the history's copies were loaded first).
    readings = readings_of(result, values)
    outcome = Evaluation()
    hys = hys_law_spec(result=result, history=history)
    if hys is not None:
        outcome.specs.append(hys)
    if plan is None or protocol is None:
        return outcome
    rules = value_rules(protocol)
    events = plan.plan_events(inputs.administrations)
    context = reading_context(protocol, events, result.taken_on, answered)
    for reading in readings:
        for rule in rules:
            if rule.analyte == reading.analyte and rule_applies(
                rule, reading.taken_on, protocol=protocol, events=events, answered=answered
            ):
                rule_specs(
                    rule=rule,
                    reading=reading,
                    plan=plan,
                    history=history,
                    outcome=outcome,
                    context=context,
                )
        resolutions_for_normal(
            rules=rules,
            reading=reading,
            plan=plan,
            history=history,
            earlier_alerts=inputs.earlier_alerts,
            result_dates=inputs.result_dates,
            outcome=outcome,
        )
    gate_outcome(
        plan=plan,
        result=result,
        history=history,
        on=on,
        outcome=outcome,
        given=[(a.kind, a.given_on) for a in inputs.administrations],
    )
    return outcome


def evaluate_result(*, result_id: int, on: date | None = None) -> int:
    """Evaluate a saved result; return how many alerts this call raised. Idempotent.

    The result row is locked for the evaluation, and its `evaluation_pending` mark cleared in
    the same transaction: two evaluations of one result (a task and the pending sweep) run one
    after the other, and a failed one leaves the mark for the sweep.
    A corrected result (amended, by a clinician or the laboratory) is a new row evaluated on its
    own; the original's alerts were resolved by the correction (treatments.corrections)."""
    with transaction.atomic():
        result = Result.objects.select_for_update(of=("self",)).filter(pk=result_id).first()
        if result is None:
            logger.warning("Result %s to evaluate no longer exists", result_id)
            return 0
        if result.evaluation_pending:
            Result.objects.filter(pk=result.pk).update(evaluation_pending=False)
        if not result.is_standing:
            # Corrected before its evaluation ran: it counts for nothing (its amendment, if
            # any, is evaluated on its own).
            return 0
        outcome = evaluate(result, on=on)
        created = raise_alerts(outcome.specs)
        for ids, note in outcome.resolutions:
            auto_resolve(ids, note=note)
    if result.investigation == JCV:
        from treatments.safety.services import reassess_pml_for_patient

        reassess_pml_for_patient(
            patient_id=result.patient_id, reason=f"JCV result of {result.taken_on:%d %b %Y}"
        )
    return created


def evaluate_each(result_ids: Sequence[int], *, on: date | None = None) -> int:
    """Evaluate results one by one, each in its own transaction. One that fails is logged by id
    and left pending for the sweep; the others are evaluated all the same."""
    created = 0
    for result_id in result_ids:
        try:
            created += evaluate_result(result_id=result_id, on=on)
        except Exception:
            logger.exception(
                "Evaluation of result %s failed; the pending sweep retries it", result_id
            )
    return created
