"""Protocol <-> JSON-ready dict, for storing protocol versions in a JSON column.

``protocol_to_dict`` returns only JSON types (dates as ISO strings, tuples as lists, enums as
their values), so ``json.dumps`` works without a custom encoder; ``protocol_from_dict`` rebuilds
an equal ``Protocol`` from that dict (or from ``json.loads`` of it).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import date
from enum import Enum
from functools import cache
from typing import Any

from .schema import Protocol

JsonValue = None | bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"]


def to_jsonable(value: Any) -> JsonValue:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(f"Cannot serialise {type(value).__name__}: {value!r}")


def protocol_to_dict(protocol: Protocol) -> dict[str, Any]:
    data = to_jsonable(protocol)
    assert isinstance(data, dict)
    return data


def protocol_from_dict(data: dict[str, Any]) -> Protocol:
    protocol = _decode(Protocol, data)
    assert isinstance(protocol, Protocol)
    return protocol


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _decode(tp: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(options) == 1:
            return _decode(options[0], value)
        # Unions of scalars (e.g. a threshold that is a number or a genotype string).
        for option in options:
            # An int is a valid float (PEP 484), kept as int so the round trip is exact.
            accepted = (int, float) if option is float else option
            if isinstance(value, accepted) and not isinstance(value, bool):
                return value
        raise TypeError(f"{value!r} does not match {tp}")
    if origin is tuple:
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], v) for v in value)
        return tuple(_decode(a, v) for a, v in zip(args, value, strict=True))
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        hints = _hints(tp)
        known = {f.name for f in dataclasses.fields(tp)}
        unknown = set(value) - known
        if unknown:
            raise ValueError(f"Unknown fields for {tp.__name__}: {sorted(unknown)}")
        return tp(**{name: _decode(hints[name], v) for name, v in value.items()})
    if isinstance(tp, type) and issubclass(tp, Enum):
        return tp(value)
    if tp is date:
        return date.fromisoformat(value)
    if tp is float and isinstance(value, int):
        return float(value)
    return value
