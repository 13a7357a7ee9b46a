"""One item per duty (issue #14): the general duties and a drug's protocol never leave the
patient two items for the same test on the same day, and recording an EDSS closes the
neurology review it answers.

Both are level-triggered and idempotent: `treatments.plans.schedule.sync_care_plan` applies
them on every sync (the daily sweep included), and an EDSS recorded on the patient record
closes its review at once through the task the patients app queues by name
(``settings.EDSS_RECORDED_TASKS``; patients never imports treatments).

Deliberate choices:

* **Which item stays.** The drug's item: it carries the label's window and source, and it is
  tied to the plan (cancelled if the drug stops, when the general duty comes back on its own).
  It says both reasons (`MonitoringItem.why`). A drug item counts while open or done; a waived
  or cancelled one does not absorb a general duty.
* **Same day** means the same due date. Items a few days apart stay separate: their windows
  differ and each answers its own rule.
* **A corrected EDSS** (amended or entered in error, `patients.corrections`) closes nothing:
  the review it closed is open again and answered afresh by the standing assessments (an
  amendment in its place), on the same task the correction queues and on every sync.
* **Which EDSS closes which review.** An EDSS answers the review whose window holds its date;
  otherwise the earliest overdue review whose window closed before it (done late). An EDSS
  before a review's window does not close it. Each EDSS closes at most one review. The reviews
  are the general duty's "neurology review with EDSS" and a drug item that absorbed it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from clinic.audit import services as audit
from clinic.audit.models import Action, Category
from clinic.celery import enqueue_on_commit
from patients.models import EdssAssessment
from treatments.alerts import services as alerts
from treatments.models import (
    DONE_STATUSES,
    OPEN_STATUSES,
    AlertKind,
    ItemStatus,
    MonitoringItem,
)
from treatments.protocols import DueItem

REVIEW_RULE = "neuro_review"
"""The general protocol's "Neurology review with EDSS" (treatments/protocols/drugs/general.py)."""

Key = tuple[str, date, int]


def merge_with_drug_items(
    *, patient_id: int, general: list[DueItem]
) -> tuple[list[DueItem], dict[Key, str]]:
    """The general items still to materialise, and the merged ones with the reason their row (if
    any) is cancelled. Marks each absorbing drug item with the general rule and its reason, and
    clears the mark of drug items that no longer absorb one."""
    pairs = {(d.investigation, d.due_on) for d in general}
    absorbing: dict[tuple[str, date], MonitoringItem] = {}
    candidates = MonitoringItem.objects.filter(
        patient_id=patient_id,
        plan__isnull=False,
        status__in=[*OPEN_STATUSES, *DONE_STATUSES],
        investigation__in={i for i, _ in pairs},
        due_on__in={d for _, d in pairs},
    ).select_related("plan")
    for item in candidates.order_by("due_on", "id"):
        absorbing.setdefault((item.investigation, item.due_on), item)
    kept: list[DueItem] = []
    merged: dict[Key, str] = {}
    marks: dict[int, tuple[str, str]] = {}
    for duty in general:
        drug_item = absorbing.get((duty.investigation, duty.due_on))
        if drug_item is None or drug_item.pk in marks:
            kept.append(duty)
            continue
        marks[drug_item.pk] = (duty.rule_key, duty.explanation)
        assert drug_item.plan is not None
        merged[duty.key] = (
            f"Merged into the {drug_item.plan.drug_name} item due the same day (one item per duty)."
        )[:200]
    _mark(patient_id, marks)
    return kept, merged


def _mark(patient_id: int, marks: dict[int, tuple[str, str]]) -> None:
    now = timezone.now()
    stale = MonitoringItem.objects.filter(patient_id=patient_id, plan__isnull=False).exclude(
        merged_from=""
    )
    stale.exclude(pk__in=marks).update(merged_from="", merged_why="", updated_at=now)
    for item in MonitoringItem.objects.filter(pk__in=marks):
        rule_key, why = marks[item.pk]
        if (item.merged_from, item.merged_why) != (rule_key, why):
            item.merged_from, item.merged_why = rule_key, why
            item.updated_at = now
            item.save(update_fields=["merged_from", "merged_why", "updated_at"])


def review_items() -> Q:
    return Q(care_plan__isnull=False, rule_key=REVIEW_RULE) | Q(
        plan__isnull=False, merged_from=REVIEW_RULE
    )


def close_reviews_by_edss(*, patient_ids: Iterable[int]) -> int:
    """Close each open neurology review that a recorded EDSS answers (see the module
    docstring); returns how many were closed. Idempotent: an EDSS closes one review, once."""
    ids = list(patient_ids)
    closed = 0
    with transaction.atomic():
        _release_corrected(ids)
        items = list(
            MonitoringItem.objects.select_for_update()
            .filter(review_items(), patient_id__in=ids, status__in=OPEN_STATUSES)
            .order_by("patient_id", "due_on", "id")
        )
        if not items:
            return 0
        used = set(
            MonitoringItem.objects.filter(patient_id__in=ids, edss__isnull=False).values_list(
                "edss_id", flat=True
            )
        )
        assessments = [
            e
            for e in EdssAssessment.objects.standing()
            .filter(patient_id__in=ids)
            .order_by("assessed_on", "id")
            if e.pk not in used
        ]
        done: list[MonitoringItem] = []
        # A review whose window holds an EDSS takes it first; only then may a remaining EDSS
        # close an earlier overdue review late.
        for late in (False, True):
            for item in items:
                if item in done:
                    continue
                edss = _answering(item, assessments, late=late)
                if edss is None:
                    continue
                assessments.remove(edss)
                item.status = item.completion_status(edss.assessed_on)
                item.completed_on = edss.assessed_on
                item.edss = edss
                item.settled_by = edss.assessed_by
                item.updated_at = timezone.now()
                done.append(item)
        if not done:
            return 0
        MonitoringItem.objects.bulk_update(
            done, ["status", "completed_on", "edss", "settled_by", "updated_at"]
        )
        alerts.resolve_raised_by(
            raised_by_type="treatments.monitoringitem",
            raised_by_ids=[item.pk for item in done],
            note="Closed automatically: EDSS recorded.",
            kinds=(AlertKind.OVERDUE_MONITORING, AlertKind.DUE_SOON),
        )
        for item in done:
            assert item.edss is not None
            audit.record(
                user=item.edss.assessed_by,
                patient=item.patient_id,
                action=Action.UPDATE,
                category=Category.MONITORING,
                obj=item,
                detail="closed by EDSS",
            )
        closed = len(done)
    return closed


def _release_corrected(patient_ids: list[int]) -> int:
    """Reopen the reviews closed by an EDSS that has since been amended or entered in error."""
    released = list(
        MonitoringItem.objects.select_for_update(of=("self",))
        .filter(patient_id__in=patient_ids, edss__isnull=False)
        .exclude(edss__correction="")
        .select_related("edss")
    )
    for item in released:
        assert item.edss is not None
        corrected_by = item.edss.corrected_by
        item.status = ItemStatus.BOOKED if item.booked_on else ItemStatus.SCHEDULED
        item.completed_on = None
        item.edss = None
        item.settled_by = None
        item.updated_at = timezone.now()
        item.save(update_fields=["status", "completed_on", "edss", "settled_by", "updated_at"])
        audit.record(
            user=corrected_by,
            patient=item.patient_id,
            action=Action.UPDATE,
            category=Category.MONITORING,
            obj=item,
            detail="open again: the EDSS that closed it was corrected",
        )
    if released:
        # Overdue again: told now, not at the next sweep.
        enqueue_on_commit("treatments.sweep_overdue")
    return len(released)


def _answering(
    item: MonitoringItem, assessments: list[EdssAssessment], *, late: bool
) -> EdssAssessment | None:
    for edss in assessments:
        if edss.patient_id != item.patient_id:
            continue
        if late and edss.assessed_on > item.window_closes_on:
            return edss
        if not late and item.window_opens_on <= edss.assessed_on <= item.window_closes_on:
            return edss
    return None


__all__ = ["REVIEW_RULE", "close_reviews_by_edss", "merge_with_drug_items", "review_items"]
