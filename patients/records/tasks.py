from __future__ import annotations

from celery import shared_task

from patients.records import services


@shared_task(name="patients.records.tasks.refresh_clinical_status")
def refresh_clinical_status() -> int:
    """Recompute every patient's derived status. Schedule it daily in beat: "relapse in the
    last 90 days" reads a stored date, but "NEDA-3 last year" must move on on 1 January."""
    return services.refresh_all_clinical_status()
