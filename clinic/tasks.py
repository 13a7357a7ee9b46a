from __future__ import annotations

import socket

from celery import shared_task
from django.utils import timezone

from clinic.models import Heartbeat


@shared_task(name="clinic.tasks.heartbeat")
def heartbeat() -> str:
    """Beat sends this every HEARTBEAT_INTERVAL_SECONDS; a worker records that it arrived."""
    Heartbeat.objects.update_or_create(
        name="beat", defaults={"at": timezone.now(), "hostname": socket.gethostname()}
    )
    return "ok"
