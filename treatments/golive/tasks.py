"""Celery entry point of the go-live import: thin; it calls the service."""

from __future__ import annotations

from celery import shared_task

from treatments.golive import services


@shared_task(name="treatments.golive_materialise")
def golive_materialise(patient_ids: list[int]) -> int:
    """Monitoring for a chunk of imported patients, queued after the import commits."""
    return services.materialise_monitoring(patient_ids=patient_ids)
