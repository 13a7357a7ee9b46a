"""Celery entry points for patient questionnaires: thin; each calls a service."""

from __future__ import annotations

from celery import shared_task

from treatments.pro import services


@shared_task(name="treatments.send_questionnaire_link")
def send_questionnaire_link(link_id: int) -> bool:
    return services.send_link_email(link_id)
