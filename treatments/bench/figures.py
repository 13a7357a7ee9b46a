"""The figures a bench run collects: each a value, its unit, and its target if it has one."""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass
class Figure:
    name: str
    value: float | str
    unit: str
    target: str = ""
    met: bool | None = None

    def json(self) -> str:
        return json.dumps(
            {
                "figure": self.name,
                "value": self.value,
                "unit": self.unit,
                "target": self.target,
                "met": self.met,
            }
        )


FIGURES: list[Figure] = []


def figure(
    name: str, value: float | str, unit: str, target: str = "", met: bool | None = None
) -> None:
    FIGURES.append(
        Figure(name, round(value, 2) if isinstance(value, float) else value, unit, target, met)
    )


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


__all__ = ["FIGURES", "Figure", "figure", "percentile"]
