import functools
import os
from typing import Any

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")

app = Celery("clinic")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def enqueue_on_commit(task: Any, *args: Any, **kwargs: Any) -> None:
    """Queue a task once the current transaction commits (Celery's delay_on_commit, typed):
    a worker never sees an id whose row is not yet visible, and a rollback queues nothing."""
    from django.db import transaction

    transaction.on_commit(functools.partial(task.delay, *args, **kwargs))
