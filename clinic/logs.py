"""Logging that never writes patient data (settings.LOGGING, the gunicorn command line).

Every line the app writes goes through RedactingFilter, on the one handler that writes:

- a request path becomes the route it matched (`/patients/<uuid:external_id>/`), never the
  path itself: paths carry patient ids and, typed by hand, anything at all;
- any other UUID becomes `<id>` and any query string `?…`;
- an exception keeps its traceback (file, line, code: what a developer needs) and its type,
  but not its message, which can quote a database row ("Key (mrn)=(...) already exists")
  or what a user typed. Connection errors keep theirs: they name hosts and ports only.

Gunicorn's access and error lines get the same treatment through GunicornLogger. PostgreSQL's
own log is kept free of statements and their values by the server's settings (devstack,
docker-compose.yml); tests/conftest.py reads all of these logs after every test run.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from gunicorn.glogging import Logger as _GunicornBaseLogger

UUID = re.compile(
    r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"
)
QUERY = re.compile(r"(/[^\s?\"']*)\?[^\s\"']*")
REQUEST_LINE = re.compile(r"^(?P<method>[A-Z]+) (?P<target>\S+)(?P<rest>.*)$", re.S)


def redact_text(text: str) -> str:
    return QUERY.sub(r"\1?…", UUID.sub("<id>", text))


def describe_path(path: str) -> str:
    """The route a path matches, with no value from the path itself."""
    from django.urls import Resolver404, resolve

    path = path.split("?", 1)[0]
    try:
        return "/" + resolve(path).route
    except Resolver404:
        return "<path matching no route>"
    except Exception:  # settings not ready, a broken URLconf: still never the raw path
        return redact_text(path)


def _safe_message_types() -> tuple[type[BaseException], ...]:
    """Exceptions whose message names only hosts, ports and files, never data."""
    types: list[type[BaseException]] = [OSError]
    try:
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError

        types += [RedisConnectionError, RedisTimeoutError]
    except ImportError:  # pragma: no cover - redis is a dependency
        pass
    try:
        from kombu.exceptions import OperationalError as BrokerError

        types.append(BrokerError)
    except ImportError:  # pragma: no cover - kombu is a dependency
        pass
    try:
        from billiard.exceptions import WorkerLostError  # "Worker exited prematurely: signal 9"

        types.append(WorkerLostError)
    except ImportError:  # pragma: no cover - billiard comes with Celery
        pass
    return tuple(types)


def describe_exception(exc: BaseException) -> str:
    name = f"{type(exc).__module__}.{type(exc).__qualname__}".removeprefix("builtins.")
    if isinstance(exc, _safe_message_types()):
        return redact_text(f"{name}: {exc}")
    inner = getattr(exc, "exc", None)  # Celery's Retry carries the exception it retries after
    if isinstance(inner, BaseException) and inner is not exc:
        return f"{name} after {describe_exception(inner)}"
    return f"{name} (message withheld: it may quote patient data)"


def format_exception(exc: BaseException, tb: TracebackType | None) -> str:
    """A traceback like Python's, each exception in the chain named but not quoted."""
    chain: list[tuple[BaseException, TracebackType | None, str]] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    current_tb, link = tb, ""
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append((current, current_tb, link))
        if current.__cause__ is not None:
            link = "The above exception was the direct cause of the following exception:"
            current = current.__cause__
        elif current.__context__ is not None and not current.__suppress_context__:
            link = "During handling of the above exception, another exception occurred:"
            current = current.__context__
        else:
            current = None
        current_tb = current.__traceback__ if current is not None else None
    parts: list[str] = []
    for index, (each, each_tb, _) in enumerate(reversed(chain)):
        if index:
            parts.append("\n" + chain[len(chain) - index][2] + "\n\n")
        parts.append("Traceback (most recent call last):\n")
        parts.extend(traceback.format_tb(each_tb))
        parts.append(describe_exception(each))
    return "".join(parts)


def _safe_arg(value: Any) -> Any:
    if isinstance(value, BaseException):
        return describe_exception(value)
    return value


class RedactingFilter(logging.Filter):
    """Rewrites each record in place, so whatever handler or formatter follows sees only the
    redacted text. Never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_myelin_redacted", False):
            return True
        args = record.args
        if isinstance(args, Mapping):  # Celery's task lines pass a dict, with the exception
            record.args = {key: _safe_arg(value) for key, value in args.items()}
        elif isinstance(args, tuple):
            record.args = tuple(self._arg(record, value) for value in args)
        try:
            message = record.getMessage()
        except Exception:
            message = str(record.msg)
        record.msg, record.args = redact_text(message), ()
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = format_exception(record.exc_info[1], record.exc_info[2])
            record.exc_info = None  # no handler may format the original message again
        if hasattr(record, "request"):
            vars(record)["request"] = None  # Django's extra: the path, the query, the form
        vars(record)["_myelin_redacted"] = True
        return True

    @staticmethod
    def _arg(record: logging.LogRecord, value: Any) -> Any:
        if isinstance(value, str):
            if record.name == "django.server":  # '"GET /path?x HTTP/1.1" 200 512'
                line = REQUEST_LINE.match(value)
                if line:
                    target = describe_path(line["target"])
                    return f"{line['method']} {target}{line['rest']}"
            if value.startswith("/") and record.name.startswith(("django.", "gunicorn.")):
                return describe_path(value)  # django.request's, django.security's, gunicorn's
            return value
        return _safe_arg(value)


class GunicornLogger(_GunicornBaseLogger):
    """Gunicorn's logger with routes instead of paths, no query strings and no referrers in the
    access log, and the redacting filter on every line (`--logger-class`)."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.addFilter(RedactingFilter())

    def atoms(self, resp: Any, req: Any, environ: Mapping[str, Any], request_time: Any) -> Any:
        atoms = super().atoms(resp, req, environ, request_time)
        route = describe_path(environ.get("PATH_INFO") or "/")
        atoms["U"] = route
        atoms["r"] = f"{environ.get('REQUEST_METHOD')} {route} {environ.get('SERVER_PROTOCOL')}"
        atoms["q"] = ""
        atoms["f"] = "-"
        return atoms
