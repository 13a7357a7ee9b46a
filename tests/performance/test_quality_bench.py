"""The bench's quality-dashboard figure (`make bench`), run on a small generated clinic: the
code path the full bench takes, with its 500 ms p95 target."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from treatments.bench import figures as collected
from treatments.bench import run


def test_the_bench_times_the_quality_dashboard_for_the_clinic_and_a_team(
    generated_clinic: Callable[..., None], monkeypatch: pytest.MonkeyPatch
) -> None:
    generated_clinic(patients=40, caseload=10)
    monkeypatch.setattr(run, "REPEAT", 3)
    monkeypatch.setattr(collected, "FIGURES", [])
    run.quality()
    figures = {f.name: f for f in collected.FIGURES}
    for scope in ("whole clinic", "one team"):
        p95 = figures[f"quality dashboard, {scope} p95"]
        assert p95.unit == "ms"
        assert p95.target == "<= 500 ms"
        assert p95.met is (float(p95.value) <= 500)
        assert float(figures[f"quality dashboard, {scope} queries"].value) > 0
    run.quality()  # a second run finds the admin it created
