"""The label rules that are gates, judged for one proposed start, dose, course or infusion.

These are the rules that no single result decides: they read the plan's history, the patient's
record and the dose being given. Each returns an `UnmetGate` naming its rule, the value found,
what is needed and the source, all from the catalogue (`treatments.protocols.drugs`).
`treatments.plans.gates.unmet_gates` puts them together with the dose gates and the baseline
checklist.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from treatments.models import DmtPlan


@dataclass(frozen=True)
class UnmetGate:
    key: str
    """Stable within a protocol: names the gate in its override row."""
    rule: str
    found: str
    needed: str
    source: str
    verify_note: str = ""
    investigation: str = ""
    """A check that is missing (not failed): overridden at the start, it stays open to chase."""

    @property
    def message(self) -> str:
        return f"{self.rule} — found: {self.found}; needed: {self.needed}. Source: {self.source}."


def label_gates_unmet(
    *,
    plan: DmtPlan,
    kind: str,
    given_on: date,
    earlier: Sequence[tuple[str, date]],
    contraception_confirmed: bool = False,
) -> list[UnmetGate]:
    """The label rules the proposed action does not meet. `earlier` holds the plan's
    administrations (kind, date) before `given_on`."""
    return []
