from __future__ import annotations

from django.db import models


class Heartbeat(models.Model):
    """The last time a periodic heartbeat went through beat → Redis → worker → database.

    Written by the `clinic.tasks.heartbeat` task; read by the status page and /healthz to tell a
    stale beat or a dead worker from a healthy one.
    """

    name = models.CharField(max_length=40, primary_key=True)
    at = models.DateTimeField()
    hostname = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return f"{self.name} at {self.at:%Y-%m-%d %H:%M:%S}"
