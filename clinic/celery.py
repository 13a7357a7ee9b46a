import functools
import importlib
import logging
import os
from typing import Any

from celery import Celery
from celery.signals import setup_logging
from kombu.exceptions import OperationalError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")

app = Celery("clinic")
app.config_from_object("django.conf:settings", namespace="CELERY")


def _task_packages() -> list[str]:
    """Every package of our own apps that has a tasks.py beside its services (a task lives with
    the sub-domain it serves: treatments/alerts/tasks.py, ...). Celery's autodiscovery looks
    only at each app's top level; this names the sub-packages too, so no list of task modules
    is kept by hand."""
    from pathlib import Path

    from django.apps import apps
    from django.conf import settings

    base = Path(settings.BASE_DIR).resolve()
    found = []
    for config in apps.get_app_configs():
        root = Path(config.path).resolve()
        if not root.is_relative_to(base):
            continue  # a third-party app
        for tasks_module in sorted(root.rglob("tasks.py")):
            package = tasks_module.parent.relative_to(base)
            if "migrations" not in package.parts:
                found.append(".".join(package.parts))
    return found


app.autodiscover_tasks(_task_packages)

logger = logging.getLogger("myelin.celery")


@setup_logging.connect
def _log_through_django_settings(**kwargs: Any) -> None:
    """Workers and beat keep settings.LOGGING, whose one handler keeps patient data out of the
    logs (clinic.logs), instead of handlers of Celery's own. Billiard's pool logger (a child
    killed, say) stops propagation by default; it goes through the same handler."""
    from billiard.util import get_logger

    pool_logger = get_logger()
    pool_logger.propagate = True
    pool_logger.setLevel(logging.WARNING)  # not its INFO chatter about every process started


def _send(task: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    if isinstance(task, str):
        if task not in app.tasks:
            # Outside a worker nothing has imported the task modules yet: import them once,
            # here. Not through app.loader.import_default_modules(): its Django fixup would set
            # Django up again in this process, its system checks (about a second) and its
            # logging configuration with them.
            for package in _task_packages():
                importlib.import_module(f"{package}.tasks")
        task = app.tasks[task]
    try:
        task.delay(*args, **kwargs)
    except OperationalError:
        # The broker (Redis) is unreachable. The request that queued this has already
        # committed its work, and must not turn into an error page: the periodic sweeps
        # recompute from the database, so the next run after Redis is back catches up.
        logger.error("Could not queue task %s: the message broker is unreachable", task.name)


def enqueue_now(task: Any, *args: Any, **kwargs: Any) -> None:
    """Queue a task at once (from an on-commit callback: what it names is committed). A broker
    outage is logged, never raised (see _send)."""
    _send(task, args, kwargs)


def enqueue_on_commit(task: Any, *args: Any, **kwargs: Any) -> None:
    """Queue a task once the current transaction commits (Celery's delay_on_commit, typed):
    a worker never sees an id whose row is not yet visible, and a rollback queues nothing.
    A service names the task by its registered name, so services never import their tasks
    module (tasks import services, not the other way round).
    A broker outage is logged, never raised into the request (see _send)."""
    from django.db import transaction

    transaction.on_commit(functools.partial(_send, task, args, kwargs))
