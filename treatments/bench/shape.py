"""The shape of a generated clinic and the records the generator passes between its steps."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.utils import timezone

BATCH = 20_000


@dataclass(frozen=True)
class ClinicShape:
    patients: int
    seed: int = 1
    neurologists_per_team: int = 4
    nurses_per_team: int = 3
    therapists_per_team: int = 2
    caseload: int = 100  # patients per neurologist on the large teams
    small_caseload: int = 10  # one small team whose neurologists have this many each
    today: date = field(default_factory=timezone.localdate)

    def marker(self) -> dict[str, Any]:
        return {
            "patients": self.patients,
            "seed": self.seed,
            "clinicians_per_team": [
                self.neurologists_per_team,
                self.nurses_per_team,
                self.therapists_per_team,
            ],
            "caseload": self.caseload,
            "small_caseload": self.small_caseload,
            "today": self.today.isoformat(),
        }


@dataclass
class Counts:
    rows: dict[str, int] = field(default_factory=dict)

    def add(self, table: str, n: int) -> None:
        self.rows[table] = self.rows.get(table, 0) + n


class GenerationRefused(Exception):
    pass


@dataclass
class Staff:
    neurologists: dict[int, list[int]] = field(default_factory=dict)  # team id -> user ids
    nurses: dict[int, list[int]] = field(default_factory=dict)
    therapists: dict[int, list[tuple[int, str]]] = field(default_factory=dict)


@dataclass
class GenPatient:
    id: int
    team_id: int
    neurologist_id: int
    nurse_id: int
    female: bool
    diagnosis_on: date
    course: str


@dataclass
class GenPlan:
    id: int
    patient: GenPatient
    drug_key: str
    started_on: date
    stopped_on: date | None
    conditions: list[str]
    administrations: list[tuple[str, date]]
